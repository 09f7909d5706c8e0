/* virtio-pci notifications and interrupts: ioeventfd registration at the
 * queue's notify address (and its removal), kicks through KVM's eventfd or
 * an exit processed on the event loop, ioeventfds that follow BAR4 when
 * the guest moves it or turns decoding off, MSI-X delivery through irqfds
 * and through the slow path, and virtio_vdev_create()'s PCI branch. */
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test_virtio_pci.h"
#include "devices/registry.h"
#include "virtio/vdev.h"

static int setup_loop(void **state)
{
	*state = fix_new(false, true);
	return 0;
}

static int setup_irqfd(void **state)
{
	*state = fix_new(true, false);
	return 0;
}

static int setup_plain(void **state)
{
	*state = fix_new(false, false);
	return 0;
}

static uint64_t notify_gpa(struct fix *f, unsigned q)
{
	return f->bar4 + VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q;
}

static void assert_io(struct fix *f, unsigned i, bool assign, unsigned q,
		      uint64_t addr)
{
	const struct io_reg *r = &f->io[i];

	assert_true(i < f->nr_io);
	assert_int_equal(r->addr, addr);
	assert_int_equal(r->len, 2);
	assert_true(r->datamatch);
	assert_int_equal(r->match, q);
	assert_int_equal(r->assign, assign);
	assert_true(r->fd >= 0);
}

static void poll_once(struct fix *f)
{
	assert_true(event_loop_poll(f->pv.env.loop, 1000) > 0);
}

/* A handler that spent its budget asks the transport to run it again:
 * the queue's kick eventfd is signalled and the loop calls it on its
 * next round; without an event loop the transport says no. */
static void test_requeue(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	drv_bring_up(f);
	drv_post(f, 16);
	assert_true(virtio_queue_requeue(&f->toy->vdev, 0));
	assert_int_equal(f->toy->kicks, 0);
	poll_once(f);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->gm), 1);
	/* queue 1 was never enabled: no eventfd yet */
	assert_false(virtio_queue_requeue(&f->toy->vdev, 1));
}

static void test_requeue_no_loop(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	drv_bring_up(f);
	assert_false(virtio_queue_requeue(&f->toy->vdev, 0));
}

static void test_ioeventfd_lifecycle(void **state)
{
	struct fix *f = *state;
	int fd;

	fix_place(f);
	assert_int_equal(f->nr_io, 0);          /* nothing until enabled */
	drv_bring_up(f);
	assert_int_equal(f->nr_io, 1);
	assert_io(f, 0, true, 0, notify_gpa(f, 0));
	fd = f->io[0].fd;
	/* KVM signals the eventfd: the loop runs the queue */
	drv_post(f, 16);
	assert_int_equal(eventfd_write(fd, 1), 0);
	assert_int_equal(f->toy->kicks, 0);
	poll_once(f);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->gm), 1);
	assert_int_equal(intx_level(f), 1);
	/* a notify that exits goes to the same eventfd, not the vCPU */
	drv_post(f, 16);
	notify(f, 0);
	assert_int_equal(f->toy->kicks, 1);
	poll_once(f);
	assert_int_equal(f->toy->kicks, 2);
	assert_int_equal(get_used_idx(&f->gm), 2);
	/* enabling twice registers once */
	c_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	assert_int_equal(f->nr_io, 1);
	/* reset removes it with the same arguments */
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, 0);
	assert_int_equal(f->nr_io, 2);
	assert_io(f, 1, false, 0, notify_gpa(f, 0));
	assert_int_equal(f->io[1].fd, fd);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, 0);
	assert_int_equal(f->nr_io, 2);
	/* queue 1: its own slot, eventfd and match value; queue 0 again
	 * reuses its eventfd */
	drv_negotiate(f);
	drv_queue(f, 1, 16);
	assert_int_equal(f->nr_io, 3);
	assert_io(f, 2, true, 1, notify_gpa(f, 1));
	assert_true(f->io[2].fd != fd);
	drv_queue(f, 0, 16);
	assert_io(f, 3, true, 0, notify_gpa(f, 0));
	assert_int_equal(f->io[3].fd, fd);
	/* free removes what is registered and releases the device */
	fix_free_dev(f);
	assert_int_equal(f->nr_io, 6);
	assert_io(f, 4, false, 0, f->io[3].addr);
	assert_io(f, 5, false, 1, f->io[2].addr);
	assert_int_equal(f->released, 1);
}

/* Replay the registration log: where queue q's eventfd is registered
 * now (0 when nowhere). Every removal must repeat its registration. */
static uint64_t live_at(struct fix *f, unsigned q)
{
	uint64_t at = 0;

	for (unsigned i = 0; i < f->nr_io; i++) {
		const struct io_reg *r = &f->io[i];

		if (r->match != q)
			continue;
		assert_int_equal(r->len, 2);
		assert_true(r->datamatch);
		if (r->assign) {
			assert_int_equal(at, 0);
			at = r->addr;
		} else {
			assert_int_equal(r->addr, at);
			at = 0;
		}
	}
	return at;
}

static void test_bar_move(void **state)
{
	struct fix *f = *state;
	uint64_t old, to = 0xd0000000ULL;
	uint16_t cmd;

	fix_place(f);
	old = f->bar4;
	drv_bring_up(f);
	assert_int_equal(f->nr_io, 1);
	/* the guest moves BAR4: off at the old address, on at the new */
	cfg_wr(f, PCI_BAR0 + 16, 4, (uint32_t)to);
	assert_int_equal(f->f->bars[VIRTIO_PCI_BAR].mapped, to);
	assert_int_equal(f->nr_io, 3);
	assert_io(f, 1, false, 0, old + VIRTIO_PCI_NOTIFY_OFF);
	assert_io(f, 2, true, 0, to + VIRTIO_PCI_NOTIFY_OFF);
	assert_int_equal(f->io[2].fd, f->io[0].fd);
	f->bar4 = to;
	/* the old address is dark; the new one works, exits included */
	{
		uint64_t v = 0;

		assert_false(bus_access(&f->pv.mmio, old, &v, 1, false));
	}
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_NUMQ), TOY_QUEUES);
	drv_post(f, 16);
	notify(f, 0);
	poll_once(f);
	assert_int_equal(get_used_idx(&f->gm), 1);
	/* moving BAR1 (MSI-X) leaves the ioeventfds alone */
	cfg_wr(f, PCI_BAR0 + 4, 4, 0xd0100000);
	assert_int_equal(f->nr_io, 3);
	/* decoding off: gone; on again: back at the same place */
	cmd = cfg_rd(f, PCI_COMMAND, 2);
	cfg_wr(f, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MEMORY);
	assert_int_equal(f->nr_io, 4);
	assert_io(f, 3, false, 0, to + VIRTIO_PCI_NOTIFY_OFF);
	cfg_wr(f, PCI_COMMAND, 2, cmd);
	assert_int_equal(f->nr_io, 5);
	assert_io(f, 4, true, 0, to + VIRTIO_PCI_NOTIFY_OFF);
	/* sizing (high half first): the pattern does not decode, so
	 * nothing stays registered, for either queue */
	drv_queue(f, 1, 16);
	assert_int_equal(live_at(f, 1), to + VIRTIO_PCI_NOTIFY_OFF + 4);
	cfg_wr(f, PCI_BAR0 + 20, 4, 0xffffffff);
	cfg_wr(f, PCI_BAR0 + 16, 4, 0xffffffff);
	assert_int_equal(f->f->bars[VIRTIO_PCI_BAR].mapped, PCI_BAR_UNMAPPED);
	assert_int_equal(live_at(f, 0), 0);
	assert_int_equal(live_at(f, 1), 0);
	/* the driver puts the BAR back: both return */
	cfg_wr(f, PCI_BAR0 + 16, 4, (uint32_t)to);
	cfg_wr(f, PCI_BAR0 + 20, 4, 0);
	assert_int_equal(f->f->bars[VIRTIO_PCI_BAR].mapped, to);
	assert_int_equal(live_at(f, 0), to + VIRTIO_PCI_NOTIFY_OFF);
	assert_int_equal(live_at(f, 1), to + VIRTIO_PCI_NOTIFY_OFF + 4);
	/* a VM reset puts the BAR back where placement put it, and the
	 * device reset drops the registrations */
	f->dev->ops->reset(f->dev);
	assert_int_equal(f->f->bars[VIRTIO_PCI_BAR].mapped, old);
	assert_int_equal(live_at(f, 0), 0);
	assert_int_equal(live_at(f, 1), 0);
}

/* Kicks that exit (ioeventfd refused) still run on the loop. */
static void test_ioeventfd_refused(void **state)
{
	struct fix *f = *state;

	f->io_rc = -ENOSPC;
	fix_place(f);
	drv_bring_up(f);
	assert_int_equal(f->nr_io, 1);
	drv_post(f, 16);
	notify(f, 0);
	assert_int_equal(f->toy->kicks, 0);
	poll_once(f);
	assert_int_equal(get_used_idx(&f->gm), 1);
	fix_free_dev(f);
	assert_int_equal(f->nr_io, 1);          /* nothing to remove */
}

/* No eventfd could be made for the queue (descriptors exhausted): the
 * exit hands the kick to the loop; it ran on the vCPU thread before. */
static void test_no_eventfd(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	unit_cap_fds();
	drv_bring_up(f);
	drv_post(f, 16);
	notify(f, 0);
	unit_uncap_fds();
	assert_int_equal(f->nr_io, 0);
	assert_int_equal(f->toy->kicks, 0);
	assert_int_equal(get_used_idx(&f->gm), 0);
	poll_once(f);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->gm), 1);
	/* a spent budget comes back the same way */
	assert_true(virtio_queue_requeue(&f->toy->vdev, 0));
	assert_int_equal(f->toy->kicks, 1);
	poll_once(f);
	assert_int_equal(f->toy->kicks, 2);
	assert_false(virtio_queue_requeue(&f->toy->vdev, 1));
	fix_free_dev(f);
}

static int route_of(struct fix *f, unsigned vec)
{
	for (unsigned r = 0; r < f->pv.nr_routes; r++)
		if (f->pv.route[r].data == 0x40 + vec)
			return (int)r;
	fail_msg("no route for vector %u", vec);
	return -1;
}

static void test_msix_irqfd(void **state)
{
	struct fix *f = *state;
	int r0, r1, r2;

	fix_place(f);
	msix_setup(f, TOY_QUEUES + 1);
	r0 = route_of(f, 0);
	r1 = route_of(f, 1);
	r2 = route_of(f, 2);
	/* Linux's layout: config on 0, queue q on q + 1; set after the
	 * reset that starts the handshake, which forgets them */
	drv_negotiate(f);
	c_wr(f, VIRTIO_PCI_COMMON_MSIX, 0);
	drv_queue(f, 0, 16);
	c_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_MSIX), 1);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	drv_post(f, 16);
	notify(f, 0);
	assert_int_equal(get_used_idx(&f->gm), 1);
	assert_int_equal(fake_deliveries(&f->pv, r1), 1);
	assert_int_equal(fake_deliveries(&f->pv, r0), 0);
	assert_int_equal(fake_deliveries(&f->pv, r2), 0);
	assert_int_equal(intx_level(f), 0);     /* INTx stays out of it */
	/* config change on vector 0 */
	virtio_dev_config_update(&f->toy->vdev, 0, "\x01", 1);
	assert_int_equal(fake_deliveries(&f->pv, r0), 1);
	assert_int_equal(fake_deliveries(&f->pv, r1), 0);
	/* NO_VECTOR: no interrupt at all */
	c_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	drv_post(f, 16);
	notify(f, 0);
	assert_int_equal(get_used_idx(&f->gm), 2);
	for (unsigned v = 0; v <= TOY_QUEUES; v++)
		assert_int_equal(fake_deliveries(&f->pv, route_of(f, v)), 0);
	assert_int_equal(intx_level(f), 0);
	/* MSI-X off again: back to INTx */
	cfg_wr(f, find_cap(f, PCI_CAP_ID_MSIX) + 2, 2, 0);
	drv_post(f, 16);
	notify(f, 0);
	assert_int_equal(intx_level(f), 1);
	assert_true(isr_rd(f) & VIRTIO_ISR_QUEUE);
	assert_int_equal(intx_level(f), 0);
}

/* Without irqfds MSI-X goes through msi_signal, masking respected. */
static void test_msix_slow_path(void **state)
{
	struct fix *f = *state;

	fix_place(f);
	msix_setup(f, TOY_QUEUES + 1);
	drv_negotiate(f);
	drv_queue(f, 0, 16);
	c_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	drv_post(f, 16);
	notify(f, 0);
	assert_int_equal(f->pv.nr_sig, 1);
	assert_int_equal(f->pv.sig[0].addr, APIC);
	assert_int_equal(f->pv.sig[0].data, 0x42);
	/* masked vector: pending, delivered on unmask */
	mmio_wr(&f->pv, f->bar1 + 16 * 2 + 12, 4, PCI_MSIX_VEC_MASKED);
	drv_post(f, 16);
	notify(f, 0);
	assert_int_equal(f->pv.nr_sig, 1);
	assert_int_equal(mmio_rd(&f->pv, f->bar1 + VIRTIO_PCI_MSIX_PBA, 8),
			 1u << 2);
	mmio_wr(&f->pv, f->bar1 + 16 * 2 + 12, 4, 0);
	assert_int_equal(f->pv.nr_sig, 2);
	assert_int_equal(f->pv.sig[1].data, 0x42);
	assert_int_equal(intx_level(f), 0);
}

static bool wait_used(struct fix *f, uint16_t idx)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(used_word(&f->gm, 1), __ATOMIC_ACQUIRE) ==
		    htole16(idx))
			return true;
		usleep(1000);
	}
	return false;
}

/* The loop on its own thread, as in a VM: requests complete there, and
 * ISR reads on "vCPU" never leave the line low with a bit pending. */
static void test_loop_thread(void **state)
{
	struct fix *f = *state;
	unsigned n = 200;

	fix_place(f);
	drv_bring_up(f);
	assert_int_equal(event_loop_start(f->pv.env.loop), 0);
	for (unsigned i = 0; i < n; i++) {
		drv_post(f, 16);
		if (i & 1)
			notify(f, 0);
		else
			assert_int_equal(eventfd_write(f->io[0].fd, 1), 0);
		assert_true(wait_used(f, (uint16_t)(i + 1)));
		isr_rd(f);
	}
	event_loop_stop(f->pv.env.loop);
	assert_false(pthread_equal(f->toy->notify_thread, pthread_self()));
	assert_int_equal(intx_level(f),
			 virtio_dev_isr(&f->toy->vdev) != 0);
}

/* --- virtio_vdev_create, PCI branch --- */

static void glue_vc(struct vdev_config *vc)
{
	memset(vc, 0, sizeof(*vc));
	vc->type = vdev_type_find("virtio-rng");
	assert_non_null(vc->type);
	vc->pos = (struct cfg_pos){ .file = "test.qvmconf", .line = 3,
				    .col = 1 };
	vc->on_pci = true;
}

static int glue(struct fix *f, const struct vdev_config *vc)
{
	f->toy = toy_new(f, TOY_CFG_LEN);
	return virtio_vdev_create(vc, &f->pv.env, &f->toy->vdev, toy_release,
				  &f->dev);
}

static void test_glue_pci(void **state)
{
	struct fix *f = *state;
	struct vdev_config vc;

	/* no loc: a PCI function for the builder to attach anywhere */
	glue_vc(&vc);
	assert_int_equal(glue(f, &vc), 0);
	assert_non_null(pci_func_of(f->dev));
	assert_int_equal(f->dev->nr_regions, 0);
	assert_int_equal(pci_cfg_get(pci_func_of(f->dev), PCI_DEVICE_ID, 2),
			 0x1040 + VIRTIO_ID_RNG);
	fix_free_dev(f);
	assert_int_equal(f->released, 1);
	/* loc pci:0:5.2 is fine (the builder uses it) */
	vc.locs[0] = (struct cfg_loc){ .space = LOC_PCI, .dev = 5, .fn = 2 };
	vc.nr_locs = 1;
	assert_int_equal(glue(f, &vc), 0);
	fix_free_dev(f);
	assert_int_equal(f->released, 2);
}

static void test_glue_refusals(void **state)
{
	struct fix *f = *state;
	static const struct cfg_loc bad[] = {
		{ .space = LOC_PCI, .bus = 1, .dev = 3 },
		{ .space = LOC_PCI, .dev = 0 },          /* the host bridge */
		{ .space = LOC_PCI, .dev = 32 },
		{ .space = LOC_PCI, .dev = 3, .fn = 8 },
		{ .space = LOC_PCI, .pci_by_id = true, .vid = 0x1af4 },
		{ .space = LOC_MEM, .addr = 0xd0000000 },
	};
	struct vdev_config vc;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		glue_vc(&vc);
		vc.locs[0] = bad[i];
		vc.nr_locs = 1;
		assert_int_equal(glue(f, &vc), -EINVAL);
		assert_int_equal(f->released, i + 1);
		assert_null(f->dev);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn, s) cmocka_unit_test_setup_teardown(fn, s, fix_teardown)
		T(test_ioeventfd_lifecycle, setup_loop),
		T(test_bar_move, setup_loop),
		T(test_ioeventfd_refused, setup_loop),
		T(test_no_eventfd, setup_loop),
		T(test_msix_irqfd, setup_irqfd),
		T(test_msix_slow_path, setup_plain),
		T(test_loop_thread, setup_loop),
		T(test_glue_pci, setup_plain),
		T(test_glue_refusals, setup_plain),
		T(test_requeue, setup_loop),
		T(test_requeue_no_loop, setup_plain),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
