/* arm64's side of the architecture interface (arch/arch.h), on AArch64
 * KVM: the VM's IPA size, the in-kernel vGICv3 (distributor and
 * redistributors in the memory map, initialised once every vCPU exists)
 * or vGICv2 (distributor and CPU interface),
 * vCPUs made with KVM_ARM_VCPU_INIT and PSCI 0.2 (secondaries powered off
 * until the guest's CPU_ON; SYSTEM_OFF and SYSTEM_RESET come back as
 * KVM_EXIT_SYSTEM_EVENT, which the vCPU layer handles), the boot vCPU's
 * registers through KVM_SET_ONE_REG, and SPIs by KVM_IRQ_LINE. The
 * architected timer is KVM's own. */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/arm64/arm64.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/util.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

const struct arch_cap arch_required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};
const unsigned arch_nr_required_caps = ARRAY_SIZE(arch_required_caps);
/* GSIs below are the SPIs' (KVM's default routing: GSI n = SPI n). */
const unsigned arch_first_msi_gsi = ARM64_GIC_KVM_LINES;

#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
		     (offsetof(struct kvm_regs, x) / sizeof(uint32_t)))

/* IPA bits the config's highest address needs; KVM's default is 40. */
long arch_vm_type(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	uint64_t top = ARM64_GICR_BASE + ARM64_GICR_STRIDE * ARM64_GICR_MAX_CPUS;
	unsigned bits = 32;
	int max;

	for (unsigned i = 0; i < cfg->nr_ram; i++)
		if (cfg->ram[i].start + cfg->ram[i].size > top)
			top = cfg->ram[i].start + cfg->ram[i].size;
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (cfg->vdevs[i].nr_locs &&
		    cfg->vdevs[i].locs[0].space == LOC_MEM &&
		    cfg->vdevs[i].locs[0].addr + 0x1000 > top)
			top = cfg->vdevs[i].locs[0].addr + 0x1000;
	while (bits < 52 && (1ULL << bits) < top)
		bits++;
	if (bits <= 40)
		return 0;
	max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	if (max < (int)bits) {
		pr_err("the guest's addresses need %u IPA bits, KVM gives %d",
		       bits, max > 0 ? max : 40);
		return -ERANGE;
	}
	return KVM_VM_TYPE_ARM_IPA_SIZE(bits);
}

static int dev_attr(int fd, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr a = { .group = group, .attr = attr,
				     .addr = (uint64_t)(uintptr_t)val };

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

/* The vGIC device, kept in the VM (its fd is needed for CTRL_INIT once
 * the vCPUs exist, and closed with the VM: a reset's rebuilt VM makes
 * its own). ENODEV for a GICv2 is the usual case on GICv3 hosts: KVM
 * emulates a GICv2 only on a host GICv3 with the GICv2 compatible CPU
 * interface (GICV), which many (and QEMU's TCG GICv3) lack. */
static int gic_create(struct vm *vm, unsigned version)
{
	struct kvm_create_device d = {
		.type = version == 2 ? KVM_DEV_TYPE_ARM_VGIC_V2
				     : KVM_DEV_TYPE_ARM_VGIC_V3 };

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &d) < 0) {
		int e = errno;

		if (version == 2 && e == ENODEV)
			pr_err("KVM cannot make a vGICv2 on this host (its GIC "
			       "has no GICv2 compatible CPU interface): use "
			       "'vdev gic version 3'");
		else
			pr_err("KVM_CREATE_DEVICE (vGICv%u): %s", version,
			       strerror(e));
		return -e;
	}
	vm->irqchip_fd = (int)d.fd;
	return 0;
}

/* The ITS beside a vGICv3 when the VM has PCI: MSI-X messages written to
 * its GITS_TRANSLATER become LPIs (KVM's routes and KVM_SIGNAL_MSI carry
 * the requester ID from then on: KVM_CAP_MSI_DEVID, vm/irq_routing.c).
 * KVM keeps the device until the VM goes, so its fd is not kept (the
 * ITS's CTRL_INIT has nothing to wait for: it needs no vCPU). */
static int its_create(struct vm *vm)
{
	struct kvm_create_device d = { .type = KVM_DEV_TYPE_ARM_VGIC_ITS };
	uint64_t base = ARM64_ITS_BASE;
	int ret;

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &d) < 0) {
		pr_err("KVM_CREATE_DEVICE (ITS, for PCI's MSI-X): %s",
		       strerror(errno));
		return -errno;
	}
	ret = dev_attr((int)d.fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
		       KVM_VGIC_ITS_ADDR_TYPE, &base);
	if (!ret)
		ret = dev_attr((int)d.fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			       KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (ret)
		pr_err("ITS set-up: %s", strerror(-ret));
	close((int)d.fd);
	/* Asked here: the vCPU threads' seccomp filter would not let them. */
	if (!ret && ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
			  KVM_CAP_MSI_DEVID) <= 0) {
		pr_err("KVM has an ITS but no KVM_CAP_MSI_DEVID");
		ret = -ENOTSUP;
	}
	vm->routing.need_devid = !ret;
	return ret;
}

/* The vGIC: its frames in the memory map and its number of lines. */
int arch_vm_init(struct vm *vm)
{
	unsigned version = arm64_gic_version(vm->cfg);
	uint64_t dist = ARM64_GICD_BASE, redist = ARM64_GICR_BASE;
	uint64_t cpuif = ARM64_GICC_BASE;
	uint32_t lines = arm64_gic_lines(vm->cfg);
	unsigned n = vm->cfg->nr_cpus ? vm->cfg->nr_cpus : 1;
	unsigned max = version == 2 ? ARM64_GICV2_MAX_CPUS : ARM64_GICR_MAX_CPUS;
	int fd, ret;

	if (n > max) {
		pr_err("%u vCPUs: a vGICv%u serves at most %u", n, version, max);
		return -ERANGE;
	}
	if (lines > ARM64_GIC_KVM_LINES) {
		pr_err("GIC line %u: KVM's vGIC has lines up to %u", lines - 1,
		       ARM64_GIC_KVM_LINES - 1);
		return -ERANGE;
	}
	ret = gic_create(vm, version);
	if (ret)
		return ret;
	fd = vm->irqchip_fd;
	if (version == 2) {
		ret = dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			       KVM_VGIC_V2_ADDR_TYPE_DIST, &dist);
		if (!ret)
			ret = dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				       KVM_VGIC_V2_ADDR_TYPE_CPU, &cpuif);
	} else {
		ret = dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			       KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
		if (!ret)
			ret = dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				       KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	}
	if (!ret)
		ret = dev_attr(fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &lines);
	if (ret) {
		pr_err("vGICv%u set-up: %s", version, strerror(-ret));
		return ret;
	}
	arm64_nisv_setup(vm);
	return arm64_has_its(vm->cfg) ? its_create(vm) : 0;
}

int arch_setup_memory(struct vm *vm)
{
	return 0;
}

int arch_setup_devices(struct vm *vm)
{
	return 0;
}

static int set_reg(struct vcpu *v, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(v->fd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

static int get_reg(struct vcpu *v, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return ioctl(v->fd, KVM_GET_ONE_REG, &r) < 0 ? -errno : 0;
}

/* KVM_ARM_VCPU_INIT with the host's preferred target and PSCI 0.2; all
 * but vCPU 0 start powered off and wait for PSCI CPU_ON. */
static int vcpu_init(struct vm *vm, struct vcpu *v)
{
	struct kvm_vcpu_init init;

	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		pr_err("KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
		return -errno;
	}
	memset(init.features, 0, sizeof(init.features));
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (arm64_has_pmu(vm->cfg)) {
		if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
			  KVM_CAP_ARM_PMU_V3) <= 0) {
			pr_err("vdev pmu: this host's KVM cannot give a guest "
			       "a PMUv3 (no KVM_CAP_ARM_PMU_V3)");
			return -ENODEV;
		}
		init.features[0] |= 1u << KVM_ARM_VCPU_PMU_V3;
	}
	if (v->id)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		pr_err("vcpu %u: KVM_ARM_VCPU_INIT: %s", v->id,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* The boot protocol's state: EL1h with D, A, I, F masked, the MMU off
 * (KVM's reset state), x0 = the device tree, x1-x3 = 0. */
static int boot_regs(struct vcpu *v, const struct arm64_boot *b)
{
	const uint64_t pstate = 0x3c5;   /* DAIF | EL1h */
	int ret = set_reg(v, CORE_REG(regs.pstate), pstate);

	if (!ret)
		ret = set_reg(v, CORE_REG(regs.regs[0]), b->x0);
	for (unsigned i = 1; !ret && i < 4; i++)
		ret = set_reg(v, CORE_REG(regs.regs[i]), 0);
	if (!ret)
		ret = set_reg(v, CORE_REG(regs.pc), b->pc);
	return ret;
}

int arch_setup_boot(struct vm *vm, int *status)
{
	struct arm64_boot b;
	struct cfg_error err;
	unsigned n = vm->cfg->nr_cpus ? vm->cfg->nr_cpus : 1;
	int ret;

	if (arm64_boot_load(vm->cfg, &vm->mem,
			    vm->env.persist ? vm_kept_file : NULL,
			    vm->env.persist, &b, &err) < 0) {
		cfg_error_print(&err);
		*status = CV_EXIT_CONFIG;
		return -EINVAL;
	}
	pr_info("boot: %s at %#llx-%#llx, entry %#llx, device tree at %#llx",
		b.linux_image ? "Linux Image" : b.elf ? "ELF" : "raw image",
		(unsigned long long)b.image_start,
		(unsigned long long)b.image_end, (unsigned long long)b.pc,
		(unsigned long long)b.dtb_addr);
	ret = vm_create_vcpus(vm, n);
	for (unsigned i = 0; !ret && i < n; i++)
		ret = vcpu_init(vm, vm->vcpus[i]);
	if (ret)
		return ret;
	ret = boot_regs(vm->vcpus[0], &b);
	if (ret)
		pr_err("boot vCPU registers: %s", strerror(-ret));
	return ret;
}

/* `vdev pmu`: each vCPU's PMU overflows on PPI 23, and is initialised
 * once the vGIC is (KVM refuses it before). */
static int pmu_init(struct vm *vm)
{
	int irq = ARM64_PPI_PMU;
	int ret = 0;

	for (unsigned i = 0; !ret && i < vm->nr_vcpus; i++) {
		ret = dev_attr(vm->vcpus[i]->fd, KVM_ARM_VCPU_PMU_V3_CTRL,
			       KVM_ARM_VCPU_PMU_V3_IRQ, &irq);
		if (!ret)
			ret = dev_attr(vm->vcpus[i]->fd,
				       KVM_ARM_VCPU_PMU_V3_CTRL,
				       KVM_ARM_VCPU_PMU_V3_INIT, NULL);
		if (ret)
			pr_err("vcpu %u: PMUv3 init: %s", i, strerror(-ret));
	}
	return ret;
}

/* The redistributors are per vCPU: the vGIC is initialised last. */
int arch_vm_finish(struct vm *vm)
{
	int ret = dev_attr(vm->irqchip_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			   KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);

	if (ret)
		pr_err("vGIC init: %s", strerror(-ret));
	if (!ret && arm64_has_pmu(vm->cfg))
		ret = pmu_init(vm);
	return ret;
}

/* line: the INTID of an SPI (gic:N). */
void arch_irq_set(void *opaque, uint32_t line, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
		       (line & KVM_ARM_IRQ_NUM_MASK),
		.level = !!level };
	static struct ratelimit rl = RATELIMIT_INIT(5, 5);

	if (line < ARM64_GIC_FIRST_SPI ||
	    ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_warn_ratelimited(&rl, "KVM_IRQ_LINE gic:%u: %s", line,
				    strerror(errno));
}

uint32_t arch_line_gsi(uint32_t line)
{
	return line - ARM64_GIC_FIRST_SPI;
}

_Static_assert(ARCH_MAX_IRQCHIP_ROUTES >=
	       ARM64_GIC_KVM_LINES - ARM64_GIC_FIRST_SPI,
	       "a routing table holds every SPI of the largest vGIC");

/* A table replacing KVM's default keeps every SPI's route, as KVM's own
 * has them (GSI n = SPI n): a device on a line left out would lose its
 * irqfd's route, and its interrupts, when the guest first enables an
 * MSI-X vector. */
unsigned arch_irqchip_routes(const struct vm *vm,
			     struct kvm_irq_routing_entry *e)
{
	unsigned n = arm64_spi_routes(vm->cfg);

	for (unsigned pin = 0; pin < n; pin++)
		e[pin] = (struct kvm_irq_routing_entry){
			.gsi = pin, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = 0, .pin = pin } };
	return n;
}

void arch_vcpu_dump(struct vcpu *v)
{
	uint64_t pc = 0, pstate = 0, sp = 0, x[4] = { 0 };

	get_reg(v, CORE_REG(regs.pc), &pc);
	get_reg(v, CORE_REG(regs.pstate), &pstate);
	get_reg(v, CORE_REG(sp_el1), &sp);
	for (unsigned i = 0; i < 4; i++)
		get_reg(v, CORE_REG(regs.regs[i]), &x[i]);
	fprintf(stderr, "  pc %016llx pstate %08llx sp_el1 %016llx\n"
		"  x0 %016llx x1 %016llx x2 %016llx x3 %016llx\n",
		(unsigned long long)pc, (unsigned long long)pstate,
		(unsigned long long)sp, (unsigned long long)x[0],
		(unsigned long long)x[1], (unsigned long long)x[2],
		(unsigned long long)x[3]);
}

/* ENOSYS: a data abort on an address no memory slot backs, without a
 * valid syndrome (ESR.ISV = 0): a load/store pair, a writeback form or a
 * SIMD register; KVM cannot say what to emulate. Only where KVM cannot
 * hand it to cvisor as an exit (abort.c, said at start-up). Device
 * registers must be accessed with single plain loads and stores. */
void arch_explain_run_error(struct vcpu *v, int err)
{
	if (err != ENOSYS)
		return;
	fprintf(stderr, "cvisor: vcpu %u: the guest accessed an address "
		"without memory in a way KVM cannot emulate (no syndrome: a "
		"load/store pair, writeback or SIMD access to MMIO?)\n", v->id);
	arch_vcpu_dump(v);
}

void arch_explain_internal_error(struct vcpu *v)
{
}

int arch_power_button(struct vm *vm, bool *listening)
{
	*listening = false;
	return -ENODEV;
}
