/* virtio-console through the virtio core API, with a FIFO for input and
 * a file for output: guest output reaches the file, host input reaches
 * the guest's receive buffers (flow-controlled), and an echo round trip. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "backends/chardev.h"
#include "test_vdev_helpers.h"

/* Constructors from src/virtio/console.c. */
struct virtio_dev *virtio_console_new(struct guest_mem *mem,
				      struct chardev *cd);
void virtio_console_release(struct virtio_dev *d);

struct fix {
	struct fake_vm vm;
	struct event_loop *loop;
	struct virtio_dev *d;
	struct irq_count irqs;
	struct tv_queue rxq, txq;
	char in_path[64], out_path[64];
	int in_w;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct cfg_hostdev hd[2];
	struct chardev *cd;

	fake_vm_init(&f->vm, TEST_QSIZE);
	f->loop = event_loop_new();
	snprintf(f->in_path, sizeof(f->in_path), "/tmp/cvisor-vcin-%d",
		 getpid());
	snprintf(f->out_path, sizeof(f->out_path), "/tmp/cvisor-vcout-%d",
		 getpid());
	unlink(f->in_path);
	assert_int_equal(mkfifo(f->in_path, 0600), 0);
	f->in_w = open(f->in_path, O_RDWR);
	hd[0] = (struct cfg_hostdev){ .dir = HOSTDEV_IN, .path = f->in_path };
	hd[1] = (struct cfg_hostdev){ .dir = HOSTDEV_OUT,
				      .path = f->out_path };
	cd = chardev_open(hd, 2, f->loop);
	assert_non_null(cd);
	f->d = virtio_console_new(&f->vm.mem, cd);
	assert_non_null(f->d);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, 2, 0);
	f->rxq.q = 0;
	f->txq.q = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	virtio_console_release(f->d);
	event_loop_free(f->loop);
	fake_vm_free(&f->vm);
	close(f->in_w);
	unlink(f->in_path);
	unlink(f->out_path);
	free(f);
	return 0;
}

/* Output is written by the event loop (chardev_out.c): one round runs
 * the queued flush, whose write to a regular file completes at once. */
static size_t read_out(struct fix *f, char *buf, size_t len)
{
	int fd;

	event_loop_poll(f->loop, 0);
	fd = open(f->out_path, O_RDONLY);
	ssize_t n = read(fd, buf, len);

	close(fd);
	return n < 0 ? 0 : (size_t)n;
}

static void guest_send(struct fix *f, const char *s, uint64_t gpa)
{
	struct seg sg = { gpa, (uint32_t)strlen(s), false };

	memcpy(gpa_host(&f->vm, gpa), s, strlen(s));
	tv_chain(&f->vm, &f->txq, &sg, 1);
	virtio_queue_notify(f->d, 1);
}

static void guest_post_rx(struct fix *f, uint64_t gpa, uint32_t len)
{
	struct seg sg = { gpa, len, true };

	tv_chain(&f->vm, &f->rxq, &sg, 1);
	virtio_queue_notify(f->d, 0);
}

static void test_config(void **state)
{
	struct fix *f = *state;

	assert_int_equal(f->d->device_id, 3);
	assert_int_equal(virtio_dev_config_read(f->d, 0, 2), 0);   /* cols */
	assert_int_equal(virtio_dev_config_read(f->d, 2, 2), 0);   /* rows */
	assert_int_equal(virtio_dev_device_features(f->d, 0) & 7, 0);
}

static void test_transmit(void **state)
{
	struct fix *f = *state;
	char buf[64] = { 0 };

	guest_send(f, "hello, ", BUF_GPA);
	guest_send(f, "host\n", BUF_GPA + 0x100);
	assert_int_equal(tv_used_idx(&f->vm, &f->txq), 2);
	assert_int_equal(read_out(f, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "hello, host\n");
}

static void test_receive_flow_control(void **state)
{
	struct fix *f = *state;

	assert_int_equal(write(f->in_w, "abcdef", 6), 6);
	for (int i = 0; i < 5; i++)
		event_loop_poll(f->loop, 10);
	/* no buffer yet: the input waits in the chardev */
	assert_int_equal(tv_used_idx(&f->vm, &f->rxq), 0);
	guest_post_rx(f, BUF_GPA, 4);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->rxq, 1));
	assert_int_equal(tv_used_elem(&f->vm, &f->rxq, 0).len, 4);
	assert_memory_equal(gpa_host(&f->vm, BUF_GPA), "abcd", 4);
	guest_post_rx(f, BUF_GPA + 0x100, 64);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->rxq, 2));
	assert_int_equal(tv_used_elem(&f->vm, &f->rxq, 1).len, 2);
	assert_memory_equal(gpa_host(&f->vm, BUF_GPA + 0x100), "ef", 2);
}

/* Guest writes a line, the "host" sends it back, the guest reads it. */
static void test_echo(void **state)
{
	struct fix *f = *state;
	char buf[64] = { 0 };
	size_t n;

	guest_post_rx(f, BUF_GPA + 0x1000, 64);
	guest_send(f, "ping 42\n", BUF_GPA);
	n = read_out(f, buf, sizeof(buf));
	assert_int_equal(n, 8);
	assert_int_equal(write(f->in_w, buf, n), (ssize_t)n);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->rxq, 1));
	assert_int_equal(tv_used_elem(&f->vm, &f->rxq, 0).len, 8);
	assert_memory_equal(gpa_host(&f->vm, BUF_GPA + 0x1000), "ping 42\n",
			    8);
	assert_true(f->irqs.used >= 2);
}

/* Receive buffers with nothing writable go back, at most 32 per call;
 * the rest waits for the handler's next round (it asked for one): a
 * guest reposting them from another vCPU kept the loop in one call for
 * ever (here all 40 went, and the good one, at once). */
static void test_receive_useless_buffers_bounded(void **state)
{
	struct fix *f = *state;
	struct seg ro = { BUF_GPA, 16, false };

	tv_attach_requeue(f->d, &f->irqs);
	for (unsigned i = 0; i < 40; i++)
		tv_chain(&f->vm, &f->rxq, &ro, 1);
	guest_post_rx(f, BUF_GPA + 0x100, 16);
	assert_int_equal(write(f->in_w, "xy", 2), 2);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->rxq, 32));
	assert_int_equal(tv_used_idx(&f->vm, &f->rxq), 32);
	assert_int_equal(f->irqs.requeues, 1);
	virtio_queue_notify(f->d, 0);           /* the handler's next round */
	assert_true(tv_wait_used(f->loop, &f->vm, &f->rxq, 41));
	assert_int_equal(tv_used_elem(&f->vm, &f->rxq, 40).len, 2);
	assert_memory_equal(gpa_host(&f->vm, BUF_GPA + 0x100), "xy", 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_transmit),
		T(test_receive_flow_control),
		T(test_echo),
		T(test_receive_useless_buffers_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
