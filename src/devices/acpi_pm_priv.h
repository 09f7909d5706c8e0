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
	/* In S3: from the guest's SLP_EN until a wake event; the VM's vCPUs
	 * are stopped meanwhile (acpi_pm_sleep.c). */
	bool suspended;
};

/* Raise or lower the SCI after a status or enable change (lock held). */
void acpi_pm_update_sci(struct acpi_pm *pm);

/* Sleep states (acpi_pm_sleep.c). sleep_action: what SLP_TYP typ
 * (from either sleep register, 0-7) asks for. suspend: enter S3, 0 or
 * -errno when the VM cannot (the request is then ignored). wake_locked:
 * a wake event with PM1_STS bit sts (0: the operator's `wakeup`) while
 * suspended; whether it woke the VM. Nothing when not suspended. */
enum acpi_sleep_action {
	ACPI_SLEEP_NONE,            /* S0: the working state */
	ACPI_SLEEP_SUSPEND,         /* S3: suspend to RAM */
	ACPI_SLEEP_OFF,             /* S5, and S4 (no disk image: off) */
	ACPI_SLEEP_UNSUPPORTED,     /* S1, S2, reserved 6 and 7 */
};
enum acpi_sleep_action acpi_pm_sleep_action(unsigned typ);
void acpi_pm_sleep_init(struct acpi_pm *pm);
void acpi_pm_sleep_free(struct acpi_pm *pm);
int acpi_pm_suspend(struct acpi_pm *pm);
bool acpi_pm_wake_locked(struct acpi_pm *pm, uint16_t sts);

/* The FACS (region 1, acpi_pm_sleep.c): the OS's waking vector and
 * flags written into the BIOS area, which the VM maps read-only, so the
 * writes exit here and are stored through guest_mem; reads (only a VM
 * whose BIOS area is not memory exits for them) come from memory. */
#define ACPI_PM_FACS_REGION 1
uint64_t acpi_pm_facs_read(struct acpi_pm *pm, uint64_t off, unsigned size);
void acpi_pm_facs_write(struct acpi_pm *pm, uint64_t off, unsigned size,
			uint64_t value);

#endif
