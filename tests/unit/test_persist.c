/* What a guest reset keeps (issue 9, defect 2): the VM is rebuilt, but its
 * devices get the same host side back from the persist table: the chardev
 * (a log appended to, not reopened), the RTC's NVRAM and clock, a disk's
 * open image and its failed-flush state. Each case creates a device,
 * frees it as a VM teardown does, and creates it again. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "backends/block.h"
#include "backends/chardev.h"
#include "core/persist.h"
#include "devices/dev_chardev.h"
#include "devices/device.h"
#include "devices/registry.h"
#include "event/loop.h"
#include "virtio/blk_priv.h"
#include "test_virtq_helpers.h"

static int freed;

static void count_free(void *obj)
{
	freed++;
}

static void test_table(void **state)
{
	struct persist *p = persist_new();
	int a, b;

	freed = 0;
	assert_null(persist_get(p, &a, PERSIST_CHARDEV));
	assert_int_equal(persist_put(p, &a, PERSIST_CHARDEV, &b, count_free),
			 0);
	assert_ptr_equal(persist_get(p, &a, PERSIST_CHARDEV), &b);
	assert_null(persist_get(p, &a, PERSIST_RTC));
	assert_null(persist_get(p, &b, PERSIST_CHARDEV));
	assert_null(persist_get(NULL, &a, PERSIST_CHARDEV));
	persist_free(p);
	assert_int_equal(freed, 1);
}

/* Two VMs' worth of a UART's chardev: one open, one log. */
static void test_chardev_kept(void **state)
{
	char path[64], buf[64] = { 0 };
	struct vdev_config vc = { .nr_hostdevs = 1 };
	struct persist *p = persist_new();
	struct event_loop *l1 = event_loop_new(), *l2 = event_loop_new();
	struct dev_env env = { .loop = l1, .persist = p };
	struct chardev *c1, *c2;
	int fd;

	snprintf(path, sizeof(path), "/tmp/cvisor-persist-%d", getpid());
	vc.hostdevs[0] = (struct cfg_hostdev){ .dir = HOSTDEV_OUT,
					       .path = path };
	c1 = dev_chardev_get(&env, &vc);
	assert_non_null(c1);
	assert_int_equal(chardev_write(c1, "before ", 7), 7);
	event_loop_poll(l1, 0);
	chardev_put(c1);                /* the first VM's device is freed */
	event_loop_free(l1);
	env.loop = l2;
	c2 = dev_chardev_get(&env, &vc);
	assert_ptr_equal(c2, c1);
	assert_int_equal(chardev_write(c2, "after", 5), 5);
	event_loop_poll(l2, 0);
	chardev_put(c2);
	persist_free(p);                /* closes it */
	event_loop_free(l2);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "before after");
	close(fd);
	unlink(path);
}

static struct device *make_rtc(struct dev_env *env)
{
	static struct vdev_config vc = { .type = &mc146818_type, .nr_locs = 1,
					 .nr_intrs = 1 };
	struct device *d = NULL;

	vc.locs[0].addr = 0x70;
	vc.intrs[0].line = 8;
	assert_int_equal(mc146818_type.create(&vc, env, &d), 0);
	return d;
}

static void rtc_wr(struct device *d, uint8_t idx, uint8_t v)
{
	d->ops->write(d, 0, 0, 1, idx);
	d->ops->write(d, 0, 1, 1, v);
}

static uint8_t rtc_rd(struct device *d, uint8_t idx)
{
	d->ops->write(d, 0, 0, 1, idx);
	return d->ops->read(d, 0, 1, 1);
}

/* NVRAM and the year the guest set survive; without the table they do
 * not (a fresh RTC). */
static void test_rtc_kept(void **state)
{
	struct dev_env env = { .persist = persist_new() };
	struct device *d = make_rtc(&env);

	rtc_wr(d, 0x50, 0xa5);
	rtc_wr(d, 0x0b, 0x82);          /* SET: stop the clock */
	rtc_wr(d, 0x09, 0x42);          /* year 42 (BCD) */
	rtc_wr(d, 0x0b, 0x02);
	d->ops->free(d);
	d = make_rtc(&env);
	assert_int_equal(rtc_rd(d, 0x50), 0xa5);
	assert_int_equal(rtc_rd(d, 0x09), 0x42);
	d->ops->free(d);
	persist_free(env.persist);
	env.persist = NULL;
	d = make_rtc(&env);
	assert_int_equal(rtc_rd(d, 0x50), 0);
	d->ops->free(d);
}

/* The image stays open (the path may be gone, as in a chroot) and a
 * failed flush stays failed. */
static void test_disk_kept(void **state)
{
	char path[64];
	struct fake_vm vm;
	struct blk_kept k = { .fd = -1 };
	struct virtio_blk_params p = { .path = path, .nr_queues = 1,
				       .kept = &k };
	struct virtio_blk *blk;
	int fd;

	fake_vm_init(&vm, 64);
	snprintf(path, sizeof(path), "/tmp/cvisor-persist-disk-%d", getpid());
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	blk = virtio_blk_new(&p, &vm.mem, NULL);
	assert_non_null(blk);
	assert_true(k.fd >= 0);
	blk_backend_set_flush_failed(blk->be);
	virtio_blk_free(blk);
	assert_true(k.flush_failed);
	unlink(path);
	blk = virtio_blk_new(&p, &vm.mem, NULL);
	assert_non_null(blk);
	assert_true(blk_backend_flush_failed(blk->be));
	virtio_blk_free(blk);
	close(k.fd);
	p.kept = NULL;
	assert_null(virtio_blk_new(&p, &vm.mem, NULL));   /* really gone */
	fake_vm_free(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_chardev_kept),
		cmocka_unit_test(test_rtc_kept),
		cmocka_unit_test(test_disk_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
