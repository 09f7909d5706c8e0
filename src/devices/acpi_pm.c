/* The hardware-reduced ACPI power registers the FADT points at (see
 * arch/x86/firmware.h): a sleep control register whose S5 request powers
 * the VM off, a sleep status register (write-1-to-clear WAK_STS, always 0
 * here since nothing sleeps), and a reset register whose RESET_VALUE resets
 * the VM. Every VM that has ACPI tables has this device.
 *
 * Sleep states other than S5 are not supported: the request is ignored and
 * logged (rate-limited), so a guest that tries S3 carries on running.
 *
 * The fourth port is the Generic Event Device's event register: the power
 * button (acpi_pm_power_button) sets a bit there and raises the GED's
 * level interrupt; the guest's _EVT reads the register, which clears it
 * and lowers the line. A guest without an ACPI interpreter never reads it
 * and the line simply stays up, masked in its IOAPIC.
 */
#include <pthread.h>
#include <stdlib.h>

#include "arch/x86/firmware.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/acpi_pm.h"
#include "devices/registry.h"

struct acpi_pm {
	struct device dev;
	struct dev_env env;
	/* The press (operator's thread) and the guest's read (vCPU thread)
	 * change the register and the line together: no press is lost
	 * between a read and the line going down. */
	pthread_mutex_t lock;
	uint8_t ged_events;
	uint32_t ged_gsi;
	bool line_up;
};

static struct acpi_pm *to_pm(struct device *dev)
{
	return container_of(dev, struct acpi_pm, dev);
}

static void set_line(struct acpi_pm *pm, bool up)
{
	if (pm->line_up == up)
		return;
	pm->line_up = up;
	if (pm->env.irq_set)
		pm->env.irq_set(pm->env.ctx, pm->ged_gsi, up);
}

static uint64_t pm_read(struct device *dev, unsigned region, uint64_t off,
			unsigned size)
{
	struct acpi_pm *pm = to_pm(dev);
	uint8_t v;

	if (X86_ACPI_SLEEP_CTL_PORT + off != X86_ACPI_GED_PORT)
		return 0;	/* no wake status, no pending sleep */
	pthread_mutex_lock(&pm->lock);
	v = pm->ged_events;
	pm->ged_events = 0;
	set_line(pm, false);
	pthread_mutex_unlock(&pm->lock);
	return v;
}

void acpi_pm_power_button(struct device *dev, uint32_t gsi)
{
	struct acpi_pm *pm = to_pm(dev);

	pthread_mutex_lock(&pm->lock);
	pm->ged_gsi = gsi;
	pm->ged_events |= X86_ACPI_GED_PWR_BUTTON;
	set_line(pm, true);
	pthread_mutex_unlock(&pm->lock);
}

uint8_t acpi_pm_pending(struct device *dev)
{
	struct acpi_pm *pm = to_pm(dev);
	uint8_t v;

	pthread_mutex_lock(&pm->lock);
	v = pm->ged_events;
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void sleep_request(struct acpi_pm *pm, uint8_t v)
{
	static struct ratelimit rl = RATELIMIT_INIT(5, 3);
	unsigned typ = (v & X86_ACPI_SLP_TYP_MASK) >> X86_ACPI_SLP_TYP_SHIFT;

	if (!(v & X86_ACPI_SLP_EN))
		return;
	if (typ == X86_ACPI_SLP_TYP_S5)
		pm->env.power(pm->env.ctx, POWER_OFF, 0);
	else
		pr_warn_ratelimited(&rl, "guest asked for sleep state S%u, "
				    "which is not supported", typ);
}

static void pm_write(struct device *dev, unsigned region, uint64_t off,
		     unsigned size, uint64_t value)
{
	struct acpi_pm *pm = container_of(dev, struct acpi_pm, dev);
	uint64_t port = X86_ACPI_SLEEP_CTL_PORT + off;

	if (port == X86_ACPI_SLEEP_CTL_PORT)
		sleep_request(pm, value);
	else if (port == X86_ACPI_RESET_PORT &&
		 (value & 0xff) == X86_ACPI_RESET_VALUE)
		pm->env.power(pm->env.ctx, POWER_RESET, 0);
	/* the status register's W1C bits hold nothing to clear */
}

static void pm_reset(struct device *dev)
{
	struct acpi_pm *pm = to_pm(dev);

	pthread_mutex_lock(&pm->lock);
	pm->ged_events = 0;
	set_line(pm, false);
	pthread_mutex_unlock(&pm->lock);
}

static void pm_free(struct device *dev)
{
	struct acpi_pm *pm = to_pm(dev);

	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static const struct device_ops acpi_pm_ops = {
	.read = pm_read,
	.write = pm_write,
	.reset = pm_reset,
	.free = pm_free,
};

struct device *acpi_pm_create(const struct dev_env *env)
{
	struct acpi_pm *pm = xcalloc(1, sizeof(*pm));

	pm->env = *env;
	pthread_mutex_init(&pm->lock, NULL);
	pm->dev.ops = &acpi_pm_ops;
	pm->dev.name = ACPI_PM_NAME;
	device_add_region(&pm->dev, BUS_PIO, X86_ACPI_SLEEP_CTL_PORT,
			  X86_ACPI_PM_PORTS_LEN);
	return &pm->dev;
}
