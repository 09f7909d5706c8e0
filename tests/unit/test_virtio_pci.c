/* virtio-pci through config space and the BARs: enumeration (IDs, class,
 * BARs, the capability chain), feature negotiation and queue set-up
 * through the common configuration, a request with INTx, device config,
 * MSI-X vector assignment, reset, the PCI_CFG window, and accesses the
 * spec does not allow. No event loop here: kicks run on the caller's
 * thread (test_virtio_pci_irq.c covers eventfds and MSI-X delivery). */
#include "test_virtio_pci.h"

static int setup(void **state)
{
	struct fix *f = fix_new(true, false);

	fix_place(f);
	*state = f;
	return 0;
}

static void test_enumeration(void **state)
{
	struct fix *f = *state;

	assert_int_equal(cfg_rd(f, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(f, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_RNG);
	/* revision 1 (non-transitional), class: other */
	assert_int_equal(cfg_rd(f, PCI_REVISION_ID, 4), 0x00ff0001);
	assert_int_equal(cfg_rd(f, PCI_SUBSYSTEM_VENDOR, 2), 0x1af4);
	assert_true(cfg_rd(f, PCI_SUBSYSTEM_ID, 2) >= 0x40);
	assert_int_equal(cfg_rd(f, PCI_HEADER_TYPE, 1), 0);
	assert_true(cfg_rd(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cfg_rd(f, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(f->slot, 1);
	/* BAR1: 32-bit memory; BAR4/5: 64-bit, not prefetchable; others
	 * absent */
	assert_int_equal(cfg_rd(f, PCI_BAR0 + 4, 4), (uint32_t)f->bar1);
	assert_int_equal(cfg_rd(f, PCI_BAR0 + 16, 4),
			 (uint32_t)f->bar4 | PCI_BAR_MEM_TYPE_64);
	assert_int_equal(cfg_rd(f, PCI_BAR0 + 20, 4), f->bar4 >> 32);
	assert_int_equal(cfg_rd(f, PCI_BAR0, 4), 0);
	assert_int_equal(cfg_rd(f, PCI_BAR0 + 8, 4), 0);
	assert_int_equal(cfg_rd(f, PCI_BAR0 + 12, 4), 0);
	/* sizing */
	cfg_wr(f, PCI_BAR0 + 16, 4, 0xffffffff);
	assert_int_equal(cfg_rd(f, PCI_BAR0 + 16, 4),
			 ~(uint32_t)(VIRTIO_PCI_BAR_SIZE - 1) |
			 PCI_BAR_MEM_TYPE_64);
	cfg_wr(f, PCI_BAR0 + 4, 4, 0xffffffff);
	assert_int_equal(cfg_rd(f, PCI_BAR0 + 4, 4),
			 ~(uint32_t)(VIRTIO_PCI_MSIX_BAR_SIZE - 1));
	/* the class table */
	assert_int_equal(virtio_pci_class(VIRTIO_ID_BLOCK), 0x010000);
	assert_int_equal(virtio_pci_class(VIRTIO_ID_CONSOLE), 0x078000);
	assert_int_equal(virtio_pci_class(VIRTIO_ID_NET), 0x020000);
	assert_int_equal(virtio_pci_class(VIRTIO_ID_RNG), 0x00ff00);
	assert_int_equal(virtio_pci_class(42), 0x00ff00);
}

static void check_vcap(struct fix *f, uint8_t type, uint8_t len,
		       uint32_t off, uint32_t length)
{
	unsigned c = find_vcap(f, type);

	assert_true(c >= 0x40);
	assert_int_equal(c & 3, 0);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_LEN, 1), len);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_BAR, 1), VIRTIO_PCI_BAR);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_ID, 1), 0);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_OFFSET, 4), off);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_LENGTH, 4), length);
	assert_true((uint64_t)off + length <= VIRTIO_PCI_BAR_SIZE);
}

static void test_capabilities(void **state)
{
	struct fix *f = *state;
	unsigned c, n = 0;

	check_vcap(f, VIRTIO_PCI_CAP_COMMON_CFG, 16, 0, 0x3c);
	check_vcap(f, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, 0x3000,
		   TOY_QUEUES * 4);
	check_vcap(f, VIRTIO_PCI_CAP_ISR_CFG, 16, 0x1000, 1);
	check_vcap(f, VIRTIO_PCI_CAP_DEVICE_CFG, 16, 0x2000, TOY_CFG_LEN);
	c = find_vcap(f, VIRTIO_PCI_CAP_NOTIFY_CFG);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_NOTIFY_CAP_MULT, 4), 4);
	/* the notify address of the last queue plus 2 bytes is inside */
	assert_true((TOY_QUEUES - 1) * 4 + 2 <= TOY_QUEUES * 4);
	c = find_vcap(f, VIRTIO_PCI_CAP_PCI_CFG);
	assert_true(c >= 0x40);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_LEN, 1), 20);
	/* MSI-X: queues + 1 vectors, table and PBA in BAR1 */
	c = find_cap(f, PCI_CAP_ID_MSIX);
	assert_true(c >= 0x40);
	assert_int_equal(cfg_rd(f, c + 2, 2), TOY_QUEUES);    /* nr - 1 */
	assert_int_equal(cfg_rd(f, c + 4, 4), VIRTIO_PCI_MSIX_BAR);
	assert_int_equal(cfg_rd(f, c + 8, 4),
			 VIRTIO_PCI_MSIX_PBA | VIRTIO_PCI_MSIX_BAR);
	/* the chain ends: 5 vendor caps and MSI-X */
	for (c = cfg_rd(f, PCI_CAP_PTR, 1); c; c = cfg_rd(f, c + 1, 1))
		assert_true(++n <= 6);
	assert_int_equal(n, 6);
}

/* A device without config space has no DEVICE_CFG capability (Linux
 * refuses a zero-length one). */
static void test_no_device_cfg(void **state)
{
	struct fix *f = fix_new(false, false);

	(void)state;
	fix_place_cfg(f, 0);
	assert_int_equal(find_vcap(f, VIRTIO_PCI_CAP_DEVICE_CFG), 0);
	assert_true(find_vcap(f, VIRTIO_PCI_CAP_ISR_CFG) != 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF, 4), 0);
	fix_teardown((void **)&f);
}

static void test_feature_negotiation(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy->vdev;

	c_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_DF),
			 (1u << 3) | (1u << VIRTIO_F_RING_INDIRECT_DESC) |
			 (1u << VIRTIO_F_RING_EVENT_IDX));
	c_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_DF), 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_DFSELECT), 1);
	c_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 7);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_DF), 0);
	/* the handshake: FEATURES_OK needs VERSION_1 */
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV);
	c_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0);
	c_wr(f, VIRTIO_PCI_COMMON_GF, 1u << 3);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS), S_ACK | S_DRV);
	c_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1);
	c_wr(f, VIRTIO_PCI_COMMON_GF, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_GFSELECT), 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_GF), 1);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS),
			 S_ACK | S_DRV | S_FOK);
	assert_true(virtio_dev_has_feature(d, 3));
	assert_true(virtio_dev_has_feature(d, VIRTIO_F_VERSION_1));
	/* frozen now */
	c_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0);
	c_wr(f, VIRTIO_PCI_COMMON_GF, 0);
	assert_true(virtio_dev_has_feature(d, 3));
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_true(virtio_dev_running(d));
}

static void test_queue_setup(void **state)
{
	struct fix *f = *state;
	struct virtio_dev *d = &f->toy->vdev;

	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_NUMQ), TOY_QUEUES);
	/* queue_size starts at the maximum */
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SIZE), 256);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_NOFF), 0);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SELECT), 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SIZE), 64);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_NOFF), 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_NDATA), 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_RESET), 0);
	/* 64-bit fields: halves in either order, or whole */
	bar_wr(f, VIRTIO_PCI_COMMON_Q_DESC + 4, 4, 0x12);
	bar_wr(f, VIRTIO_PCI_COMMON_Q_DESC, 4, 0x34567000);
	c_wr64(f, VIRTIO_PCI_COMMON_Q_AVAIL, 0xfedc89abc000ULL);
	c_wr(f, VIRTIO_PCI_COMMON_Q_USED, 0xffffffff00001000ULL);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_DESC),
			 0x1234567000ULL);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_AVAIL),
			 0xfedc89abc000ULL);
	assert_int_equal(virtio_queue_read(d, 1, VIRTIO_QUEUE_USED),
			 0xffffffff00001000ULL);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESC, 4), 0x34567000);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESC + 4, 4), 0x12);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_AVAIL), 0xfedc89abc000ULL);
	assert_int_equal(virtio_queue_read(d, 0, VIRTIO_QUEUE_DESC), 0);
	/* size goes to the selected queue; enable before FEATURES_OK fails */
	c_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 32);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SIZE), 32);
	drv_negotiate(f);
	drv_queue(f, 1, 16);
	/* frozen while enabled; 0 does not disable */
	c_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 8);
	c_wr(f, VIRTIO_PCI_COMMON_Q_DESC, 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SIZE), 16);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_DESC), RING_DESC);
	c_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE), 1);
	/* a bad size (not a power of 2) leaves queue 0 disabled and the
	 * device needing a reset */
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 17);
	c_wr64(f, VIRTIO_PCI_COMMON_Q_DESC, RING_DESC);
	c_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE), 0);
	assert_true(c_rd(f, VIRTIO_PCI_COMMON_STATUS) &
		    VIRTIO_STATUS_NEEDS_RESET);
}

static void test_request_intx(void **state)
{
	struct fix *f = *state;

	assert_false(pci_msix_enabled(f->f));
	drv_bring_up(f);
	drv_post(f, 40);
	notify(f, 0);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->gm), 1);
	assert_int_equal(get_used(&f->gm, 0).len, 40);
	assert_int_equal(intx_level(f), 1);
	assert_true(cfg_rd(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* reading the ISR returns and clears it, and lowers the line */
	assert_int_equal(isr_rd(f), VIRTIO_ISR_QUEUE);
	assert_int_equal(intx_level(f), 0);
	assert_false(cfg_rd(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(isr_rd(f), 0);
	/* INTX_DISABLE keeps the IOAPIC input low; the status bit shows */
	cfg_wr(f, PCI_COMMAND, 2, cfg_rd(f, PCI_COMMAND, 2) |
	       PCI_COMMAND_INTX_DISABLE);
	drv_post(f, 8);
	notify(f, 0);
	assert_int_equal(get_used_idx(&f->gm), 2);
	assert_int_equal(intx_level(f), 0);
	assert_true(cfg_rd(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	assert_int_equal(isr_rd(f), VIRTIO_ISR_QUEUE);
	cfg_wr(f, PCI_COMMAND, 2, cfg_rd(f, PCI_COMMAND, 2) &
	       ~PCI_COMMAND_INTX_DISABLE);
	/* a configuration change: ISR bit 1 */
	virtio_dev_config_update(&f->toy->vdev, 0, "\x55", 1);
	assert_int_equal(intx_level(f), 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_CFGGEN), 1);
	assert_int_equal(isr_rd(f), VIRTIO_ISR_CONFIG);
	assert_int_equal(intx_level(f), 0);
}

static void test_device_config(void **state)
{
	struct fix *f = *state;

	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF, 1), 0x10);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 2, 2), 0x1312);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 8, 4), 0x1b1a1918);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 4, 8),
			 0x1b1a191817161514ULL);
	/* past the device's bytes: 0 */
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 12, 4), 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 0xffc, 4), 0);
	bar_wr(f, VIRTIO_PCI_DEVICE_OFF + 4, 2, 0xbeef);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_DEVICE_OFF + 4, 2), 0xbeef);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_CFGGEN), 0);
}

static void test_msix_vectors(void **state)
{
	struct fix *f = *state;

	/* power-on: no vectors */
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_MSIX),
			 VIRTIO_MSI_NO_VECTOR);
	/* TOY_QUEUES + 1 vectors: 0..2 stick, 3 reads back NO_VECTOR */
	c_wr(f, VIRTIO_PCI_COMMON_MSIX, 2);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_MSIX), 2);
	c_wr(f, VIRTIO_PCI_COMMON_MSIX, 3);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);
	c_wr(f, VIRTIO_PCI_COMMON_MSIX, 0);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 1);
	c_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 1);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0);
	c_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 0x1234);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_MSIX),
			 VIRTIO_MSI_NO_VECTOR);
	c_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_MSIX), 2);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_MSIX), 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_MSIX), 0);
	/* a queue that does not exist has none and takes none */
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, TOY_QUEUES);
	c_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_MSIX),
			 VIRTIO_MSI_NO_VECTOR);
	/* device reset forgets them all */
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);
	for (unsigned q = 0; q < TOY_QUEUES; q++) {
		c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q);
		assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_MSIX),
				 VIRTIO_MSI_NO_VECTOR);
	}
}

static void test_reset(void **state)
{
	struct fix *f = *state;

	drv_bring_up(f);
	drv_post(f, 8);
	notify(f, 0);
	assert_int_equal(intx_level(f), 1);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 1);
	c_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 1);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, 0);
	assert_int_equal(f->toy->resets, 2);  /* drv_negotiate wrote 0 too */
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS), 0);
	assert_int_equal(intx_level(f), 0);
	assert_int_equal(isr_rd(f), 0);
	/* selectors back to 0, queue 0 back to power-on */
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SELECT), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_DFSELECT), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SIZE), 256);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_DESC), 0);
	/* a kick after reset does nothing */
	notify(f, 0);
	assert_int_equal(f->toy->kicks, 1);
	/* from scratch again, then a VM reset (the PCI function's) */
	f->gm.avail_idx = 0;
	memset(gpa_host(&f->gm, RING_AVAIL), 0, 0x1000);
	memset(gpa_host(&f->gm, RING_USED), 0, 0x1000);
	drv_bring_up(f);
	drv_post(f, 4);
	notify(f, 0);
	assert_int_equal(get_used_idx(&f->gm), 1);
	assert_int_equal(intx_level(f), 1);
	c_wr(f, VIRTIO_PCI_COMMON_MSIX, 1);
	f->dev->ops->reset(f->dev);
	assert_int_equal(f->toy->resets, 4);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(intx_level(f), 0);
	/* the BARs are where placement put them */
	assert_int_equal(f->f->bars[VIRTIO_PCI_BAR].mapped, f->bar4);
}

/* The PCI_CFG capability: BAR accesses through config space. */
static void win(struct fix *f, unsigned c, uint8_t bar, uint32_t off,
		uint32_t len)
{
	cfg_wr(f, c + VIRTIO_PCI_CAP_BAR, 1, bar);
	cfg_wr(f, c + VIRTIO_PCI_CAP_OFFSET, 4, off);
	cfg_wr(f, c + VIRTIO_PCI_CAP_LENGTH, 4, len);
}

static void test_pci_cfg_window(void **state)
{
	struct fix *f = *state;
	unsigned c = find_vcap(f, VIRTIO_PCI_CAP_PCI_CFG);
	unsigned data = c + VIRTIO_PCI_CFG_CAP_DATA;

	assert_true(c >= 0x40);
	/* the window works with decoding off, as for firmware */
	cfg_wr(f, PCI_COMMAND, 2, 0);
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 2);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_BAR, 1), VIRTIO_PCI_BAR);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_LENGTH, 4), 2);
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	assert_int_equal(cfg_rd(f, data, 2), TOY_QUEUES);
	/* writes: the status byte */
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_STATUS, 1);
	cfg_wr(f, data, 4, S_ACK);
	assert_int_equal(virtio_dev_status(&f->toy->vdev), S_ACK);
	assert_int_equal(cfg_rd(f, data, 1), S_ACK);
	/* device config, 4 bytes */
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_DEVICE_OFF + 4, 4);
	assert_int_equal(cfg_rd(f, data, 4), 0x17161514);
	/* the MSI-X table in BAR1: vector 0 control reads masked */
	win(f, c, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_TABLE + 12, 4);
	assert_int_equal(cfg_rd(f, data, 4), PCI_MSIX_VEC_MASKED);
	/* the ISR, read-clear included */
	cfg_wr(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	drv_bring_up(f);
	drv_post(f, 8);
	notify(f, 0);
	assert_int_equal(intx_level(f), 1);
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_ISR_OFF, 1);
	assert_int_equal(cfg_rd(f, data, 1), VIRTIO_ISR_QUEUE);
	assert_int_equal(intx_level(f), 0);
	assert_int_equal(cfg_rd(f, data, 1), 0);
	/* accesses the spec does not allow leave the data alone */
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 2);
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 3);
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_NUMQ + 1, 2);
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE - 2, 4);
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	win(f, c, VIRTIO_PCI_BAR, 0xfffffffc, 4);
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	win(f, c, 0, 0, 4);                      /* no BAR0 */
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	win(f, c, 5, 0, 4);                      /* upper half of BAR4 */
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	win(f, c, 200, 0, 4);
	assert_int_equal(cfg_rd(f, data, 4), TOY_QUEUES);
	cfg_wr(f, data, 4, 0);
	assert_true(virtio_dev_running(&f->toy->vdev));
	/* the fixed fields stay read-only */
	cfg_wr(f, c + VIRTIO_PCI_CAP_CFG_TYPE, 1, 1);
	cfg_wr(f, c + VIRTIO_PCI_CAP_LEN, 1, 0);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_CFG_TYPE, 1),
			 VIRTIO_PCI_CAP_PCI_CFG);
	assert_int_equal(cfg_rd(f, c + VIRTIO_PCI_CAP_LEN, 1), 20);
}

/* A reset written through the PCI_CFG window (under the host lock) with
 * a request still held by the device's backend returns at once: the
 * status reads non-zero until the request is back, then 0; the rest of
 * the function keeps answering meanwhile, and the late completion
 * touches nothing. Then a VM reset waits for held work itself. */
static void test_reset_async(void **state)
{
	struct fix *f = *state;
	unsigned c = find_vcap(f, VIRTIO_PCI_CAP_PCI_CFG);
	unsigned data = c + VIRTIO_PCI_CFG_CAP_DATA;
	uint8_t up = S_ACK | S_DRV | S_FOK | S_DOK;

	drv_bring_up(f);
	f->toy->hold = true;
	drv_post(f, 8);
	notify(f, 0);
	assert_true(f->toy->holding);
	win(f, c, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_STATUS, 1);
	cfg_wr(f, data, 1, 0);
	assert_int_equal(cfg_rd(f, data, 1), up);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS), up);
	/* a status written meanwhile through the window is dropped: it
	 * waited for the request under the host lock (here: for ever) */
	cfg_wr(f, data, 1, S_ACK);
	assert_int_equal(cfg_rd(f, data, 1), up);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE), 0);
	assert_int_equal(cfg_rd(f, PCI_VENDOR_ID, 2), VIRTIO_PCI_VENDOR);
	assert_int_equal(intx_level(f), 0);
	toy_complete(f->toy);
	assert_int_equal(cfg_rd(f, data, 1), 0);
	assert_int_equal(get_used_idx(&f->gm), 0);
	assert_int_equal(intx_level(f), 0);
	/* the VM's reset of the function completes held work itself */
	f->gm.avail_idx = 0;
	memset(gpa_host(&f->gm, RING_AVAIL), 0, 0x1000);
	drv_bring_up(f);
	drv_post(f, 8);
	notify(f, 0);
	assert_true(f->toy->holding);
	f->dev->ops->reset(f->dev);
	assert_false(f->toy->holding);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS), 0);
	assert_int_equal(get_used_idx(&f->gm), 0);
}

static void test_hostile(void **state)
{
	struct fix *f = *state;
	static const unsigned sizes[] = { 1, 2, 4, 8 };

	/* wrong widths: status takes 1 byte, features 4, selects 2 */
	for (unsigned i = 1; i < 4; i++) {
		bar_wr(f, VIRTIO_PCI_COMMON_STATUS, sizes[i], S_ACK);
		assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		if (sizes[i] == 4)
			continue;
		assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_DF, sizes[i]), 0);
		bar_wr(f, VIRTIO_PCI_COMMON_DFSELECT, sizes[i], 1);
	}
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_DFSELECT), 0);
	bar_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 4, 1);
	bar_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 1, 1);
	bar_wr(f, VIRTIO_PCI_COMMON_Q_SELECT + 1, 1, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SELECT), 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_NUMQ, 4), 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESC + 2, 4), 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESC + 4, 8), 0);
	/* read-only fields ignore writes */
	c_wr(f, VIRTIO_PCI_COMMON_NUMQ, 9);
	c_wr(f, VIRTIO_PCI_COMMON_DF, 0);
	c_wr(f, VIRTIO_PCI_COMMON_CFGGEN, 7);
	c_wr(f, VIRTIO_PCI_COMMON_Q_NOFF, 3);
	c_wr(f, VIRTIO_PCI_COMMON_Q_RESET, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_NUMQ), TOY_QUEUES);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_CFGGEN), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_NOFF), 0);
	/* past the structure, and the gaps: 0 */
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_LEN, 4), 0);
	assert_int_equal(bar_rd(f, 0xffc, 4), 0);
	bar_wr(f, 0x800, 4, 1);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_NOTIFY_OFF, 2), 0);
	/* a queue that does not exist */
	drv_negotiate(f);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, TOY_QUEUES);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SIZE), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_NOFF), 0);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 16);
	c_wr64(f, VIRTIO_PCI_COMMON_Q_DESC, RING_DESC);
	c_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_DESC), 0);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0xffff);
	c_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_SIZE), 0);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS),
			 S_ACK | S_DRV | S_FOK);
	/* notifies: no such queue, odd widths and places */
	drv_queue(f, 0, 16);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	drv_post(f, 8);
	notify(f, TOY_QUEUES);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF + 0xffc, 2, 0);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF, 1, 0);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF, 8, 0);
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF + 2, 2, 0);
	assert_int_equal(f->toy->kicks, 0);
	/* a 4-byte write at the slot counts, whatever the value */
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF, 4, 0x77);
	assert_int_equal(f->toy->kicks, 1);
	assert_int_equal(get_used_idx(&f->gm), 1);
	/* the ISR only takes 1-byte reads; others neither read nor clear */
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF, 4), 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_ISR_OFF + 1, 1), 0);
	bar_wr(f, VIRTIO_PCI_ISR_OFF, 1, 0);
	assert_int_equal(intx_level(f), 1);
	assert_int_equal(isr_rd(f), VIRTIO_ISR_QUEUE);
	/* BAR1 beyond the table and PBA */
	assert_int_equal(mmio_rd(&f->pv, f->bar1 + 0xf00, 4), 0);
	mmio_wr(&f->pv, f->bar1 + 0xf00, 4, 1);
	/* nothing above broke the device */
	assert_true(virtio_dev_running(&f->toy->vdev));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, fix_teardown)
		T(test_enumeration),
		T(test_capabilities),
		cmocka_unit_test(test_no_device_cfg),
		T(test_feature_negotiation),
		T(test_queue_setup),
		T(test_request_intx),
		T(test_device_config),
		T(test_msix_vectors),
		T(test_reset),
		T(test_pci_cfg_window),
		T(test_reset_async),
		T(test_hostile),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
