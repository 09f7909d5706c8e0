/* FADT (ACPI 5.2.9), revision 6. cvisor is a hardware-reduced ACPI platform
 * (ACPI 4.1), as Firecracker and QEMU's microvm: no PM1 event/control
 * blocks, no SCI, no FACS, no PM timer. Power-off and reset go through the
 * hardware-reduced sleep registers and the reset register, plain I/O ports
 * (firmware.h lists them; the acpi-pm device implements them):
 *
 *   SLEEP_CONTROL_REG  write SLP_TYP << 2 | SLP_EN (0x20); S5 = 0x34
 *   SLEEP_STATUS_REG   WAK_STS (0x80), written 1-to-clear before sleeping
 *   RESET_REG          write RESET_VALUE to reset the machine
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
#define FADT_PWR_BUTTON      (1u << 4)    /* no fixed-feature power button */
#define FADT_SLP_BUTTON      (1u << 5)    /* no fixed-feature sleep button */
#define FADT_RESET_REG_SUP   (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* IA-PC boot architecture flags (ACPI table 5.11) */
#define IAPC_LEGACY_DEVICES  (1u << 0)
#define IAPC_8042            (1u << 1)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

static struct acpi_gas io_reg(uint16_t port)
{
	return (struct acpi_gas){ .space_id = ACPI_GAS_IO, .bit_width = 8,
				  .access_size = ACPI_ACCESS_BYTE,
				  .address = port };
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

void acpi_fadt_build(struct fw_buf *b, const struct vm_config *cfg,
		     uint64_t dsdt_addr)
{
	struct acpi_fadt f = { 0 };

	/* The 32-bit DSDT pointer too, for guests older than ACPI 2.0;
	 * both say the same thing, so ACPICA has nothing to warn about. */
	f.dsdt = (uint32_t)dsdt_addr;
	f.x_dsdt = dsdt_addr;
	f.iapc_boot_arch = acpi_iapc_boot_arch(cfg);
	/* The PC convention, which our RTC keeps: without it Linux ignores
	 * the century byte and assumes 20xx. */
	if (acpi_has_vdev(cfg, "mc146818"))
		f.century = 0x32;
	f.flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		  FADT_RESET_REG_SUP | FADT_HW_REDUCED_ACPI;
	f.reset_reg = io_reg(X86_ACPI_RESET_PORT);
	f.reset_value = X86_ACPI_RESET_VALUE;
	f.minor_version = 5;                      /* ACPI 6.5 */
	f.sleep_control_reg = io_reg(X86_ACPI_SLEEP_CTL_PORT);
	f.sleep_status_reg = io_reg(X86_ACPI_SLEEP_STS_PORT);
	memcpy(&f.hypervisor_vendor_id, "CVISOR\0\0", 8);

	acpi_table_start(b, "FACP", 6);
	/* The header comes from acpi_table_start; the body follows it. */
	fw_buf_put(b, (const uint8_t *)&f + sizeof(f.h),
		   sizeof(f) - sizeof(f.h));
	acpi_table_finish(b);
}
