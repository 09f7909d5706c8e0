/* The acpi-pm device's power button (see arch/x86/firmware.h): what the
 * VM calls when the operator asks the guest to shut down. */
#ifndef CVISOR_DEVICES_ACPI_PM_H
#define CVISOR_DEVICES_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

/* The device's name in vm->devices. */
#define ACPI_PM_NAME "acpi-pm"

/* Press the power button: set the GED event register's power-button bit
 * and raise interrupt line gsi until the guest reads the register. Safe
 * from any thread. */
void acpi_pm_power_button(struct device *dev, uint32_t gsi);
/* Events pressed and not yet read by the guest (tests). */
uint8_t acpi_pm_pending(struct device *dev);
/* ACPI S3 wake events (acpi_pm_sleep.c), from any thread. The sources:
 * the RTC's alarm (wakes only with PM1_EN's RTC_EN, sets RTC_STS), the
 * power button (always wakes, sets PWRBTN_STS) and the operator's
 * `wakeup` (QEMU's system_wakeup: WAK_STS only). True when it woke the
 * VM; false when the VM was not suspended or the source is disabled. */
enum acpi_pm_wake_source {
	ACPI_PM_WAKE_OTHER,
	ACPI_PM_WAKE_RTC,
	ACPI_PM_WAKE_PWRBTN,
};
bool acpi_pm_wake_event(struct device *dev, enum acpi_pm_wake_source src);
bool acpi_pm_suspended(struct device *dev);
/* The PM timer's count after ns nanoseconds (3.579545 MHz, 32 bits). */
uint32_t acpi_pm_timer_ticks(uint64_t ns);

#endif
