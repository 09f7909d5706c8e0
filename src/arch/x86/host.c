/* x86's side of the architecture interface (arch/arch.h): what the VM
 * builder, the vCPU layer and the lifecycle ask of an x86 host, on top of
 * the x86 pieces beside this file (vm_setup.c, regs.c, cpuid.c, boot,
 * firmware tables). Built only when cvisor is built for x86. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/x86/arch.h"
#include "arch/x86/bootorder.h"
#include "arch/x86/firmware.h"
#include "arch/x86/firmware_boot.h"
#include "arch/x86/internal_error.h"
#include "bus/pci.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/fw_cfg.h"
#include "devices/registry.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define IOAPIC_PINS 24
#define PIC_PINS    16

const struct arch_cap arch_required_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
};
const unsigned arch_nr_required_caps = ARRAY_SIZE(arch_required_caps);
const unsigned arch_first_msi_gsi = IOAPIC_PINS;

long arch_vm_type(struct vm *vm)
{
	return 0;
}

int arch_vm_init(struct vm *vm)
{
	return x86_vm_init(vm);
}

/* The ACPI and MP tables need the PC BIOS area; map it read-only when
 * the config left it empty (e820 says reserved). */
int arch_setup_memory(struct vm *vm)
{
	if (x86_fwboot_setup_memory(vm->cfg, &vm->mem)) {
		pr_err("firmware memory: %s", strerror(errno));
		return -errno;
	}
	if (x86_firmware_needs_bios_area(vm->cfg) &&
	    !guest_mem_add(&vm->mem, X86_BIOS_AREA_START, X86_BIOS_AREA_LEN,
			   GUEST_ROM)) {
		pr_err("BIOS area at %#llx: %s", X86_BIOS_AREA_START,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* fw_cfg: the `vdev fw-cfg`, or the one every PC has (fw_cfg_implicit),
 * then what it tells firmware about this machine. After the devices: the
 * ACPI tables it carries describe the PCI host bridge. */
static int setup_fw_cfg(struct vm *vm)
{
	struct x86_firmware_pci fw_pci;
	struct fw_cfg *s = NULL;
	char *order;
	int ret;

	for (unsigned i = 0; i < vm->nr_devices && !s; i++)
		s = fw_cfg_of(vm->devices[i]);
	if (!s && fw_cfg_implicit(vm->cfg)) {
		s = fw_cfg_new(&vm->env);
		ret = vm_place_device(vm, fw_cfg_device(s));
		if (ret)
			return ret;
	}
	if (!s)
		return 0;
	if (vm->pci)
		x86_firmware_pci_init(&fw_pci, &vm->pci->layout);
	order = x86_bootorder(vm->devices, vm->nr_devices);
	ret = fw_cfg_add_pc_items(s, vm->cfg, vm->pci ? &fw_pci : NULL, order);
	free(order);
	return ret;
}

int arch_setup_devices(struct vm *vm)
{
	int ret = vm_place_device(vm, port80_create());

	if (!ret)
		ret = vm_place_device(vm, port92_create(&vm->env));
	if (!ret)
		ret = vm_place_device(vm, acpi_pm_create(&vm->env,
						x86_acpi_sci_irq(vm->cfg)));
	return ret ? ret : setup_fw_cfg(vm);
}

int arch_setup_boot(struct vm *vm, int *status)
{
	struct boot_result res;
	struct cfg_error err;
	struct x86_firmware fw;
	struct x86_firmware_pci fw_pci;
	struct boot_platform plat;
	unsigned n = vm->cfg->nr_cpus ? vm->cfg->nr_cpus : 1;
	int ret;

	/* Tables first: the loader hands their RSDP to the guest. */
	if (vm->pci)
		x86_firmware_pci_init(&fw_pci, &vm->pci->layout);
	ret = x86_firmware_build(vm->cfg, &vm->mem, vm->pci ? &fw_pci : NULL,
				 &fw);
	if (ret) {
		pr_err("firmware tables: %s", strerror(-ret));
		return ret;
	}
	plat = (struct boot_platform){ .rsdp_addr = fw.rsdp_addr };
	if (vm->env.persist) {
		plat.read_file = vm_kept_file;
		plat.read_ctx = vm->env.persist;
	}
	if (x86_boot_load(vm->cfg, &vm->mem, &plat, &res, &err) < 0) {
		cfg_error_print(&err);
		*status = CV_EXIT_CONFIG;
		return -EINVAL;
	}
	ret = vm_create_vcpus(vm, n);
	for (unsigned i = 0; !ret && i < n; i++)
		ret = x86_vcpu_init(vm->vcpus[i], n);
	if (ret)
		return ret;
	/* vCPU 0 is the BSP; the others wait for INIT/SIPI in the kernel. */
	ret = x86_vcpu_set_boot_state(vm->vcpus[0], &res.cpu);
	if (ret)
		pr_err("boot vCPU registers: %s", strerror(-ret));
	return ret;
}

int arch_vm_finish(struct vm *vm)
{
	return 0;
}

void arch_irq_set(void *vm, uint32_t line, int level)
{
	x86_irq_set(vm, line, level);
}

uint32_t arch_line_gsi(uint32_t line)
{
	return line;
}

bool arch_vcpu_exit(struct vcpu *v, bool *go_on)
{
	return false;           /* x86 has no exit of its own */
}

unsigned arch_irqchip_routes(const struct vm *vm,
			     struct kvm_irq_routing_entry *e)
{
	unsigned n = 0;

	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (gsi < PIC_PINS)
			e[n++] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { .irqchip = gsi < 8 ?
					KVM_IRQCHIP_PIC_MASTER :
					KVM_IRQCHIP_PIC_SLAVE, .pin = gsi % 8 } };
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = KVM_IRQCHIP_IOAPIC,
				       .pin = gsi } };
	}
	return n;
}

void arch_vcpu_dump(struct vcpu *v)
{
	x86_vcpu_dump(v);
}

void arch_explain_run_error(struct vcpu *v, int err)
{
}

void arch_explain_internal_error(struct vcpu *v)
{
	x86_explain_internal_error(v);
}

int arch_power_button(struct vm *vm, bool *listening)
{
	int gsi = x86_acpi_ged_gsi(vm->cfg);

	*listening = gsi >= 0 && x86_gsi_unmasked(vm->vm_fd, (uint32_t)gsi);
	return gsi < 0 ? -ENODEV : gsi;
}
