/* The power button of our hardware-reduced platform (firmware.h): there
 * are no fixed events and no SCI, so, as ACPI 6.x section 5.6.9 has it for
 * such platforms, a Generic Event Device signals the button:
 *
 *   Device (PWRB) { Name (_HID, EisaId ("PNP0C0C")) Name (_UID, Zero) }
 *   Device (GED0) {
 *       Name (_HID, "ACPI0013")
 *       Name (_UID, Zero)
 *       Name (_CRS, ResourceTemplate () {
 *           Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { GSI }
 *       })
 *       OperationRegion (GEDR, SystemIO, 0x603, One)
 *       Field (GEDR, ByteAcc, NoLock, WriteAsZeros) { GEVT, 8 }
 *       Method (_EVT, 1, Serialized) {
 *           If (And (GEVT, One)) { Notify (\_SB.PWRB, 0x80) }
 *       }
 *   }
 *
 * Reading GEVT clears it and lowers the line (devices/acpi_pm.c); 0x80 on
 * a power button is "pressed" (ACPI 6.x table 5.168).
 */
#include "arch/x86/acpi/acpi.h"
#include "arch/x86/acpi/aml.h"
#include "arch/x86/firmware.h"

#define NOTIFY_BUTTON_PRESSED 0x80

static void add_power_button(struct fw_buf *b)
{
	size_t dev = aml_device_open(b, "PWRB");

	aml_name_eisaid(b, "_HID", "PNP0C0C");
	aml_name_int(b, "_UID", 0);
	aml_close(b, dev);
}

/* Method (_EVT, 1, Serialized) { If (And (GEVT, One)) { Notify ... } } */
static void add_evt(struct fw_buf *b)
{
	size_t method = aml_method_open(b, "_EVT", 1, true);
	size_t cond = aml_if_open(b);

	aml_and(b);
	aml_name_string(b, "GEVT");
	aml_integer(b, X86_ACPI_GED_PWR_BUTTON);
	aml_name_string(b, "");            /* no target */
	aml_notify(b, "\\_SB_.PWRB", NOTIFY_BUTTON_PRESSED);
	aml_close(b, cond);
	aml_close(b, method);
}

void acpi_dsdt_add_ged(struct fw_buf *b, const struct vm_config *cfg)
{
	int gsi = x86_acpi_ged_gsi(cfg);
	struct fw_buf crs;
	size_t dev;

	if (gsi < 0)
		return;
	add_power_button(b);
	fw_buf_init(&crs);
	dev = aml_device_open(b, "GED0");
	aml_name_str(b, "_HID", "ACPI0013");
	aml_name_int(b, "_UID", 0);
	res_interrupt(&crs, (uint32_t)gsi, true, false);
	aml_crs(b, &crs);
	fw_buf_free(&crs);
	aml_opregion(b, "GEDR", AML_REGION_SYSTEM_IO, X86_ACPI_GED_PORT, 1);
	aml_field_byte(b, "GEDR", "GEVT", 8);
	add_evt(b);
	aml_close(b, dev);
}
