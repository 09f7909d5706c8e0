/* Coalesced MMIO (KVM_REGISTER_COALESCED_MMIO): guest writes into a
 * registered zone do not exit to user space. KVM appends them to a ring
 * in a page of the vCPU mmap area, shared by every vCPU of the VM, and
 * returns to the guest; whichever vCPU exits next applies them, in order,
 * through the bus before it handles its own exit. A write is then late
 * but never lost or reordered against anything the guest can see of the
 * device: every read of a register exits, and so drains the ring first.
 * That is the ordering of a posted PCI write, which a bridge may also
 * hold until the next read; a device may ask for it only for registers
 * whose write starts nothing the guest could wait for without touching
 * the device again (the LSI's DSA: the SCRIPTS use it once a DSP write,
 * which exits, starts them; SCRIPTS that a disk completion resumes on
 * the event loop may run ahead of a DSA write still in the ring, which
 * only a driver that writes DSA while its own command runs could see).
 * On an exit per write of 30-40 us (kvm_pvm), one write less per
 * command is a tenth of the command.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "bus/bus_fast.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

void vm_coalesced_probe(struct vm *vm)
{
	long page = sysconf(_SC_PAGESIZE);
	int off = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	/* The ring's page must lie inside the mapping every vCPU makes. */
	if (off <= 0 || page <= 0 || ((long)off + 1) * page > vm->vcpu_mmap_size)
		return;
	vm->coalesced_off = (size_t)off * (size_t)page;
	/* What fits in the page after the indices: KVM_COALESCED_MMIO_MAX,
	 * which needs the kernel's PAGE_SIZE. */
	vm->coalesced_max = (uint32_t)(((unsigned long)page -
					sizeof(struct kvm_coalesced_mmio_ring)) /
				       sizeof(struct kvm_coalesced_mmio));
}

/* dev_env.coalesce: on, writes inside addr..addr+len stop exiting. */
int vm_coalesce(void *ctx, uint64_t addr, unsigned len, bool on)
{
	struct vm *vm = ctx;
	struct kvm_coalesced_mmio_zone z = { .addr = addr, .size = len };

	if (!vm->coalesced_off)
		return -ENOTSUP;
	return ioctl(vm->vm_fd, on ? KVM_REGISTER_COALESCED_MMIO :
			 KVM_UNREGISTER_COALESCED_MMIO, &z) < 0 ? -errno : 0;
}

void vcpu_coalesced_map(struct vcpu *v)
{
	if (v->vm->coalesced_off)
		v->coalesced = (struct kvm_coalesced_mmio_ring *)
			((char *)v->run + v->vm->coalesced_off);
}

/* Apply what the ring holds. The lock keeps the order across vCPUs: two
 * draining at once would otherwise each apply a different entry first.
 * `last` is the kernel's; one out of range (it never is) ends the drain
 * instead of indexing past the page. */
void vcpu_coalesced_drain(struct vcpu *v)
{
	struct kvm_coalesced_mmio_ring *ring = v->coalesced;
	uint32_t max = v->vm->coalesced_max;
	uint64_t n = 0;

	pthread_mutex_lock(&v->vm->coalesced_lock);
	for (;;) {
		uint32_t first = ring->first;
		uint32_t last = __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE);
		struct kvm_coalesced_mmio e;
		bool hit;

		if (first == last || first >= max || last >= max)
			break;
		e = ring->coalesced_mmio[first];
		__atomic_store_n(&ring->first, (first + 1) % max,
				 __ATOMIC_RELEASE);
		if (!e.len || e.len > sizeof(e.data))
			continue;
		hit = bus_access_fast(&v->vm->mmio, &v->mmio_cache,
				      e.phys_addr, e.data, e.len, true);
		stats_access(&v->stats, BUS_MMIO, hit ? &v->mmio_cache.r : NULL,
			     true, 1);
		n++;
	}
	pthread_mutex_unlock(&v->vm->coalesced_lock);
	stats_add(&v->stats.coalesced, n);
}
