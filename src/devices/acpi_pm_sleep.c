/* ACPI sleep states of the acpi-pm device: S5 and S4 power off (no disk
 * image of memory to resume from), S3 suspends to RAM.
 *
 * S3: SLP_EN with SLP_TYP 3 (the DSDT's \_S3_) marks the device suspended
 * and asks the VM to stop its vCPUs (POWER_SUSPEND); memory and device
 * state stay. A wake event then sets WAK_STS (and the source's status
 * bit) in PM1_STS and asks the VM to restart from the FACS waking vector
 * (POWER_WAKE). As on a PIIX4/ICH: the power button wakes whatever
 * PWRBTN_EN says (ACPI 4.8.3.1.1: in a sleeping state it is always a
 * wake source), the RTC alarm only with RTC_EN set, the operator's
 * `wakeup` always (QEMU's system_wakeup). The PM1 registers live in the
 * resume well: they keep their values across S3.
 *
 * The VM's calls happen with the lock held, so that a suspend and a wake
 * event racing each other (an RTC alarm on the event loop while a vCPU
 * writes SLP_EN) reach the VM in the order the device saw them. Lock
 * order: the device's lock, then the VM's pause lock.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/firmware.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/acpi_pm.h"
#include "devices/acpi_pm_priv.h"

/* Wake sources whose status bit, set and enabled when the guest enters
 * S3, wake it at once (an event that arrived while it was going down). */
#define WAKE_PENDING_MASK (X86_PM1_RTC | X86_PM1_PWRBTN)

static struct acpi_pm *to_pm(struct device *dev)
{
	return container_of(dev, struct acpi_pm, dev);
}

enum acpi_sleep_action acpi_pm_sleep_action(unsigned typ)
{
	switch (typ) {
	case 0:
		return ACPI_SLEEP_NONE;
	case X86_ACPI_SLP_TYP_S3:
		return ACPI_SLEEP_SUSPEND;
	case X86_ACPI_SLP_TYP_S4:
	case X86_ACPI_SLP_TYP_S5:
		return ACPI_SLEEP_OFF;
	default:
		return ACPI_SLEEP_UNSUPPORTED;
	}
}

void acpi_pm_sleep_init(struct acpi_pm *pm)
{
	pm->suspended = false;
}

void acpi_pm_sleep_free(struct acpi_pm *pm)
{
	(void)pm;
}

/* Whether an event with status bit sts wakes the VM now. Lock held. */
static bool wakes(const struct acpi_pm *pm, uint16_t sts)
{
	if (!pm->suspended)
		return false;
	if (sts == X86_PM1_RTC)
		return pm->pm1_en & X86_PM1_RTC;
	return true;    /* the power button, the operator's wakeup */
}

bool acpi_pm_wake_locked(struct acpi_pm *pm, uint16_t sts)
{
	if (!wakes(pm, sts))
		return false;
	pm->suspended = false;
	pm->pm1_sts |= (uint16_t)(X86_PM1_WAK_STS | sts);
	acpi_pm_update_sci(pm);
	pm->env.power(pm->env.ctx, POWER_WAKE, 0);
	return true;
}

int acpi_pm_suspend(struct acpi_pm *pm)
{
	if (!pm->env.power)
		return -ENOTSUP;
	pthread_mutex_lock(&pm->lock);
	if (!pm->suspended) {
		pm->suspended = true;
		pm->env.power(pm->env.ctx, POWER_SUSPEND, 0);
		if (pm->pm1_sts & pm->pm1_en & WAKE_PENDING_MASK)
			acpi_pm_wake_locked(pm, 0);
	}
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static uint16_t source_bit(enum acpi_pm_wake_source src)
{
	switch (src) {
	case ACPI_PM_WAKE_RTC:
		return X86_PM1_RTC;
	case ACPI_PM_WAKE_PWRBTN:
		return X86_PM1_PWRBTN;
	default:
		return 0;
	}
}

bool acpi_pm_wake_event(struct device *dev, enum acpi_pm_wake_source src)
{
	struct acpi_pm *pm = to_pm(dev);
	bool woke;

	pthread_mutex_lock(&pm->lock);
	/* The RTC's status is latched awake too, as a PIIX4's RTC_STS: an
	 * alarm just before SLP_EN then wakes the suspend at once instead
	 * of being lost (the RTC's IRQ 8 stays up, no later alarm comes). */
	if (src == ACPI_PM_WAKE_RTC) {
		pm->pm1_sts |= X86_PM1_RTC;
		acpi_pm_update_sci(pm);
	}
	woke = acpi_pm_wake_locked(pm, source_bit(src));
	pthread_mutex_unlock(&pm->lock);
	return woke;
}

bool acpi_pm_suspended(struct device *dev)
{
	struct acpi_pm *pm = to_pm(dev);
	bool s;

	pthread_mutex_lock(&pm->lock);
	s = pm->suspended;
	pthread_mutex_unlock(&pm->lock);
	return s;
}

/* The fields of the FACS the OS writes (ACPI 5.2.10): Firmware_Waking_
 * Vector, Global_Lock, X_Firmware_Waking_Vector, OSPM Flags. */
static bool facs_writable(uint64_t off)
{
	return (off >= 12 && off < 20) || (off >= 24 && off < 32) ||
	       (off >= 36 && off < 40);
}

uint64_t acpi_pm_facs_read(struct acpi_pm *pm, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	if (!pm->env.mem || size > sizeof(v) ||
	    guest_mem_read(pm->env.mem, X86_FW_FACS_ADDR + off, &v, size))
		return 0;
	return v;
}

/* Only into our own FACS: whatever else the VM maps there (a firmware's
 * image) is not ours to write. Byte-wise, so that a write straddling a
 * read-only field changes only the writable bytes. */
void acpi_pm_facs_write(struct acpi_pm *pm, uint64_t off, unsigned size,
			uint64_t value)
{
	char sig[4];

	if (!pm->env.mem ||
	    guest_mem_read(pm->env.mem, X86_FW_FACS_ADDR, sig, sizeof(sig)) ||
	    memcmp(sig, "FACS", 4))
		return;
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size && i < 8; i++) {
		uint8_t b = (uint8_t)(value >> (8 * i));

		if (facs_writable(off + i))
			guest_mem_load(pm->env.mem, X86_FW_FACS_ADDR + off + i,
				       &b, 1);
	}
	pthread_mutex_unlock(&pm->lock);
}
