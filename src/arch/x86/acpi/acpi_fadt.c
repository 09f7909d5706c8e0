/* FADT (ACPI 5.2.9), revision 6, and the FACS (5.2.10) it points to.
 *
 * A full (not hardware-reduced) PC platform, as QEMU's pc describes it:
 * PM1a event and control blocks, the PM timer, GPE0 and the SCI, all in
 * the acpi-pm device (firmware.h lists the ports), and no SMI_CMD: the
 * platform is always in ACPI mode. It has to be: Linux treats a
 * hardware-reduced FADT as "no legacy PIC" (the 8259 stays unprogrammed,
 * so a guest booted with noapic took IRQ 4 as vector 4) and as "reset
 * through EFI" (without EFI it then jumps to the BIOS reset vector instead
 * of using RESET_REG).
 *
 *   RESET_REG          port 0x602, RESET_VALUE 1 (Linux's default reboot)
 *   PM1a_CNT           SLP_TYP << 10 | SLP_EN: S5 and S4 power off
 *   PM_TMR             32-bit (TMR_VAL_EXT), 3.579545 MHz
 *
 * The power button stays the control-method one (PNP0C0C) that the
 * Generic Event Device signals (acpi_ged.c): PWR_BUTTON says there is no
 * fixed-feature button, so the guest does not see the press twice.
 */
#include <stddef.h>
#include <string.h>

#include "arch/x86/acpi/acpi.h"
#include "arch/x86/firmware.h"

struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk, x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 is 276 bytes");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "IAPC_BOOT_ARCH");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "RESET_REG");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "X_DSDT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "SLEEP_CONTROL_REG");

/* FADT flags (ACPI table 5.10) */
#define FADT_WBINVD          (1u << 0)
#define FADT_PROC_C1         (1u << 2)
#define FADT_PWR_BUTTON      (1u << 4)    /* no fixed-feature power button */
#define FADT_SLP_BUTTON      (1u << 5)    /* no fixed-feature sleep button */
#define FADT_TMR_VAL_EXT     (1u << 8)    /* 32-bit PM timer */
#define FADT_RESET_REG_SUP   (1u << 10)

/* C2/C3 latencies above these limits mean "not supported" (5.2.9) */
#define FADT_NO_C2_LAT       101
#define FADT_NO_C3_LAT       1001

/* FACS (ACPI 5.2.10): 64 bytes, 64-byte aligned */
struct acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_facs) == ACPI_FACS_LEN, "FACS is 64 bytes");

/* IA-PC boot architecture flags (ACPI table 5.11) */
#define IAPC_LEGACY_DEVICES  (1u << 0)
#define IAPC_8042            (1u << 1)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

static struct acpi_gas io_block(uint16_t port, unsigned len,
			       unsigned access)
{
	return (struct acpi_gas){ .space_id = ACPI_GAS_IO,
				  .bit_width = (uint8_t)(len * 8),
				  .access_size = (uint8_t)access,
				  .address = port };
}

static struct acpi_gas io_reg(uint16_t port)
{
	return io_block(port, 1, ACPI_ACCESS_BYTE);
}

/* The fixed-hardware blocks, in both the 32-bit and the X_ fields
 * (ACPICA compares them and warns when they differ). */
static void fixed_hw(struct acpi_fadt *f, const struct vm_config *cfg)
{
	int sci = x86_acpi_sci_irq(cfg);

	f->sci_int = (uint16_t)(sci < 0 ? 9 : sci);
	f->pm1a_evt_blk = X86_ACPI_PM1A_EVT_PORT;
	f->pm1a_cnt_blk = X86_ACPI_PM1A_CNT_PORT;
	f->pm_tmr_blk = X86_ACPI_PM_TMR_PORT;
	f->gpe0_blk = X86_ACPI_GPE0_PORT;
	f->pm1_evt_len = X86_ACPI_PM1_EVT_LEN;
	f->pm1_cnt_len = X86_ACPI_PM1_CNT_LEN;
	f->pm_tmr_len = X86_ACPI_PM_TMR_LEN;
	f->gpe0_blk_len = X86_ACPI_GPE0_LEN;
	f->p_lvl2_lat = FADT_NO_C2_LAT;
	f->p_lvl3_lat = FADT_NO_C3_LAT;
	f->x_pm1a_evt_blk = io_block(X86_ACPI_PM1A_EVT_PORT,
				     X86_ACPI_PM1_EVT_LEN, 2);
	f->x_pm1a_cnt_blk = io_block(X86_ACPI_PM1A_CNT_PORT,
				     X86_ACPI_PM1_CNT_LEN, 2);
	f->x_pm_tmr_blk = io_block(X86_ACPI_PM_TMR_PORT,
				   X86_ACPI_PM_TMR_LEN, 3);
	f->x_gpe0_blk = io_block(X86_ACPI_GPE0_PORT, X86_ACPI_GPE0_LEN, 1);
}

/* Tells Linux which legacy devices to probe: without the 8042 flag it
 * skips the i8042 probe, and without an RTC it does not register one. */
uint16_t acpi_iapc_boot_arch(const struct vm_config *cfg)
{
	uint16_t f = IAPC_VGA_NOT_PRESENT;
	bool kbd = acpi_has_vdev(cfg, "pckeyboard");
	bool rtc = acpi_has_vdev(cfg, "mc146818");

	if (kbd)
		f |= IAPC_8042;
	if (!rtc)
		f |= IAPC_CMOS_RTC_NOT_PRESENT;
	if (kbd || rtc || acpi_has_vdev(cfg, "ser8250"))
		f |= IAPC_LEGACY_DEVICES;
	return f;
}

void acpi_facs_build(struct fw_buf *b)
{
	struct acpi_facs f = { .length = ACPI_FACS_LEN, .version = 2 };

	memcpy(f.signature, "FACS", 4);
	fw_buf_put(b, &f, sizeof(f));
}

void acpi_fadt_build(struct fw_buf *b, const struct vm_config *cfg,
		     uint64_t dsdt_addr, uint64_t facs_addr)
{
	struct acpi_fadt f = { 0 };

	f.firmware_ctrl = (uint32_t)facs_addr;
	f.x_firmware_ctrl = facs_addr;

	/* The 32-bit DSDT pointer too, for guests older than ACPI 2.0;
	 * both say the same thing, so ACPICA has nothing to warn about. */
	f.dsdt = (uint32_t)dsdt_addr;
	f.x_dsdt = dsdt_addr;
	f.iapc_boot_arch = acpi_iapc_boot_arch(cfg);
	/* The PC convention, which our RTC keeps: without it Linux ignores
	 * the century byte and assumes 20xx. */
	if (acpi_has_vdev(cfg, "mc146818"))
		f.century = 0x32;
	f.flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON |
		  FADT_SLP_BUTTON | FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP;
	fixed_hw(&f, cfg);
	f.reset_reg = io_reg(X86_ACPI_RESET_PORT);
	f.reset_value = X86_ACPI_RESET_VALUE;
	f.minor_version = 5;                      /* ACPI 6.5 */
	memcpy(&f.hypervisor_vendor_id, "CVISOR\0\0", 8);

	acpi_table_start(b, "FACP", 6);
	/* The header comes from acpi_table_start; the body follows it. */
	fw_buf_put(b, (const uint8_t *)&f + sizeof(f.h),
		   sizeof(f) - sizeof(f.h));
	acpi_table_finish(b);
}
