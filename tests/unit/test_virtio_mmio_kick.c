/* virtio-mmio notifications and the vdev glue: ioeventfd registration
 * when a queue becomes ready and removal when it stops, kicks (through
 * KVM's eventfd or through an exit) processed on the event loop and not
 * on the vCPU thread, the interrupt level under a concurrent loop thread,
 * and virtio_vdev_create()'s choice of transport. */
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "test_virtio_mmio.h"
#include "devices/registry.h"
#include "virtio/vdev.h"

#define NOTIFY_GPA (MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY)

static int setup_loop(void **state)
{
	struct fix *f = fix_new();

	f->env.loop = event_loop_new();
	assert_non_null(f->env.loop);
	f->env.ioeventfd = fake_ioeventfd;
	*state = f;
	return 0;
}

static void assert_io(const struct io_reg *r, bool assign, unsigned q)
{
	assert_int_equal(r->addr, NOTIFY_GPA);
	assert_int_equal(r->len, 4);
	assert_true(r->datamatch);
	assert_int_equal(r->match, q);
	assert_int_equal(r->assign, assign);
	assert_true(r->fd >= 0);
}

/* A handler that spent its budget asks the transport to run it again:
 * the queue's kick eventfd is signalled and the loop calls it on its
 * next round; with no event loop, the transport says no. */
static void test_requeue(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	drv_bring_up(f);
	drv_post(f, 16);
	assert_true(virtio_queue_requeue(&f->toy->vdev, 0));
	assert_int_equal(f->toy->kicks, 0);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
	assert_int_equal(f->toy->kicks, 1);
	assert_true(pthread_equal(f->toy->notify_thread, pthread_self()));
	assert_int_equal(get_used_idx(&f->vm), 1);
	assert_false(virtio_queue_requeue(&f->toy->vdev, TOY_QUEUES));
}

static void test_requeue_no_loop(void **state)
{
	struct fix *f = fix_new();

	*state = f;
	fix_place(f);
	drv_bring_up(f);
	assert_false(virtio_queue_requeue(&f->toy->vdev, 0));
}

static void test_ioeventfd_lifecycle(void **state)
{
	struct fix *f = *state;
	int fd;

	fix_place(f);
	assert_int_equal(f->nr_io, 0);          /* nothing until ready */
	drv_bring_up(f);
	assert_int_equal(f->nr_io, 1);
	assert_io(&f->io[0], true, 0);
	fd = f->io[0].fd;
	/* the guest kicks: KVM signals the eventfd, no exit */
	drv_post(f, 16);
	assert_int_equal(eventfd_write(fd, 1), 0);
	assert_int_equal(f->toy->kicks, 0);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->vm), 1);
	assert_int_equal(f->level, 1);
	/* QueueReady 0 removes it with the same arguments; ready again
	 * registers the same eventfd */
	w32(f, VIRTIO_MMIO_QUEUE_SEL, 0);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(f->nr_io, 2);
	assert_io(&f->io[1], false, 0);
	assert_int_equal(f->io[1].fd, fd);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 1);     /* twice is once */
	assert_int_equal(f->nr_io, 3);
	assert_io(&f->io[2], true, 0);
	assert_int_equal(f->io[2].fd, fd);
	/* reset removes it */
	w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->nr_io, 4);
	assert_io(&f->io[3], false, 0);
	w32(f, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(f->nr_io, 4);
	/* a second queue gets its own eventfd and match value */
	drv_negotiate(f);
	drv_queue(f, 1, 16);
	assert_int_equal(f->nr_io, 5);
	assert_io(&f->io[4], true, 1);
	assert_true(f->io[4].fd != fd);
	/* free removes what is registered and releases the device */
	fix_free_dev(f);
	assert_int_equal(f->nr_io, 6);
	assert_io(&f->io[5], false, 1);
	assert_int_equal(f->released, 1);
}

/* Kicks that exit (no ioeventfd, or KVM refused it) still run on the
 * loop, not on the vCPU thread that took the exit. */
static void exit_path(struct fix *f)
{
	fix_place(f);
	drv_bring_up(f);
	drv_post(f, 16);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(f->toy->kicks, 0);
	assert_int_equal(get_used_idx(&f->vm), 0);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->vm), 1);
	assert_int_equal(f->level, 1);
}

static void test_exit_path_ioeventfd_refused(void **state)
{
	struct fix *f = *state;

	f->io_rc = -ENOSPC;
	exit_path(f);
	assert_int_equal(f->nr_io, 1);
	/* nothing was registered, so nothing is removed */
	fix_free_dev(f);
	assert_int_equal(f->nr_io, 1);
}

static void test_exit_path_no_hook(void **state)
{
	struct fix *f = *state;

	f->env.ioeventfd = NULL;
	exit_path(f);
	assert_int_equal(f->nr_io, 0);
}

/* No eventfd could be made for the queue (descriptors exhausted): an
 * exiting kick is still handed to the loop, never run on the vCPU thread
 * (a net backend is not safe there). It ran here before. */
static void test_exit_path_no_eventfd(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	unit_cap_fds();
	drv_bring_up(f);
	drv_post(f, 16);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	unit_uncap_fds();
	assert_int_equal(f->nr_io, 0);            /* no eventfd to register */
	assert_int_equal(f->toy->kicks, 0);
	assert_int_equal(get_used_idx(&f->vm), 0);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
	assert_int_equal(f->toy->kicks, 1);       /* two kicks, one call */
	assert_int_equal(get_used_idx(&f->vm), 1);
	/* a spent budget comes back the same way */
	assert_true(virtio_queue_requeue(&f->toy->vdev, 0));
	assert_int_equal(f->toy->kicks, 1);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
	assert_int_equal(f->toy->kicks, 2);
	/* a queue never made ready is not requeued */
	assert_false(virtio_queue_requeue(&f->toy->vdev, 1));
	/* a kick of a queue that does not exist is refused before */
	w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, TOY_QUEUES);
	assert_int_equal(event_loop_poll(f->env.loop, 0), 0);
}

static bool wait_used(struct fix *f, uint16_t idx)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(used_word(&f->vm, 1), __ATOMIC_ACQUIRE) ==
		    htole16(idx))
			return true;
		usleep(1000);
	}
	return false;
}

/* With the loop on its own thread, as in a VM: requests complete there,
 * and the vCPU's acks never leave the line low with a bit pending. */
static void test_loop_thread(void **state)
{
	struct fix *f = *state;
	unsigned n = 300;

	fix_place(f);
	drv_bring_up(f);
	assert_int_equal(event_loop_start(f->env.loop), 0);
	for (unsigned i = 0; i < n; i++) {
		drv_post(f, 16);
		if (i & 1)
			w32(f, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		else
			assert_int_equal(eventfd_write(f->io[0].fd, 1), 0);
		assert_true(wait_used(f, (uint16_t)(i + 1)));
		w32(f, VIRTIO_MMIO_INTERRUPT_ACK,
		    r32(f, VIRTIO_MMIO_INTERRUPT_STATUS));
	}
	event_loop_stop(f->env.loop);
	assert_false(pthread_equal(f->toy->notify_thread, pthread_self()));
	assert_int_equal(f->level, r32(f, VIRTIO_MMIO_INTERRUPT_STATUS) != 0);
	assert_true(f->toy->kicks >= 1 && f->toy->kicks <= n);
}

/* --- virtio_vdev_create --- */

static void glue_vc(struct vdev_config *vc)
{
	memset(vc, 0, sizeof(*vc));
	vc->type = vdev_type_find("virtio-rng");
	assert_non_null(vc->type);
	vc->pos = (struct cfg_pos){ .file = "test.qvmconf", .line = 3,
				    .col = 1 };
	vc->locs[0] = (struct cfg_loc){ .space = LOC_MEM, .addr = MMIO_BASE };
	vc->nr_locs = 1;
	snprintf(vc->intrs[0].pic, sizeof(vc->intrs[0].pic), "ioapic");
	vc->intrs[0].line = MMIO_GSI;
	vc->nr_intrs = 1;
}

static int glue(struct fix *f, const struct vdev_config *vc)
{
	f->toy = toy_new(f);
	return virtio_vdev_create(vc, &f->env, &f->toy->vdev, toy_release,
				  &f->dev);
}

static void test_glue_refusals(void **state)
{
	struct fix *f = *state;
	struct vdev_config vc;

	glue_vc(&vc);
	vc.on_pci = true;                       /* PCI, but on a bus that */
	vc.nr_intrs = 0;                        /* does not exist */
	vc.locs[0] = (struct cfg_loc){ .space = LOC_PCI, .bus = 1, .dev = 2 };
	assert_int_equal(glue(f, &vc), -EINVAL);
	assert_int_equal(f->released, 1);
	glue_vc(&vc);
	vc.opts[0] = (struct cfg_devopt){ .key = "legacy" };
	vc.nr_opts = 1;
	assert_int_equal(glue(f, &vc), -EINVAL);   /* a config refusal */
	assert_int_equal(f->released, 2);
	glue_vc(&vc);
	vc.locs[0].has_len = true;
	vc.locs[0].len = 0x100;                 /* registers would not fit */
	assert_int_equal(glue(f, &vc), -EINVAL);
	assert_int_equal(f->released, 3);
	glue_vc(&vc);
	vc.nr_intrs = 0;
	assert_int_equal(glue(f, &vc), -EINVAL);
	assert_int_equal(f->released, 4);
	glue_vc(&vc);
	vc.locs[0].space = LOC_IO;
	assert_int_equal(glue(f, &vc), -EINVAL);
	assert_int_equal(f->released, 5);
	assert_null(f->dev);
}

static void test_glue_mmio(void **state)
{
	struct fix *f = *state;
	struct vdev_config vc;

	glue_vc(&vc);
	assert_int_equal(glue(f, &vc), 0);
	assert_int_equal(f->dev->regions[0].space, BUS_MMIO);
	assert_int_equal(f->dev->regions[0].base, MMIO_BASE);
	assert_int_equal(f->dev->regions[0].len, VIRTIO_MMIO_REGION_LEN);
	fix_free_dev(f);
	assert_int_equal(f->released, 1);
	/* a larger loc decodes all of it; interrupts use the intr line */
	vc.locs[0].has_len = true;
	vc.locs[0].len = 0x1000;
	assert_int_equal(glue(f, &vc), 0);
	assert_int_equal(f->dev->regions[0].len, 0x1000);
	assert_int_equal(bus_register(&f->bus, MMIO_BASE, 0x1000, f->dev, 0),
			 0);
	assert_int_equal(r32(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(r32(f, 0xffc), 0);
	drv_bring_up(f);
	drv_post(f, 16);
	assert_int_equal(eventfd_write(f->io[0].fd, 1), 0);
	assert_true(event_loop_poll(f->env.loop, 1000) > 0);
	assert_int_equal(f->level, 1);          /* fake_irq_set checks gsi */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_loop, fix_teardown)
		T(test_ioeventfd_lifecycle),
		T(test_exit_path_ioeventfd_refused),
		T(test_exit_path_no_hook),
		T(test_exit_path_no_eventfd),
		T(test_loop_thread),
		T(test_glue_refusals),
		T(test_glue_mmio),
		T(test_requeue),
#undef T
		cmocka_unit_test_teardown(test_requeue_no_loop, fix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
