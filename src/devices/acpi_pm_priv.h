/* The acpi-pm device's state, shared by its register file (acpi_pm.c) and
 * its sleep states (acpi_pm_sleep.c). */
#ifndef CVISOR_DEVICES_ACPI_PM_PRIV_H
#define CVISOR_DEVICES_ACPI_PM_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

struct acpi_pm {
	struct device dev;
	struct dev_env env;
	/* The press (operator's thread) and the guest's accesses (vCPU
	 * threads) change the registers and the lines together: no press
	 * is lost between a read and a line going down. */
	pthread_mutex_t lock;
	uint8_t ged_events;
	uint32_t ged_gsi;
	bool line_up;
	/* fixed hardware */
	uint16_t pm1_sts, pm1_en, pm1_cnt, gpe0_sts, gpe0_en;
	int sci_gsi;                /* -1: no SCI line */
	bool sci_up;
	uint64_t timer_base_ns;     /* CLOCK_MONOTONIC at tick 0 */
};

/* Raise or lower the SCI after a status or enable change (lock held). */
void acpi_pm_update_sci(struct acpi_pm *pm);

/* Sleep states (acpi_pm_sleep.c). suspend: enter S3, 0 or -errno when
 * the VM cannot (the request is then ignored). wake: a wake event
 * happened (power button); nothing when not suspended. */
void acpi_pm_sleep_init(struct acpi_pm *pm);
void acpi_pm_sleep_free(struct acpi_pm *pm);
int acpi_pm_suspend(struct acpi_pm *pm);
void acpi_pm_wake(struct acpi_pm *pm);

#endif
