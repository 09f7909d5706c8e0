/* vm_create(): a vm_config becomes a VM, always in this order:
 * KVM and the VM fd, guest memory and its slots, the platform
 * (arch_vm_init: x86's TSS, irqchip, PIT; arm64's vGIC), the event loop,
 * devices on the buses, the boot image, the vCPUs. What differs by
 * architecture is behind arch/arch.h. Memory comes before the irqchip
 * because that order starts faster: on a kvm_pvm host the first memory
 * slot set after KVM_CREATE_IRQCHIP costs 5-7 ms, before it 0.05 ms (and
 * the irqchip after it 0.02-0.06 ms), most of the trivial guest's
 * startup. The kernel's destruction of such a VM takes longer (9.8 ms
 * against 0.6), which vm_reaper.c keeps off the exit path.
 * Each step can fail with a message; vm_destroy() undoes whatever was done.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/arm64/arm64.h"
#include "bus/pci.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/persist.h"
#include "core/util.h"
#include "devices/registry.h"
#include "event/loop.h"
#include "vcpu/vcpu.h"
#include "vfio/vfio.h"
#include "vm/vm.h"
#include "vm/vm_phases.h"


static void close_kvm_fd(void *obj)
{
	close(*(int *)obj);
	free(obj);
}

/* /dev/kvm is opened once per process and kept across resets: a VM
 * rebuilt after a reset may run where /dev/kvm cannot be opened any more
 * (a chroot, dropped privileges). */
static int get_kvm_fd(struct vm *vm)
{
	int *kept = persist_get(vm->env.persist, vm->cfg, PERSIST_KVM_FD);

	if (kept) {
		vm->kvm_fd = *kept;
		vm->kvm_fd_kept = true;
		return 0;
	}
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		pr_err("cannot open /dev/kvm: %s (is KVM enabled and "
		       "accessible to this user?)", strerror(errno));
		return -errno;
	}
	if (!vm->env.persist)
		return 0;
	kept = xcalloc(1, sizeof(*kept));
	*kept = vm->kvm_fd;
	if (persist_put(vm->env.persist, vm->cfg, PERSIST_KVM_FD, kept,
			close_kvm_fd)) {
		free(kept);
		return 0;       /* ours to close, as without persist */
	}
	vm->kvm_fd_kept = true;
	return 0;
}

static int open_kvm(struct vm *vm)
{
	int ver, ret = get_kvm_fd(vm);
	long type;

	if (ret)
		return ret;
	ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		pr_err("KVM API version %d, expected %d", ver, KVM_API_VERSION);
		return -EINVAL;
	}
	/* Ask KVM what it can do instead of trusting host CPUID flags:
	 * nested and paravirtual KVMs work without VMX/SVM in CPUID. */
	for (unsigned i = 0; i < arch_nr_required_caps; i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			  arch_required_caps[i].cap) <= 0) {
			pr_err("KVM lacks %s", arch_required_caps[i].name);
			return -ENOTSUP;
		}
	type = arch_vm_type(vm);
	if (type < 0)
		return (int)type;
	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, type);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		pr_err("KVM_CREATE_VM: %s", strerror(errno));
		return -errno;
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		pr_err("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -EINVAL;
	}
	vm_coalesced_probe(vm);
	return 0;
}

static int add_slot(struct vm *vm, unsigned slot, const struct guest_region *r)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uintptr_t)r->host,
		.flags = r->kind == GUEST_ROM ? KVM_MEM_READONLY : 0,
	};

	if (r->kind == GUEST_ROM &&
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0) {
		pr_err("KVM cannot map read-only memory for rom at %#llx",
		       (unsigned long long)r->gpa);
		return -ENOTSUP;
	}
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) < 0) {
		pr_err("memory slot at %#llx (%llu KiB): %s",
		       (unsigned long long)r->gpa,
		       (unsigned long long)(r->size >> 10), strerror(errno));
		return -errno;
	}
	return 0;
}

static int setup_memory(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int max_slots = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION,
			      KVM_CAP_NR_MEMSLOTS);
	int ret;

	char why[256];
	struct guest_region *r;

	guest_mem_set_backing(&vm->mem,
			      (cfg->mem_hugepages ? GUEST_MEM_HUGETLB : 0) |
			      (cfg->mem_prealloc ? GUEST_MEM_PREALLOC : 0));
	for (unsigned i = 0; i < cfg->nr_ram; i++) {
		r = guest_mem_add(&vm->mem, cfg->ram[i].start,
				  cfg->ram[i].size, GUEST_RAM);
		if (!r) {
			int e = errno;

			pr_err("ram %#llx,%llu KiB: %s",
			       (unsigned long long)cfg->ram[i].start,
			       (unsigned long long)(cfg->ram[i].size >> 10),
			       guest_mem_strerror(&vm->mem, e,
						  cfg->ram[i].size, why,
						  sizeof(why)));
			return -e;
		}
		pr_info("ram 0x%010llx-0x%010llx: %s",
			(unsigned long long)r->gpa,
			(unsigned long long)(r->gpa + r->size - 1),
			guest_mem_describe(r, why, sizeof(why)));
	}
	for (unsigned i = 0; i < cfg->nr_rom; i++)
		if (!guest_mem_add(&vm->mem, cfg->rom[i].start,
				   cfg->rom[i].size, GUEST_ROM)) {
			pr_err("rom %#llx: %s",
			       (unsigned long long)cfg->rom[i].start,
			       strerror(errno));
			return -errno;
		}
	ret = arch_setup_memory(vm);
	if (ret)
		return ret;
	if (max_slots > 0 && vm->mem.nr > (unsigned)max_slots) {
		pr_err("%u memory regions, KVM allows %d", vm->mem.nr,
		       max_slots);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < vm->mem.nr; i++) {
		ret = add_slot(vm, i, &vm->mem.regions[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Room for what a config may ask: every vdev and pass, the PCI host and
 * x86's four platform devices (it was CFG_MAX_VDEVS + 8: 85 could come,
 * into 72 slots). */
_Static_assert(VM_MAX_DEVICES >= CFG_MAX_VDEVS + CFG_MAX_PASS + 1 + 4,
	       "VM_MAX_DEVICES: too small for a full config");

int vm_place_device(struct vm *vm, struct device *dev)
{
	/* The VM owns dev from here, placed or not. */
	if (vm->nr_devices == VM_MAX_DEVICES) {
		pr_err("%s: more than %d devices", dev->name, VM_MAX_DEVICES);
		dev->ops->free(dev);
		return -ENOSPC;
	}
	vm->devices[vm->nr_devices++] = dev;
	for (unsigned i = 0; i < dev->nr_regions; i++) {
		const struct dev_region *r = &dev->regions[i];
		struct bus *b = r->space == BUS_PIO ? &vm->pio : &vm->mmio;
		int ret = bus_register(b, r->base, r->len, dev, i);

		if (ret) {
			pr_err("%s at %#llx: %s", dev->name,
			       (unsigned long long)r->base, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The host bridge exists only when some device is on PCI: a VM without
 * PCI devices decodes nothing at 0xCF8 and has no ECAM window. */
static int setup_pci_host(struct vm *vm)
{
	struct pci_layout l;

	if (!vm_config_has_pci(vm->cfg))
		return 0;
	if (vm->cfg->arch == CFG_ARCH_ARM64)
		arm64_pci_layout(vm->cfg, &l);
	else
		pci_layout_default(&l, guest_mem_ram_end(&vm->mem), 0);
	vm->pci = pci_host_create(&vm->env, &l, &vm->pio, &vm->mmio);
	return vm->pci ? vm_place_device(vm, &vm->pci->dev) : -ENOMEM;
}

/* A PCI function goes into the slot the config's plan gives it
 * (config_pci_plan): the slots the config names are set aside before
 * any function without one is placed, so that such a function never
 * takes a slot a later statement names. Attaching places its BARs as
 * firmware would. */
static int attach_pci(struct vm *vm, const struct cfg_pci_place *at,
		      struct pci_func *f, const struct cfg_pos *pos,
		      const char *what)
{
	int ret = -ENODEV;

	if (vm->pci && at->placed)
		ret = pci_host_attach(vm->pci, f, at->dev, at->fn);
	if (ret)
		pr_err("%s:%u:%u: %s: no PCI slot: %s", pos->file, pos->line,
		       pos->col, what, strerror(-ret));
	return ret;
}

/* `pass` devices (src/vfio/), after the vdevs. Their KVM memory slots
 * (BARs) come after guest memory's. */
static int setup_passes(struct vm *vm, const struct cfg_pci_plan *plan)
{
	const struct vm_config *cfg = vm->cfg;
	struct vfio_ctx *c;
	int ret = 0;

	if (!cfg->nr_pass)
		return 0;
	if (!vm->pci)
		return -ENODEV;
	c = vfio_ctx_new(vm->vm_fd, &vm->mem, vm->mem.nr + 16);
	for (unsigned i = 0; !ret && i < cfg->nr_pass; i++) {
		const struct pass_config *pc = &cfg->passes[i];
		struct pci_func *f;

		ret = vfio_pass_create(c, pc, &vm->env, &f);
		if (ret)
			break;
		ret = vm_place_device(vm, &f->dev);
		if (!ret)
			ret = attach_pci(vm, &plan->pass[i], f, &pc->pos,
					 "pass");
		if (!ret)
			ret = vfio_pass_attached(f);
	}
	vfio_ctx_put(c);
	return ret;
}

/* A constructor's -EINVAL is its refusal of the vdev's configuration
 * (a combination the config layer did not catch): a configuration error,
 * as `cvisor check`, which runs the same constructors, reports it. Other
 * errors are the host's (memory, files, KVM) and keep the run's status. */
static int create_vdev(struct vm *vm, const struct vdev_config *vc,
		       struct device **dev, int *status)
{
	int ret = vc->type->create(vc, &vm->env, dev);

	if (!ret && *dev)
		return 0;
	pr_err("%s:%u:%u: vdev %s: %s", vc->pos.file, vc->pos.line,
	       vc->pos.col, vc->type->name, strerror(ret ? -ret : EINVAL));
	if (ret == -EINVAL)
		*status = CV_EXIT_CONFIG;
	return ret ? ret : -EINVAL;
}

static int setup_devices(struct vm *vm, int *status)
{
	const struct vm_config *cfg = vm->cfg;
	struct cfg_pci_plan plan;
	struct cfg_error err;
	int ret;

	/* validated already: a failure here is a config check missed */
	if (config_pci_plan(cfg, &plan, &err)) {
		cfg_error_print(&err);
		*status = CV_EXIT_CONFIG;
		return -EINVAL;
	}
	ret = setup_pci_host(vm);
	for (unsigned i = 0; !ret && i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];
		struct device *dev = NULL;
		struct pci_func *f;
		char what[CFG_NAME_MAX + 8];

		if (!vc->type->create)
			continue;	/* in-kernel: KVM emulates it */
		ret = create_vdev(vm, vc, &dev, status);
		if (ret)
			return ret;
		dev->vdev = vc;
		ret = vm_place_device(vm, dev);     /* (dev may be gone) */
		f = ret ? NULL : pci_func_of(dev);
		snprintf(what, sizeof(what), "vdev %s", vc->type->name);
		if (f)
			ret = attach_pci(vm, &plan.vdev[i], f, &vc->pos, what);
	}
	if (!ret)
		ret = setup_passes(vm, &plan);
	return ret ? ret : arch_setup_devices(vm);
}

static void vm_power(void *ctx, enum power_request req, int status)
{
	struct vm *vm = ctx;

	switch (req) {
	case POWER_OFF:
	case POWER_EXIT:
		vm_phase("guest-exit");
		vm_request_stop(vm, VM_STOP_EXIT, status);
		break;
	case POWER_RESET:
		if (vm->cfg->reboot == REBOOT_EXIT)
			vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_REBOOT);
		else
			vm_request_stop(vm, VM_STOP_RESET, 0);
		break;
	case POWER_SUSPEND:
		vm_s3_suspend(vm);
		break;
	case POWER_WAKE:
		vm_s3_wake(vm);
		break;
	case POWER_RTC_ALARM:
		vm_s3_rtc_alarm(vm);
		break;
	}
}

int vm_create_vcpus(struct vm *vm, unsigned n)
{
	vm->vcpus = xcalloc(n, sizeof(*vm->vcpus));
	for (unsigned i = 0; i < n; i++) {
		vm->vcpus[i] = vcpu_create(vm, i);
		if (!vm->vcpus[i])
			return -EIO;
		vm->nr_vcpus++;
	}
	return 0;
}

/* RET, the result of the step NAME, stamped when it is done: the
 * builder's order as the startup stamps (vm_phases.h) see it. */
static int phased(const char *name, int ret)
{
	vm_phase(name);
	return ret;
}

struct vm *vm_create(const struct vm_config *cfg, struct persist *persist,
		     int *status)
{
	struct vm *vm = xcalloc(1, sizeof(*vm));

	*status = CV_EXIT_USAGE;
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->irqchip_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_mutex_init(&vm->coalesced_lock, NULL);
	vm->stop = VM_RUNNING;
	guest_mem_init(&vm->mem);
	bus_init(&vm->pio, BUS_PIO);
	bus_init(&vm->mmio, BUS_MMIO);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC);
	vm->loop = event_loop_new();
	irq_routing_init(&vm->routing);
	vm->env = (struct dev_env){
		.mem = &vm->mem, .loop = vm->loop, .irq_set = vm_irq_set,
		.power = vm_power, .ioeventfd = vm_ioeventfd,
		.msi_route = vm_msi_route, .msi_irqfd = vm_msi_irqfd,
		.line_irqfd = vm_line_irqfd, .coalesce = vm_coalesce,
		.msi_route_free = vm_msi_route_free,
		.msi_signal = vm_msi_signal, .ctx = vm, .persist = persist,
		.system = cfg->system };
	if (vm->stop_fd < 0 || !vm->loop ||
	    phased("kvm-vm", open_kvm(vm)) ||
	    phased("memory", setup_memory(vm)) ||
	    phased("irqchip", arch_vm_init(vm)) ||
	    phased("devices", setup_devices(vm, status)) ||
	    phased("loader", arch_setup_boot(vm, status)) ||
	    phased("vcpus", arch_vm_finish(vm))) {
		vm_kept_files_unmap(vm);
		vm_destroy(vm);
		return NULL;
	}
	/* loaded: the guest's copy is the only one now (vm_kept.c) */
	vm_kept_files_unmap(vm);
	return vm;
}
