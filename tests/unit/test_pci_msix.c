/* MSI-X: capability, table writes → routes, irqfd binding, per-vector and
 * function masking with pending bits, the slow path, hostile accesses. */
#include <pthread.h>
#include <semaphore.h>

#include "test_pci_helpers.h"

#define SLOT   3
#define TBL    0xc0000000ull            /* BAR0 of the only device */
#define PBA    (TBL + 0x800)
#define APIC   0xfee00000u

static struct tdev *msix_dev(struct fake_vm *vm, unsigned nr, int *cap)
{
	struct tdev *t = tdev_new(vm, 0x1041);

	*cap = pci_msix_init(&t->f, nr, 0, 0, 0, 0x800);
	assert_true(*cap >= 0x40);
	assert_int_equal(pci_host_attach(vm->host, &t->f, SLOT, 0), 0);
	return t;
}

static void msix_ctrl(struct fake_vm *vm, int cap, uint16_t v)
{
	conf1_write(vm, SLOT, 0, cap + 2, 2, v);
}

static void entry(struct fake_vm *vm, unsigned i, uint64_t addr,
		  uint32_t data, uint32_t ctrl)
{
	mmio_wr(vm, TBL + 16 * i, 8, addr);
	mmio_wr(vm, TBL + 16 * i + 8, 4, data);
	mmio_wr(vm, TBL + 16 * i + 12, 4, ctrl);
}

static void test_cap_layout(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 4, &cap);

	(void)state;
	assert_int_equal(conf1_read(vm, SLOT, 0, PCI_CAP_PTR, 1), cap);
	assert_int_equal(conf1_read(vm, SLOT, 0, cap, 4), 0x00030011);
	assert_int_equal(conf1_read(vm, SLOT, 0, cap + 4, 4), 0);
	assert_int_equal(conf1_read(vm, SLOT, 0, cap + 8, 4), 0x800);
	/* Only enable and function mask are writable. */
	msix_ctrl(vm, cap, 0xffff);
	assert_int_equal(conf1_read(vm, SLOT, 0, cap + 2, 2), 0xc003);
	assert_true(pci_msix_enabled(&t->f));
	msix_ctrl(vm, cap, 0);
	assert_false(pci_msix_enabled(&t->f));
	/* Power-on table: all vectors masked, nothing pending. */
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(mmio_rd(vm, TBL + 16 * i, 8), 0);
		assert_int_equal(mmio_rd(vm, TBL + 16 * i + 8, 8),
				 (uint64_t)PCI_MSIX_VEC_MASKED << 32);
	}
	assert_int_equal(mmio_rd(vm, PBA, 8), 0);
	assert_int_equal(pci_msix_nr(&t->f), 4);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_table_routes(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 4, &cap);

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	/* Programming a masked vector routes nothing yet. */
	entry(vm, 0, APIC | 0x1000, 0x4041, PCI_MSIX_VEC_MASKED);
	assert_int_equal(vm->route_calls, 0);
	assert_int_equal(mmio_rd(vm, TBL, 4), APIC | 0x1000);
	assert_int_equal(mmio_rd(vm, TBL + 8, 4), 0x4041);
	/* Unmask: a route with the message, and the eventfd bound to it. */
	mmio_wr(vm, TBL + 12, 4, 0);
	assert_int_equal(vm->nr_routes, 1);
	assert_int_equal(vm->route[0].addr, APIC | 0x1000);
	assert_int_equal(vm->route[0].data, 0x4041);
	/* from 00:03.0: requester ID 0x18 (arm64's ITS translates by it) */
	assert_int_equal(vm->route[0].devid, SLOT << 3);
	assert_true(vm->route[0].bound);
	assert_int_equal(vm->route[0].efd, pci_msix_fd(&t->f, 0));
	/* The fast path: a write to the eventfd is a delivery. */
	pci_msix_notify(&t->f, 0);
	pci_msix_notify(&t->f, 0);
	assert_int_equal(fake_deliveries(vm, 0), 2);
	/* Rewriting the live vector: stored, routed at the next unmask,
	 * where its route is updated in place. */
	unsigned calls = vm->route_calls;
	mmio_wr(vm, TBL + 8, 4, 0x4052);
	assert_int_equal(mmio_rd(vm, TBL + 8, 4), 0x4052);
	assert_int_equal(vm->route_calls, calls);
	assert_int_equal(vm->route[0].data, 0x4041);
	mmio_wr(vm, TBL + 12, 4, PCI_MSIX_VEC_MASKED);
	mmio_wr(vm, TBL + 12, 4, 0);
	assert_int_equal(vm->nr_routes, 1);
	assert_int_equal(vm->route[0].data, 0x4052);
	assert_true(vm->route[0].bound);
	assert_int_equal(vm->bind_calls, 2);
	/* Same value again, masked and unmasked: no route call. */
	calls = vm->route_calls;
	mmio_wr(vm, TBL + 12, 4, PCI_MSIX_VEC_MASKED);
	mmio_wr(vm, TBL + 8, 4, 0x4052);
	mmio_wr(vm, TBL + 12, 4, 0);
	assert_int_equal(vm->route_calls, calls);
	/* A second vector gets a route of its own. */
	entry(vm, 3, APIC | 0x2000, 0x4061, 0);
	assert_int_equal(vm->nr_routes, 2);
	assert_int_equal(vm->route[1].data, 0x4061);
	pci_msix_notify(&t->f, 3);
	assert_int_equal(fake_deliveries(vm, 1), 1);
	assert_int_equal(fake_deliveries(vm, 0), 0);
	/* Address bits 1:0 and reserved control bits do not stick. */
	mmio_wr(vm, TBL + 16 + 0, 4, APIC | 3);
	assert_int_equal(mmio_rd(vm, TBL + 16, 4), APIC);
	mmio_wr(vm, TBL + 16 + 12, 4, 0xfffffffe);
	assert_int_equal(mmio_rd(vm, TBL + 16 + 12, 4), 0);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_vector_mask_pending(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 4, &cap);

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	entry(vm, 1, APIC, 0x30, 0);
	assert_true(vm->route[0].bound);
	/* Masked: the eventfd is unbound, the message waits. */
	mmio_wr(vm, TBL + 16 + 12, 4, PCI_MSIX_VEC_MASKED);
	assert_false(vm->route[0].bound);
	pci_msix_notify(&t->f, 1);
	pci_msix_notify(&t->f, 1);
	assert_int_equal(mmio_rd(vm, PBA, 8), 1 << 1);
	assert_int_equal(mmio_rd(vm, PBA, 4), 1 << 1);
	/* PBA writes are ignored. */
	mmio_wr(vm, PBA, 8, 0);
	assert_int_equal(mmio_rd(vm, PBA, 8), 1 << 1);
	/* Unmask: one delivery for what was pending, bit cleared. */
	mmio_wr(vm, TBL + 16 + 12, 4, 0);
	assert_true(vm->route[0].bound);
	assert_int_equal(fake_deliveries(vm, 0), 1);
	assert_int_equal(mmio_rd(vm, PBA, 8), 0);
	/* Raised while masked, unmasked before the PBA was ever read. */
	mmio_wr(vm, TBL + 16 + 12, 4, PCI_MSIX_VEC_MASKED);
	pci_msix_notify(&t->f, 1);
	mmio_wr(vm, TBL + 16 + 12, 4, 0);
	assert_int_equal(fake_deliveries(vm, 0), 1);
	/* Masked with nothing raised: nothing pending on unmask. */
	mmio_wr(vm, TBL + 16 + 12, 4, PCI_MSIX_VEC_MASKED);
	assert_int_equal(mmio_rd(vm, PBA, 8), 0);
	mmio_wr(vm, TBL + 16 + 12, 4, 0);
	assert_int_equal(fake_deliveries(vm, 0), 0);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_function_mask(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 4, &cap);

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	/* Programmed and unmasked under the function mask: not live. */
	entry(vm, 0, APIC, 0x41, 0);
	entry(vm, 2, APIC, 0x42, 0);
	assert_int_equal(vm->bind_calls, 0);
	pci_msix_notify(&t->f, 2);
	assert_int_equal(mmio_rd(vm, PBA, 8), 1 << 2);
	/* Function unmask: both bound, the pending one delivered. */
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(vm->nr_routes, 2);
	assert_true(vm->route[0].bound && vm->route[1].bound);
	assert_int_equal(fake_deliveries(vm, 0), 0);
	assert_int_equal(fake_deliveries(vm, 1), 1);
	assert_int_equal(mmio_rd(vm, PBA, 8), 0);
	/* Mask all again: unbound; disable MSI-X: stays unbound. */
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	assert_false(vm->route[0].bound || vm->route[1].bound);
	msix_ctrl(vm, cap, 0);
	assert_false(vm->route[0].bound || vm->route[1].bound);
	/* Re-enabled: the same routes come back, none allocated anew. */
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(vm->nr_routes, 2);
	assert_true(vm->route[0].bound && vm->route[1].bound);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_bad_table_accesses(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 4, &cap);

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	/* Byte, word, misaligned dword, misaligned qword: dropped. */
	mmio_wr(vm, TBL + 12, 1, 0);
	mmio_wr(vm, TBL + 12, 2, 0);
	mmio_wr(vm, TBL + 10, 4, 0);
	mmio_wr(vm, TBL + 4, 8, 0);
	mmio_wr(vm, TBL + 1, 4, 0x12345678);
	assert_int_equal(vm->route_calls, 0);
	assert_int_equal(mmio_rd(vm, TBL + 12, 4), PCI_MSIX_VEC_MASKED);
	assert_int_equal(mmio_rd(vm, TBL, 4), 0);
	assert_int_equal(mmio_rd(vm, TBL + 12, 1), 0xff);
	assert_int_equal(mmio_rd(vm, TBL + 12, 2), 0xffff);
	assert_int_equal(mmio_rd(vm, TBL + 4, 8), ~0ull);
	assert_int_equal(mmio_rd(vm, PBA + 1, 1), 0xff);
	/* Between the table and the PBA, and after: the device's. */
	mmio_rd(vm, TBL + 0x40, 4);
	assert_int_equal(t->last_off, 0x40);
	mmio_rd(vm, PBA + 8, 4);
	assert_int_equal(t->last_off, 0x808);
	/* A qword straddling the end of the table: dropped. */
	unsigned reads = t->reads;
	mmio_rd(vm, TBL + 0x40 - 4, 8);
	assert_int_equal(t->reads, reads);
	/* Out-of-range vector numbers from the device side. */
	pci_msix_notify(&t->f, 4);
	pci_msix_notify(&t->f, ~0u);
	assert_int_equal(pci_msix_fd(&t->f, 4), -1);
	assert_int_equal(vm->bind_calls, 0);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_bad_message_address(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 2, &cap);

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	/* Not the APIC window, or above 4 GiB: never routed. */
	entry(vm, 0, 0xfed00000, 0x41, 0);
	entry(vm, 1, 0x1fee00000ull, 0x41, 0);
	assert_int_equal(vm->route_calls, 0);
	assert_int_equal(vm->bind_calls, 0);
	pci_msix_notify(&t->f, 0);
	/* Fixed by the guest (masked around the write, as drivers do):
	 * routed and bound from then on. */
	mmio_wr(vm, TBL + 12, 4, PCI_MSIX_VEC_MASKED);
	mmio_wr(vm, TBL, 4, APIC);
	mmio_wr(vm, TBL + 12, 4, 0);
	assert_int_equal(vm->nr_routes, 1);
	assert_true(vm->route[0].bound);
	/* Made bad again while live: the route keeps the good message until
	 * the next unmask, which unbinds it. */
	mmio_wr(vm, TBL, 4, 0);
	assert_true(vm->route[0].bound);
	assert_int_equal(vm->route[0].addr, APIC);
	mmio_wr(vm, TBL + 12, 4, PCI_MSIX_VEC_MASKED);
	mmio_wr(vm, TBL + 12, 4, 0);
	assert_false(vm->route[0].bound);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

/* A guest rewriting a live (enabled, unmasked) entry in a loop costs no
 * routing-table update per write: one msi_route call (one
 * KVM_SET_GSI_ROUTING) when the vector next goes live, with the last
 * message; also when the writes are qwords that rewrite the control word
 * with "unmasked" each time. */
static void test_live_rewrite_loop(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 2, &cap);
	unsigned calls, binds;

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	entry(vm, 1, APIC, 0x41, 0);
	assert_true(vm->route[0].bound);
	calls = vm->route_calls;
	binds = vm->bind_calls + vm->unbind_calls;
	for (unsigned i = 0; i < 1000; i++) {
		mmio_wr(vm, TBL + 16, 8, APIC | ((i & 0xff) << 12));
		mmio_wr(vm, TBL + 16 + 8, 8, 0x4000 + i);  /* data, ctrl 0 */
		mmio_wr(vm, TBL + 16 + 8, 4, 0x5000 + i);
	}
	assert_int_equal(vm->route_calls, calls);
	assert_int_equal(vm->bind_calls + vm->unbind_calls, binds);
	/* Deliveries still work, with the message routed last. */
	pci_msix_notify(&t->f, 1);
	assert_int_equal(fake_deliveries(vm, 0), 1);
	assert_int_equal(vm->route[0].data, 0x41);
	/* The next unmask routes the current message: one call. */
	mmio_wr(vm, TBL + 16 + 12, 4, PCI_MSIX_VEC_MASKED);
	mmio_wr(vm, TBL + 16 + 12, 4, 0);
	assert_int_equal(vm->route_calls, calls + 1);
	assert_int_equal(vm->route[0].addr, APIC | (999 & 0xff) << 12);
	assert_int_equal(vm->route[0].data, 0x5000 + 999);
	assert_true(vm->route[0].bound);
	/* So does re-enabling MSI-X after a rewrite while disabled... */
	msix_ctrl(vm, cap, 0);
	mmio_wr(vm, TBL + 16 + 8, 4, 0x77);
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(vm->route_calls, calls + 2);
	assert_int_equal(vm->route[0].data, 0x77);
	/* ...and lifting the function mask. */
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	mmio_wr(vm, TBL + 16 + 8, 4, 0x78);
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(vm->route_calls, calls + 3);
	assert_int_equal(vm->route[0].data, 0x78);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_route_failure(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 2, &cap);

	(void)state;
	vm->route_fail = -ENOSPC;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	entry(vm, 0, APIC, 0x41, 0);
	assert_int_equal(vm->bind_calls, 0);
	pci_msix_notify(&t->f, 0);
	/* Routes become available; the next unmask binds. */
	vm->route_fail = 0;
	mmio_wr(vm, TBL + 12, 4, 1);
	mmio_wr(vm, TBL + 12, 4, 0);
	assert_true(vm->route[0].bound);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_slow_path(void **state)
{
	struct fake_vm *vm = fake_vm_new(false);
	int cap;
	struct tdev *t = msix_dev(vm, 4, &cap);

	(void)state;
	assert_int_equal(pci_msix_fd(&t->f, 0), -1);
	/* Disabled: nothing at all. */
	pci_msix_notify(&t->f, 0);
	assert_int_equal(vm->nr_sig, 0);
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	entry(vm, 0, APIC | 0x3000, 0x51, 0);
	pci_msix_notify(&t->f, 0);
	assert_int_equal(vm->nr_sig, 1);
	assert_int_equal(vm->sig[0].addr, APIC | 0x3000);
	assert_int_equal(vm->sig[0].data, 0x51);
	/* Masked: pending, delivered on unmask. */
	mmio_wr(vm, TBL + 12, 4, 1);
	pci_msix_notify(&t->f, 0);
	assert_int_equal(vm->nr_sig, 1);
	assert_int_equal(mmio_rd(vm, PBA, 4), 1);
	mmio_wr(vm, TBL + 12, 4, 0);
	assert_int_equal(vm->nr_sig, 2);
	assert_int_equal(mmio_rd(vm, PBA, 4), 0);
	/* Function mask, same story. */
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	pci_msix_notify(&t->f, 0);
	assert_int_equal(vm->nr_sig, 2);
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(vm->nr_sig, 3);
	/* Bad address: dropped. */
	mmio_wr(vm, TBL, 4, 0xdead0000);
	pci_msix_notify(&t->f, 0);
	assert_int_equal(vm->nr_sig, 3);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_intx_blocked_while_enabled(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 2, &cap);
	uint32_t gsi = pci_intx_gsi(SLOT, 1);

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	pci_func_set_irq(&t->f, true);
	assert_int_equal(vm->irq[gsi], 0);
	msix_ctrl(vm, cap, 0);
	assert_int_equal(vm->irq[gsi], 1);
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(vm->irq[gsi], 0);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

static void test_reset_and_free(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 2, &cap);

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	entry(vm, 0, APIC, 0x41, 0);
	assert_true(vm->route[0].bound);
	t->f.dev.ops->reset(&t->f.dev);
	assert_false(vm->route[0].bound);
	assert_false(pci_msix_enabled(&t->f));
	assert_int_equal(conf1_read(vm, SLOT, 0, cap + 2, 2), 1);
	assert_int_equal(mmio_rd(vm, TBL, 8), 0);
	assert_int_equal(mmio_rd(vm, TBL + 12, 4), PCI_MSIX_VEC_MASKED);
	/* Live again after reset, then freed: route released. */
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	entry(vm, 0, APIC, 0x41, 0);
	assert_int_equal(vm->nr_routes, 1);
	assert_true(vm->route[0].bound);
	tdev_free_dev(t);
	assert_false(vm->route[0].bound);
	assert_true(vm->route[0].freed);
	fake_vm_free(vm);
}

static void test_init_errors(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	struct tdev *t = tdev_new(vm, 1);

	(void)state;
	/* BAR0 4 KiB MEM, BAR1 IO, BAR2 16 KiB 64-bit. */
	assert_int_equal(pci_msix_init(&t->f, 0, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 2049, 2, 0, 2, 0x8000),
			 -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 4, 1, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 4, 4, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 4, 9, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 4, 0, 4, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 4, 0, 0, 0, 0x20), -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 256, 0, 0, 0, 0x800), -EINVAL);
	assert_int_equal(pci_msix_init(&t->f, 4, 0, 0xff8, 0, 0x800), -EINVAL);
	/* 256 vectors in BAR2 with the PBA in BAR0: fine. */
	assert_int_equal(pci_msix_init(&t->f, 256, 2, 0, 0, 0xfe0), 0x40);
	assert_int_equal(pci_msix_init(&t->f, 4, 0, 0, 0, 0x800), -EINVAL);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

struct racer {
	struct pci_func *f;
	bool _Atomic stop;
	sem_t started;           /* posted after the first round */
	unsigned long notifies;
};

/* The IO thread: raises vectors and the INTx line with no coordination.
 * Its first round is a handshake: the test waits for it, so the racer has
 * run at least once however loaded the machine is (how much it overlaps
 * the table writes is up to the scheduler, and nothing asserts on it). */
static void *racer_main(void *arg)
{
	struct racer *r = arg;

	do {
		pci_msix_notify(r->f, r->notifies % 4);
		pci_func_set_irq(r->f, r->notifies & 1);
		if (!r->notifies++)
			sem_post(&r->started);
	} while (!r->stop);
	return NULL;
}

static void test_concurrent_notify(void **state)
{
	struct fake_vm *vm = fake_vm_new(true);
	int cap;
	struct tdev *t = msix_dev(vm, 4, &cap);
	struct racer r = { .f = &t->f };
	pthread_t th;

	(void)state;
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	for (unsigned i = 0; i < 4; i++)
		entry(vm, i, APIC, 0x40 + i, 0);
	assert_int_equal(sem_init(&r.started, 0, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, racer_main, &r), 0);
	sem_wait(&r.started);
	for (unsigned i = 0; i < 2000; i++) {
		mmio_wr(vm, TBL + 16 * (i % 4) + 12, 4, i & 1);
		if (i % 7 == 0)
			msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE |
				  (i & 8 ? PCI_MSIX_CTRL_MASKALL : 0));
		if (i % 5 == 0)
			conf1_write(vm, SLOT, 0, PCI_COMMAND, 2,
				    PCI_COMMAND_MEMORY |
				    (i & 2 ? PCI_COMMAND_INTX_DISABLE : 0));
		mmio_rd(vm, PBA, 8);
		conf1_read(vm, SLOT, 0, PCI_STATUS, 2);
	}
	/* Everything unmasked at the end: whatever is still pending or
	 * sitting in an eventfd gets delivered, nothing stays behind. */
	msix_ctrl(vm, cap, PCI_MSIX_CTRL_ENABLE);
	for (unsigned i = 0; i < 4; i++)
		mmio_wr(vm, TBL + 16 * i + 12, 4, 0);
	r.stop = true;
	pthread_join(th, NULL);
	sem_destroy(&r.started);
	assert_true(r.notifies >= 1);     /* the handshake guarantees it */
	assert_int_equal(mmio_rd(vm, PBA, 8), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_true(vm->route[i].bound);
	tdev_free_dev(t);
	fake_vm_free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_layout),
		cmocka_unit_test(test_table_routes),
		cmocka_unit_test(test_vector_mask_pending),
		cmocka_unit_test(test_function_mask),
		cmocka_unit_test(test_bad_table_accesses),
		cmocka_unit_test(test_bad_message_address),
		cmocka_unit_test(test_live_rewrite_loop),
		cmocka_unit_test(test_route_failure),
		cmocka_unit_test(test_slow_path),
		cmocka_unit_test(test_intx_blocked_while_enabled),
		cmocka_unit_test(test_reset_and_free),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_concurrent_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
