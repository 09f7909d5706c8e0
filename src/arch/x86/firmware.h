/* Firmware tables for x86 guests: ACPI (RSDP, XSDT, RSDT, FADT, MADT, DSDT,
 * MCFG when PCI exists) and the Intel MP table, built from the vm_config
 * into the PC BIOS area, where a guest that is not told the RSDP address
 * scans for it. See firmware.c for the layout. */
#ifndef CVISOR_ARCH_X86_FIRMWARE_H
#define CVISOR_ARCH_X86_FIRMWARE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "mem/guest_mem.h"

/* The BIOS area: Linux scans it for the RSDP (and 0xF0000-0xFFFFF for the
 * MP floating pointer). When the config maps nothing there, the builder
 * maps it as ROM and e820 shows it reserved. */
#define X86_BIOS_AREA_START 0xe0000ULL
#define X86_BIOS_AREA_LEN   0x20000ULL

/* Where the pieces go (all inside the F segment, 0xF0000-0xFFFFF). */
#define X86_FW_RSDP_ADDR    0xf0000ULL   /* 36 bytes */
#define X86_FW_MP_FP_ADDR   0xf0030ULL   /* "_MP_", 16 bytes */
#define X86_FW_MP_TABLE_ADDR 0xf0040ULL  /* "PCMP", < 2 KiB for 64 vCPUs */
#define X86_FW_TABLES_ADDR  0xf1000ULL   /* FACS, DSDT, FACP, APIC, ... */
/* The FACS comes first (64-byte aligned), at a fixed address: the OS
 * writes its waking vector there, which the acpi-pm device takes over
 * while the BIOS area is read-only memory (acpi_pm.c). */
#define X86_FW_FACS_ADDR    X86_FW_TABLES_ADDR
#define X86_FW_FACS_LEN     64
#define X86_FW_END          0xffff0ULL   /* the tables end below: */
/* The reset vector F000:FFF0, where a guest without BIOS services that
 * asks for a BIOS reset (Linux's machine_real_restart, reboot=b) jumps in
 * real mode: a stub there writes the ACPI reset register (firmware.c). */
#define X86_FW_RESET_VECTOR 0xffff0ULL
#define X86_FW_RESET_STUB_LEN 16

/* Hardware-reduced ACPI power registers (FADT), 8-bit I/O ports that the
 * acpi-pm device implements:
 *  - sleep control: a write of SLP_TYP << 2 | SLP_EN requests sleep state
 *    SLP_TYP; the DSDT's \_S5_ makes S5 (power off) SLP_TYP 5, so Linux's
 *    power-off writes 0x34. Other SLP_TYP values are not advertised.
 *  - sleep status: reads WAK_STS (bit 7, 0 here); writes of 1 clear it
 *    (Linux writes 0x80 before sleeping). Reads 0 otherwise.
 *  - reset: a write of X86_ACPI_RESET_VALUE resets the machine (Linux's
 *    default reboot method, reboot=acpi). */
#define X86_ACPI_SLEEP_CTL_PORT 0x600
#define X86_ACPI_SLEEP_STS_PORT 0x601
#define X86_ACPI_RESET_PORT     0x602
#define X86_ACPI_GED_PORT       0x603
/* The fixed-hardware blocks of the full FADT (ACPI 4.8), the same device:
 *  - PM1a event: PM1_STS (16 bits, write 1 to clear) then PM1_EN (16);
 *  - PM1a control (16): SCI_EN (always 1: no SMI_CMD, ACPI mode only),
 *    SLP_TYP (bits 10-12) and SLP_EN (bit 13, write-only): a write with
 *    SLP_EN enters SLP_TYP, numbered as the DSDT's \_Sx_ packages;
 *  - PM timer: 32 bits at 3.579545 MHz, read-only (TMR_VAL_EXT);
 *  - GPE0: GPE0_STS (16, write 1 to clear) then GPE0_EN (16).
 * The SCI is level, active high, on ISA IRQ x86_acpi_sci_irq(). */
#define X86_ACPI_PM1A_EVT_PORT  0x604
#define X86_ACPI_PM1A_CNT_PORT  0x608
#define X86_ACPI_PM_TMR_PORT    0x60c
#define X86_ACPI_GPE0_PORT      0x610
#define X86_ACPI_PM1_EVT_LEN    4
#define X86_ACPI_PM1_CNT_LEN    2
#define X86_ACPI_PM_TMR_LEN     4
#define X86_ACPI_GPE0_LEN       4
#define X86_ACPI_PM_PORTS_LEN   0x14
#define X86_ACPI_PM_TIMER_HZ    3579545u
/* PM1_STS/PM1_EN bits */
#define X86_PM1_TMR             (1u << 0)
#define X86_PM1_GBL             (1u << 5)
#define X86_PM1_PWRBTN          (1u << 8)
#define X86_PM1_SLPBTN          (1u << 9)
#define X86_PM1_RTC             (1u << 10)
#define X86_PM1_WAK_STS         (1u << 15)
/* PM1_CNT bits */
#define X86_PM1_SCI_EN          (1u << 0)
#define X86_PM1_SLP_TYP_SHIFT   10
#define X86_PM1_SLP_TYP_MASK    (7u << 10)
#define X86_PM1_SLP_EN          (1u << 13)
#define X86_ACPI_RESET_VALUE    0x01
#define X86_ACPI_SLP_TYP_SHIFT  2
#define X86_ACPI_SLP_TYP_MASK   0x1c
#define X86_ACPI_SLP_EN         0x20
#define X86_ACPI_WAK_STS        0x80
#define X86_ACPI_SLP_TYP_S3     3
#define X86_ACPI_SLP_TYP_S4     4
#define X86_ACPI_SLP_TYP_S5     5

/* The power button of a hardware-reduced platform (no fixed events, no
 * SCI): a Generic Event Device (ACPI0013, \_SB.GED0) with one level,
 * active-high interrupt, and a control-method power button (PNP0C0C,
 * \_SB.PWRB). Pressing the button sets X86_ACPI_GED_PWR_BUTTON in the
 * GED event register (port X86_ACPI_GED_PORT, read-to-clear) and raises
 * the line; the guest's GED driver runs _EVT, which reads the register
 * and does Notify(PWRB, 0x80): Linux's button driver reports KEY_POWER.
 * x86_acpi_ged_gsi() picks the line: the first of 23, 22, 21, 20 (above
 * the PCI INTx lines, 16-19) that the config does not use or reserve;
 * -1 when none is free (then there is no GED and no power button). */
#define X86_ACPI_GED_PWR_BUTTON 0x01
int x86_acpi_ged_gsi(const struct vm_config *cfg);
/* The SCI's ISA IRQ (= GSI, level, active high: the MADT's override and
 * the MP table say so): 9 as on QEMU's PIIX4 unless the config uses or
 * reserves it, then the first free of 11, 10, 5, 7, 3; -1 when none is
 * free (then the FADT still names 9, and the SCI is never raised). */
int x86_acpi_sci_irq(const struct vm_config *cfg);
/* Whether the guest's OS has unmasked the IOAPIC pin gsi (KVM_GET_IRQCHIP),
 * i.e. a driver listens for the GED's interrupt. */
bool x86_gsi_unmasked(int vm_fd, uint32_t gsi);

/* The VM's PCI host bridge as ACPI describes it: the MCFG (ECAM), the
 * DSDT's \_SB.PCI0 (bus range, windows, _PRT) and the PNP0C02 device that
 * reserves the ECAM window. x86_firmware_pci_init() fills it from the
 * bridge's struct pci_layout. The IO window is fixed (every port but the
 * config ports 0xCF8-0xCFF, as QEMU's), so the IO BAR window needs no
 * field. A 64-bit window of size 0 is left out; a 32-bit one of size 0
 * means pci_layout_default's (a caller that sets only the ECAM fields
 * still gets a usable PCI0). */
struct x86_firmware_pci {
	uint64_t ecam_base;         /* config space of bus 0 */
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint64_t mmio32_base, mmio32_size;  /* 32-bit BAR window */
	uint64_t mmio64_base, mmio64_size;  /* 64-bit BAR window, may be 0 */
};

struct pci_layout;

/* Segment 0, bus 0 only, and l's ECAM and windows. */
void x86_firmware_pci_init(struct x86_firmware_pci *p,
			   const struct pci_layout *l);

struct x86_firmware {
	uint64_t rsdp_addr;         /* for PVH rsdp_paddr, boot_params */
	uint64_t mp_addr;           /* the MP floating pointer */
	uint64_t start, end;        /* guest range written */
};

/* True when the config maps no RAM or ROM in 0xE0000-0xFFFFF and no
 * device or pass-through region overlaps it (a `reserve loc` may: the BIOS
 * area is what reserving it is for). The builder then maps
 * X86_BIOS_AREA_LEN bytes of ROM at X86_BIOS_AREA_START before calling
 * x86_firmware_build(). */
bool x86_firmware_needs_bios_area(const struct vm_config *cfg);

/* Build the ACPI and MP tables into mem (ROM is written through
 * guest_mem_load). pci may be NULL: no PCI, so no MCFG and no PCI0 in the
 * DSDT. Returns 0 with out filled;
 * 0 with out->rsdp_addr == 0 when a `load` at a fixed address in the BIOS
 * area owns it (a warning says so); -ENOSPC when 0xF0000-0xFFFFF is not
 * one guest memory region. */
int x86_firmware_build(const struct vm_config *cfg, struct guest_mem *mem,
		       const struct x86_firmware_pci *pci,
		       struct x86_firmware *out);

/* Write each ACPI table the config gives, as x86_firmware_build would
 * place it, to DIR/<SIG>.dat (RSDP.dat, XSDT.dat, FACP.dat...): the raw
 * bytes that `iasl -d` disassembles. A config with PCI devices
 * (vm_config_has_pci) gets the default PCI layout, as the builder gives
 * it. Returns 0 or -errno (logged). */
int acpi_dump(const struct vm_config *cfg, const char *dir);

#endif
