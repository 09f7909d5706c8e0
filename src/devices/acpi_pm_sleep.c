/* ACPI sleep states other than S5: S3 (suspend to RAM) is not offered
 * yet (the DSDT has no \_S3_), so a request for it is refused and the
 * guest carries on running. */
#include <errno.h>

#include "devices/acpi_pm_priv.h"

void acpi_pm_sleep_init(struct acpi_pm *pm)
{
	(void)pm;
}

void acpi_pm_sleep_free(struct acpi_pm *pm)
{
	(void)pm;
}

int acpi_pm_suspend(struct acpi_pm *pm)
{
	(void)pm;
	return -ENOTSUP;
}

void acpi_pm_wake(struct acpi_pm *pm)
{
	(void)pm;
}
