/* PCI host bridge: mechanism #1, ECAM, the bridge function, empty slots,
 * multifunction, RST_CNT at 0xCF9, attach rules and the layout helper. */
#include "test_pci_helpers.h"

static void test_empty_slot_all_ones(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);

	(void)state;
	assert_int_equal(conf1_read(vm, 5, 0, 0, 4), 0xffffffff);
	assert_int_equal(conf1_read(vm, 5, 0, 2, 2), 0xffff);
	assert_int_equal(conf1_read(vm, 5, 0, 0x0e, 1), 0xff);
	assert_int_equal(ecam_read(vm, 31, 7, 0, 4), 0xffffffff);
	assert_int_equal(ecam_read(vm, 0, 1, 0, 4), 0xffffffff);
	/* Bus 1 does not exist. */
	pio_out(vm, 0xcf8, 4, 0x80010000);
	assert_int_equal(pio_in(vm, 0xcfc, 4), 0xffffffff);
	/* Writes to nothing are harmless. */
	conf1_write(vm, 5, 0, 4, 2, 0xffff);
	ecam_write(vm, 9, 3, 0x10, 4, 0xffffffff);
	fake_vm_free(vm);
}

static void test_host_bridge_ids(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);

	(void)state;
	assert_int_equal(conf1_read(vm, 0, 0, 0, 4),
			 PCI_HOST_DEVICE << 16 | PCI_HOST_VENDOR);
	assert_int_equal(conf1_read(vm, 0, 0, 8, 4) >> 8,
			 PCI_CLASS_HOST_BRIDGE);
	assert_int_equal(conf1_read(vm, 0, 0, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(conf1_read(vm, 0, 0, PCI_INTERRUPT_PIN, 1), 0);
	/* No BARs: sizing reads back zero. */
	conf1_write(vm, 0, 0, PCI_BAR0, 4, 0xffffffff);
	assert_int_equal(conf1_read(vm, 0, 0, PCI_BAR0, 4), 0);
	/* IDs are read-only. */
	conf1_write(vm, 0, 0, 0, 4, 0x12345678);
	assert_int_equal(conf1_read(vm, 0, 0, 0, 2), PCI_HOST_VENDOR);
	fake_vm_free(vm);
}

static void test_conf1_address_latch(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);

	(void)state;
	/* Linux's type-1 probe: a dword write reads back. */
	pio_out(vm, 0xcf8, 4, 0x80000000);
	assert_int_equal(pio_in(vm, 0xcf8, 4), 0x80000000);
	/* Reserved low bits do not stick. */
	pio_out(vm, 0xcf8, 4, 0x80000003);
	assert_int_equal(pio_in(vm, 0xcf8, 4), 0x80000000);
	/* Without the enable bit the data port floats. */
	pio_out(vm, 0xcf8, 4, 0x00000000);
	assert_int_equal(pio_in(vm, 0xcfc, 4), 0xffffffff);
	/* A byte or word write to 0xCF8 does not latch an address. */
	pio_out(vm, 0xcf8, 4, cf8_addr(0, 0, 0));
	pio_out(vm, 0xcf8, 2, 0x1234);
	pio_out(vm, 0xcfa, 1, 0x55);
	assert_int_equal(pio_in(vm, 0xcf8, 4), cf8_addr(0, 0, 0));
	assert_int_equal(pio_in(vm, 0xcfc, 2), PCI_HOST_VENDOR);
	fake_vm_free(vm);
}

static void test_conf1_register_and_sizes(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = tdev_new(vm, 0x1042);

	(void)state;
	assert_int_equal(pci_host_attach(vm->host, &t->f, 3, 0), 0);
	/* Register number selects the dword; the port offset the bytes. */
	assert_int_equal(conf1_read(vm, 3, 0, 0, 4), 0x10421af4);
	assert_int_equal(conf1_read(vm, 3, 0, 2, 2), 0x1042);
	assert_int_equal(conf1_read(vm, 3, 0, 3, 1), 0x10);
	assert_int_equal(conf1_read(vm, 3, 0, 0x08, 4), 0x01800001);
	assert_int_equal(conf1_read(vm, 3, 0, 0x0b, 1), 0x01);
	assert_int_equal(conf1_read(vm, 3, 0, 0x2c, 4), 0x00021af4);
	/* Byte and word writes: interrupt line, cache line size. */
	conf1_write(vm, 3, 0, PCI_INTERRUPT_LINE, 1, 0x0b);
	assert_int_equal(conf1_read(vm, 3, 0, PCI_INTERRUPT_LINE, 1), 0x0b);
	assert_int_equal(conf1_read(vm, 3, 0, PCI_INTERRUPT_PIN, 1), 1);
	conf1_write(vm, 3, 0, PCI_CACHE_LINE_SIZE, 2, 0xffff);
	assert_int_equal(conf1_read(vm, 3, 0, PCI_CACHE_LINE_SIZE, 2), 0x00ff);
	/* A word at 0xCFE reaches bytes 2-3 of the dword. */
	pio_out(vm, 0xcf8, 4, cf8_addr(3, 0, 0));
	assert_int_equal(pio_in(vm, 0xcfe, 2), 0x1042);
	assert_int_equal(pio_in(vm, 0xcfd, 1), 0x1a);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_ecam_equivalence(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = tdev_new(vm, 0x1041);

	(void)state;
	assert_int_equal(pci_host_attach(vm->host, &t->f, 7, 0), 0);
	for (unsigned reg = 0; reg < 0x40; reg += 4)
		assert_int_equal(ecam_read(vm, 7, 0, reg, 4),
				 conf1_read(vm, 7, 0, reg, 4));
	assert_int_equal(ecam_read(vm, 7, 0, 2, 2), 0x1041);
	assert_int_equal(ecam_read(vm, 7, 0, 0x0a, 1), 0x80);
	/* Write through ECAM, read through CF8 and back. */
	ecam_write(vm, 7, 0, PCI_INTERRUPT_LINE, 1, 0x42);
	assert_int_equal(conf1_read(vm, 7, 0, PCI_INTERRUPT_LINE, 1), 0x42);
	conf1_write(vm, 7, 0, PCI_INTERRUPT_LINE, 1, 0x24);
	assert_int_equal(ecam_read(vm, 7, 0, PCI_INTERRUPT_LINE, 1), 0x24);
	/* Extended space exists in the window but reads 0, ignores writes. */
	assert_int_equal(ecam_read(vm, 7, 0, 0x100, 4), 0);
	assert_int_equal(ecam_read(vm, 7, 0, 0xffc, 4), 0);
	ecam_write(vm, 7, 0, 0x100, 4, 0xffffffff);
	assert_int_equal(ecam_read(vm, 7, 0, 0x100, 4), 0);
	/* Misaligned and 8-byte accesses are not config cycles. */
	assert_int_equal(ecam_read(vm, 7, 0, 1, 2), 0xffff);
	assert_int_equal(mmio_rd(vm, ecam_addr(7, 0, 0), 8), ~0ull);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_multifunction(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *a = tdev_new(vm, 1), *b = tdev_new(vm, 2);
	struct tdev *c = tdev_new(vm, 3);

	(void)state;
	/* fn 2 before fn 0: fn 0 still learns it is multifunction. */
	assert_int_equal(pci_host_attach(vm->host, &b->f, 4, 2), 0);
	assert_int_equal(pci_host_attach(vm->host, &a->f, 4, 0), 0);
	assert_int_equal(conf1_read(vm, 4, 0, PCI_HEADER_TYPE, 1), 0x80);
	assert_int_equal(conf1_read(vm, 4, 2, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(conf1_read(vm, 4, 2, 2, 2), 2);
	assert_int_equal(conf1_read(vm, 4, 1, 0, 4), 0xffffffff);
	/* The guest cannot clear it. */
	conf1_write(vm, 4, 0, PCI_HEADER_TYPE, 1, 0);
	assert_int_equal(conf1_read(vm, 4, 0, PCI_HEADER_TYPE, 1), 0x80);
	assert_int_equal(pci_host_attach(vm->host, &c->f, 4, 2), -EBUSY);
	assert_int_equal(pci_host_attach(vm->host, &c->f, 32, 0), -EINVAL);
	assert_int_equal(pci_host_attach(vm->host, &c->f, 1, 8), -EINVAL);
	/* Automatic placement: the first free slot after the bridge's. */
	assert_int_equal(pci_host_attach(vm->host, &c->f, -1, 0), 0);
	assert_int_equal(c->f.slot, 1);
	assert_int_equal(pci_host_attach(vm->host, &c->f, 5, 0), -EINVAL);
	tdev_free_dev(a);
	tdev_free_dev(b);
	tdev_free_dev(c);
	fake_vm_free(vm);
}

static void test_slots_fill_up(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t[PCI_MAX_SLOTS];

	(void)state;
	for (unsigned i = 1; i < PCI_MAX_SLOTS; i++) {
		t[i] = tdev_new(vm, i);
		assert_int_equal(pci_host_attach(vm->host, &t[i]->f, -1, 0), 0);
		assert_int_equal(t[i]->f.slot, i);
	}
	t[0] = tdev_new(vm, 99);
	assert_int_equal(pci_host_attach(vm->host, &t[0]->f, -1, 0), -ENOSPC);
	for (unsigned i = 1; i < PCI_MAX_SLOTS; i++)
		assert_int_equal(conf1_read(vm, i, 0, 2, 2), i);
	for (unsigned i = 0; i < PCI_MAX_SLOTS; i++)
		tdev_free_dev(t[i]);
	fake_vm_free(vm);
}

static void test_reset_control_cf9(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);

	(void)state;
	/* 0xCF9 is a byte register of its own, not part of CONFIG_ADDRESS. */
	pio_out(vm, 0xcf8, 4, 0x80000000);
	assert_int_equal(pio_in(vm, 0xcf9, 1), 0);
	/* Linux reboot=pci: read, write SYS_RST, then SYS_RST | RST_CPU. */
	pio_out(vm, 0xcf9, 1, 0x02);
	assert_int_equal(vm->resets, 0);
	assert_int_equal(pio_in(vm, 0xcf9, 1), 0x02);
	pio_out(vm, 0xcf9, 1, 0x06);
	assert_int_equal(vm->resets, 1);
	assert_int_equal(pio_in(vm, 0xcf9, 1), 0x02);  /* RST_CPU reads 0 */
	/* A soft reset request (no SYS_RST) is a VM reset as well. */
	pio_out(vm, 0xcf9, 1, 0x04);
	assert_int_equal(vm->resets, 2);
	/* Nothing of this touched the address latch. */
	assert_int_equal(pio_in(vm, 0xcf8, 4), 0x80000000);
	/* A dword write to 0xCF8 never resets. */
	pio_out(vm, 0xcf8, 4, 0xffffffff);
	assert_int_equal(vm->resets, 2);
	vm->host->dev.ops->reset(&vm->host->dev);
	assert_int_equal(pio_in(vm, 0xcf9, 1), 0);
	assert_int_equal(pio_in(vm, 0xcf8, 4), 0);
	fake_vm_free(vm);
}

static void test_layout_default(void **state)
{
	struct pci_layout l;

	(void)state;
	pci_layout_default(&l, 2 * GiB, 0);
	assert_int_equal(l.hole_base, 0xb0000000);
	assert_int_equal(l.ecam_base, 0xb0000000);
	assert_int_equal(l.ecam_size, 1 << 20);
	assert_int_equal(l.mmio32_base, 0xc0000000);
	assert_int_equal(l.mmio32_base + l.mmio32_size, 0xfc000000);
	assert_int_equal(l.io_base, 0xc000);
	assert_int_equal(l.io_base + l.io_size, 0x10000);
	assert_int_equal(l.mmio64_base, 4 * GiB);
	assert_int_equal(l.mmio64_size, 0);
	pci_layout_default(&l, 6 * GiB + 1, 64 * GiB);
	assert_int_equal(l.mmio64_base, 7 * GiB);
	assert_int_equal(l.mmio64_size, 64 * GiB);
}

static void test_intx_swizzle(void **state)
{
	(void)state;
	assert_int_equal(pci_intx_gsi(0, 1), 16);
	assert_int_equal(pci_intx_gsi(1, 1), 17);
	assert_int_equal(pci_intx_gsi(3, 1), 19);
	assert_int_equal(pci_intx_gsi(4, 1), 16);
	assert_int_equal(pci_intx_gsi(1, 2), 18);
	assert_int_equal(pci_intx_gsi(31, 4), 18);
	for (unsigned s = 0; s < 32; s++)
		for (unsigned p = 0; p <= 5; p++) {
			uint32_t g = pci_intx_gsi(s, p);
			assert_true(g >= 16 && g < 20);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_slot_all_ones),
		cmocka_unit_test(test_host_bridge_ids),
		cmocka_unit_test(test_conf1_address_latch),
		cmocka_unit_test(test_conf1_register_and_sizes),
		cmocka_unit_test(test_ecam_equivalence),
		cmocka_unit_test(test_multifunction),
		cmocka_unit_test(test_slots_fill_up),
		cmocka_unit_test(test_reset_control_cf9),
		cmocka_unit_test(test_layout_default),
		cmocka_unit_test(test_intx_swizzle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
