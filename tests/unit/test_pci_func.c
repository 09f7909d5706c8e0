/* PCI functions: BAR placement, sizing, moves, decoding, hostile overlaps,
 * capability lists and hooks, command/status, INTx, reset. */
#include "test_pci_helpers.h"

static struct tdev *attach_new(struct fake_vm *vm, unsigned slot)
{
	struct tdev *t = tdev_new(vm, 0x1000 + slot);

	assert_int_equal(pci_host_attach(vm->host, &t->f, slot, 0), 0);
	return t;
}

static void test_bar_placement(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = attach_new(vm, 1);

	(void)state;
	assert_int_equal(conf1_read(vm, 1, 0, PCI_BAR0, 4), 0xc0000000);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_BAR0 + 4, 4), 0xc001);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_BAR0 + 8, 4), 0xc000400c);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_BAR0 + 12, 4), 0);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_BAR0 + 16, 4), 0);
	/* Decoding on, as firmware leaves it; bus master is the driver's. */
	assert_int_equal(conf1_read(vm, 1, 0, PCI_COMMAND, 2),
			 PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(t->moved[0], 0xc0000000);
	/* Accesses reach the device with BAR-relative offsets. */
	assert_int_equal(mmio_rd(vm, 0xc0000010, 4), 0x10);
	assert_int_equal(t->last_bar, 0);
	mmio_wr(vm, 0xc0004ff8, 8, 0x1122334455667788ull);
	assert_int_equal(t->last_bar, 2);
	assert_int_equal(t->last_off, 0xff8);
	assert_int_equal(t->last_val, 0x1122334455667788ull);
	pio_out(vm, 0xc01f, 1, 0x5a);
	assert_int_equal(t->last_bar, 1);
	assert_int_equal(t->last_off, 0x1f);
	/* Interrupt line names the swizzled GSI. */
	assert_int_equal(conf1_read(vm, 1, 0, PCI_INTERRUPT_LINE, 1), 17);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_bar_sizing(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = attach_new(vm, 2);

	(void)state;
	conf1_write(vm, 2, 0, PCI_COMMAND, 2, 0);
	for (unsigned n = 0; n < PCI_NUM_BARS; n++)
		conf1_write(vm, 2, 0, PCI_BAR0 + 4 * n, 4, 0xffffffff);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_BAR0, 4), 0xfffff000);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_BAR0 + 4, 4), 0xffffffe1);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_BAR0 + 8, 4), 0xffffc00c);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_BAR0 + 12, 4), 0xffffffff);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_BAR0 + 16, 4), 0);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_BAR0 + 20, 4), 0);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_ROM_ADDRESS, 4), 0);
	/* Decoding off: nothing of the device is on the buses. */
	assert_int_equal(mmio_rd(vm, 0xc0000000, 4), 0xffffffff);
	assert_int_equal(t->reads, 0);
	/* Sizing pattern left in place with decoding on: still dark, and
	 * no crash, even for the 64-bit BAR at the top of the space. */
	conf1_write(vm, 2, 0, PCI_COMMAND, 2,
		    PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	for (unsigned n = 0; n < 3; n++)
		assert_int_equal(t->f.bars[n].mapped, PCI_BAR_UNMAPPED);
	assert_int_equal(mmio_rd(vm, 0xfffff000, 4), 0xffffffff);
	assert_int_equal(t->reads, 0);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_bar_move(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = attach_new(vm, 1);

	(void)state;
	/* Memory BAR: old range gone, new one decodes. */
	conf1_write(vm, 1, 0, PCI_BAR0, 4, 0xd0000000);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_BAR0, 4), 0xd0000000);
	assert_int_equal(mmio_rd(vm, 0xc0000000, 4), 0xffffffff);
	assert_int_equal(t->reads, 0);
	assert_int_equal(mmio_rd(vm, 0xd0000004, 4), 4);
	assert_int_equal(t->reads, 1);
	assert_int_equal(t->moved[0], 0xd0000000);
	/* 64-bit BAR above 4 GiB, written low then high dword. */
	conf1_write(vm, 1, 0, PCI_BAR0 + 8, 4, 0x00000000);
	conf1_write(vm, 1, 0, PCI_BAR0 + 12, 4, 0x10);
	assert_int_equal(t->f.bars[2].mapped, 0x1000000000ull);
	assert_int_equal(mmio_rd(vm, 0x1000000100ull, 4), 0x100);
	assert_int_equal(t->last_bar, 2);
	assert_int_equal(mmio_rd(vm, 0xc0004000, 4), 0xffffffff);
	/* IO BAR. */
	conf1_write(vm, 1, 0, PCI_BAR0 + 4, 4, 0xd000);
	assert_int_equal(pio_in(vm, 0xc000, 1), 0xff);
	pio_in(vm, 0xd004, 2);
	assert_int_equal(t->last_bar, 1);
	assert_int_equal(t->last_off, 4);
	/* IO above 64 KiB does not decode. */
	conf1_write(vm, 1, 0, PCI_BAR0 + 4, 4, 0x10000);
	assert_int_equal(t->f.bars[1].mapped, PCI_BAR_UNMAPPED);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_command_decode_toggle(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = attach_new(vm, 1);

	(void)state;
	/* MEM off: memory BARs unmapped, IO stays. */
	conf1_write(vm, 1, 0, PCI_COMMAND, 2, PCI_COMMAND_IO);
	assert_int_equal(mmio_rd(vm, 0xc0000000, 4), 0xffffffff);
	assert_int_equal(mmio_rd(vm, 0xc0004000, 4), 0xffffffff);
	assert_int_equal(t->reads, 0);
	assert_int_equal(t->moved[0], PCI_BAR_UNMAPPED);
	pio_in(vm, 0xc000, 1);
	assert_int_equal(t->reads, 1);
	/* Moving a BAR with decoding off maps nothing. */
	conf1_write(vm, 1, 0, PCI_BAR0, 4, 0xd0000000);
	assert_int_equal(mmio_rd(vm, 0xd0000000, 4), 0xffffffff);
	/* MEM on: the new address decodes. */
	conf1_write(vm, 1, 0, PCI_COMMAND, 2,
		    PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	assert_int_equal(mmio_rd(vm, 0xd0000000, 4), 0);
	assert_int_equal(t->reads, 2);
	/* IO off through a byte write of the command register. */
	conf1_write(vm, 1, 0, PCI_COMMAND, 1, PCI_COMMAND_MEMORY);
	assert_int_equal(pio_in(vm, 0xc000, 1), 0xff);
	assert_int_equal(t->reads, 2);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_hostile_overlap(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *a = attach_new(vm, 1), *b = attach_new(vm, 2);
	uint32_t b_bar0 = conf1_read(vm, 2, 0, PCI_BAR0, 4);

	(void)state;
	assert_int_equal(b_bar0, 0xc0008000);
	/* b's BAR0 onto a's BAR0: refused, left dark, a unharmed. */
	conf1_write(vm, 2, 0, PCI_BAR0, 4, 0xc0000000);
	assert_int_equal(b->f.bars[0].mapped, PCI_BAR_UNMAPPED);
	assert_true(b->f.bars[0].want_map);
	mmio_rd(vm, 0xc0000000, 4);
	assert_int_equal(a->reads, 1);
	assert_int_equal(b->reads, 0);
	assert_int_equal(mmio_rd(vm, 0xc0008000, 4), 0xffffffff);
	/* Onto the ECAM window and onto the config ports: refused too. */
	conf1_write(vm, 2, 0, PCI_BAR0, 4, PCI_ECAM_BASE_DEFAULT);
	assert_int_equal(b->f.bars[0].mapped, PCI_BAR_UNMAPPED);
	assert_int_equal(ecam_read(vm, 2, 0, 0, 2), 0x1af4);
	conf1_write(vm, 2, 0, PCI_BAR0 + 4, 4, 0xce0);
	assert_int_equal(b->f.bars[1].mapped, PCI_BAR_UNMAPPED);
	assert_int_equal(conf1_read(vm, 2, 0, 0, 2), 0x1af4);
	/* Back onto a's BAR0; then a moves away and b gets the range. */
	conf1_write(vm, 2, 0, PCI_BAR0, 4, 0xc0000000);
	conf1_write(vm, 1, 0, PCI_BAR0, 4, 0xe0000000);
	assert_int_equal(b->f.bars[0].mapped, 0xc0000000);
	mmio_rd(vm, 0xc0000000, 4);
	assert_int_equal(b->reads, 1);
	mmio_rd(vm, 0xe0000000, 4);
	assert_int_equal(a->reads, 2);
	/* Every BAR onto one address, with decoding churn: no crash. */
	for (unsigned i = 0; i < 50; i++) {
		conf1_write(vm, 1 + i % 2, 0, PCI_BAR0 + 4 * (i % 3), 4,
			    0xe0000000 + (i % 4) * 0x1000);
		conf1_write(vm, 1 + i % 2, 0, PCI_COMMAND, 2, i & 3);
	}
	tdev_free_dev(a);
	tdev_free_dev(b);
	fake_vm_free(vm);
}

static uint32_t hook_val;
static unsigned hook_writes;

static uint32_t hook_read(struct pci_func *f, unsigned off, unsigned size)
{
	(void)f;
	(void)off;
	return hook_val & (size == 4 ? ~0u : (1u << (8 * size)) - 1);
}

static void hook_write(struct pci_func *f, unsigned off, unsigned size,
		       uint32_t v)
{
	(void)f;
	(void)off;
	(void)size;
	hook_writes++;
	hook_val = v;
}

static void test_capabilities(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = tdev_new(vm, 0x1040);
	uint8_t body1[14] = { 14 + 2, 1, 0, 0, 0, 0, 0xaa, 0xbb };
	uint8_t body2[1] = { 0x77 };
	uint8_t big[200] = { 0 };
	unsigned seen[4], n = 0, off;
	int c1, c2, c3;

	(void)state;
	c1 = pci_add_cap(&t->f, PCI_CAP_ID_VNDR, body1, sizeof(body1));
	c2 = pci_add_cap(&t->f, PCI_CAP_ID_VNDR, body2, sizeof(body2));
	c3 = pci_add_cap(&t->f, 0x05, NULL, 0);
	assert_int_equal(c1, 0x40);
	assert_int_equal(c2, 0x50);
	assert_int_equal(c3, 0x54);
	assert_int_equal(pci_add_cap(&t->f, 0x09, big, sizeof(big)), -ENOSPC);
	pci_cfg_set_writable(&t->f, c1 + 4, 4);
	assert_int_equal(pci_cfg_add_hook(&t->f, c2 + 2, 2, hook_read,
					  hook_write), 0);
	assert_int_equal(pci_host_attach(vm->host, &t->f, 6, 0), 0);

	assert_true(conf1_read(vm, 6, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	off = conf1_read(vm, 6, 0, PCI_CAP_PTR, 1);
	while (off && n < 4) {
		assert_int_equal(off & 3, 0);
		seen[n++] = off;
		off = ecam_read(vm, 6, 0, off + 1, 1);
	}
	assert_int_equal(n, 3);
	assert_int_equal(seen[0], 0x40);
	assert_int_equal(seen[1], 0x50);
	assert_int_equal(seen[2], 0x54);
	assert_int_equal(conf1_read(vm, 6, 0, 0x40, 4), 0x01105009);
	assert_int_equal(conf1_read(vm, 6, 0, 0x48, 1), 0xaa);
	/* Read-only body bytes stay; the writable ones take the write. */
	conf1_write(vm, 6, 0, 0x40, 4, 0xffffffff);
	assert_int_equal(conf1_read(vm, 6, 0, 0x40, 4), 0x01105009);
	conf1_write(vm, 6, 0, 0x44, 4, 0xcafef00d);
	assert_int_equal(conf1_read(vm, 6, 0, 0x44, 4), 0xcafef00d);
	/* Hooked bytes. */
	hook_val = 0x1234;
	assert_int_equal(conf1_read(vm, 6, 0, 0x52, 2), 0x1234);
	conf1_write(vm, 6, 0, 0x52, 2, 0x4321);
	assert_int_equal(hook_writes, 1);
	assert_int_equal(hook_val, 0x4321);
	conf1_write(vm, 6, 0, 0x50, 1, 0);  /* outside the hook */
	assert_int_equal(hook_writes, 1);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_command_status_bits(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = attach_new(vm, 1);

	(void)state;
	conf1_write(vm, 1, 0, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_COMMAND, 2), 0x0547);
	/* Status: error bits are write-1-to-clear; the rest is read-only. */
	t->f.cfg[PCI_STATUS + 1] |= 0x20;      /* received master abort */
	conf1_write(vm, 1, 0, PCI_STATUS, 2, 0x0000);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_STATUS, 2), 0x2000);
	conf1_write(vm, 1, 0, PCI_STATUS, 2, 0xffff);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_STATUS, 2), 0);
	/* A dword write at 0x04 reaches both. */
	conf1_write(vm, 1, 0, PCI_COMMAND, 4, 0xffff0002);
	assert_int_equal(conf1_read(vm, 1, 0, PCI_COMMAND, 4), 0x00000002);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_intx(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = attach_new(vm, 2);
	uint32_t gsi = pci_intx_gsi(2, 1);

	(void)state;
	assert_int_equal(gsi, 18);
	pci_func_set_irq(&t->f, true);
	assert_int_equal(vm->irq[gsi], 1);
	assert_true(conf1_read(vm, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_func_set_irq(&t->f, false);
	assert_int_equal(vm->irq[gsi], 0);
	assert_false(conf1_read(vm, 2, 0, PCI_STATUS, 2) &
		     PCI_STATUS_INTERRUPT);
	/* Repeating a level does not re-signal. */
	pci_func_set_irq(&t->f, false);
	assert_int_equal(vm->irq_calls, 2);

	/* INTX_DISABLE: the status bit still shows the line, the pin does
	 * not; clearing the disable delivers the level still held. */
	conf1_write(vm, 2, 0, PCI_COMMAND, 2, PCI_COMMAND_MEMORY |
		    PCI_COMMAND_IO | PCI_COMMAND_INTX_DISABLE);
	pci_func_set_irq(&t->f, true);
	assert_int_equal(vm->irq[gsi], 0);
	assert_true(conf1_read(vm, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	conf1_write(vm, 2, 0, PCI_COMMAND, 2,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	assert_int_equal(vm->irq[gsi], 1);
	/* Disabling while asserted drops the pin. */
	conf1_write(vm, 2, 0, PCI_COMMAND + 1, 1, PCI_COMMAND_INTX_DISABLE >> 8);
	assert_int_equal(vm->irq[gsi], 0);
	conf1_write(vm, 2, 0, PCI_COMMAND + 1, 1, 0);
	assert_int_equal(vm->irq[gsi], 1);
	/* Reset drops it too and restores firmware state. */
	conf1_write(vm, 2, 0, PCI_BAR0, 4, 0xd0000000);
	t->f.dev.ops->reset(&t->f.dev);
	assert_int_equal(vm->irq[gsi], 0);
	assert_int_equal(t->resets, 1);
	assert_int_equal(conf1_read(vm, 2, 0, PCI_BAR0, 4), 0xc0000000);
	assert_int_equal(t->f.bars[0].mapped, 0xc0000000);
	assert_int_equal(mmio_rd(vm, 0xd0000000, 4), 0xffffffff);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_bad_bar_declarations(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = tdev_new(vm, 1);

	(void)state;
	assert_int_equal(pci_func_add_bar(&t->f, 0, 4096, 0), -EINVAL);
	assert_int_equal(pci_func_add_bar(&t->f, 3, 4096, 0), -EINVAL);
	assert_int_equal(pci_func_add_bar(&t->f, 5, 4096,
					  PCI_BAR_MEM_TYPE_64), -EINVAL);
	assert_int_equal(pci_func_add_bar(&t->f, 4, 3000, 0), -EINVAL);
	assert_int_equal(pci_func_add_bar(&t->f, 4, 8, 0), -EINVAL);
	assert_int_equal(pci_func_add_bar(&t->f, 4, 512, PCI_BAR_SPACE_IO),
			 -EINVAL);
	assert_int_equal(pci_func_add_bar(&t->f, 6, 4096, 0), -EINVAL);
	assert_int_equal(pci_func_add_bar(&t->f, 4, 1 << 20, 0), 0);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_window_exhausted(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = calloc(1, sizeof(*t));

	(void)state;
	pci_func_init(&t->f, "huge", &tdev_ops, &vm->env, 1, 2, 0, 0, 0, 0);
	assert_int_equal(pci_func_add_bar(&t->f, 0, 1ull << 31, 0), 0);
	assert_int_equal(pci_host_attach(vm->host, &t->f, 3, 0), -ENOSPC);
	assert_int_equal(conf1_read(vm, 3, 0, 0, 4), 0xffffffff);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar_placement),
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_bar_move),
		cmocka_unit_test(test_command_decode_toggle),
		cmocka_unit_test(test_hostile_overlap),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_command_status_bits),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_bad_bar_declarations),
		cmocka_unit_test(test_window_exhausted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
