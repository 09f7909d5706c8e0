/* The ACPI power registers the FADT points at (arch/x86/firmware.h lists
 * the ports). Every VM that has ACPI tables has this device.
 *
 * Fixed hardware (the full FADT): PM1a event and control blocks, the PM
 * timer and GPE0, with the SCI a level line that is up while any enabled
 * status bit is set. SLP_EN with SLP_TYP 5 (S5) or 4 (S4, which a VM
 * without a disk image of its memory can only treat as off) powers the VM
 * off; SLP_TYP 3 suspends it to RAM (S3, acpi_pm_sleep.c).
 *
 * The hardware-reduced registers of earlier cvisor versions stay at
 * 0x600-0x602 (sleep control and status, reset) and work the same way;
 * 0x603 is the Generic Event Device's event register: the power button
 * (acpi_pm_power_button) sets a bit there and raises the GED's level
 * interrupt; the guest's _EVT reads the register, which clears it and
 * lowers the line. A guest without an ACPI interpreter never reads it and
 * the line simply stays up, masked in its IOAPIC.
 *
 * Every access width (1, 2, 4) at any port of the block works byte-wise,
 * as on the PIIX4: a 16-bit register written one byte at a time ends up
 * the same as with one word write.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "arch/x86/firmware.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/acpi_pm.h"
#include "devices/acpi_pm_priv.h"
#include "devices/registry.h"

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

/* Called with the lock held after any status or enable change. */
void acpi_pm_update_sci(struct acpi_pm *pm)
{
	bool up = (pm->pm1_sts & pm->pm1_en) || (pm->gpe0_sts & pm->gpe0_en);

	if (pm->sci_gsi < 0 || up == pm->sci_up)
		return;
	pm->sci_up = up;
	if (pm->env.irq_set)
		pm->env.irq_set(pm->env.ctx, (uint32_t)pm->sci_gsi, up);
}

uint32_t acpi_pm_timer_ticks(uint64_t ns)
{
	uint64_t s = ns / 1000000000ull, rem = ns % 1000000000ull;

	/* s * Hz first: no overflow for centuries of uptime */
	return (uint32_t)(s * X86_ACPI_PM_TIMER_HZ +
			  rem * X86_ACPI_PM_TIMER_HZ / 1000000000ull);
}

static uint32_t timer_now(const struct acpi_pm *pm)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return acpi_pm_timer_ticks(ns - pm->timer_base_ns);
}

static uint8_t byte_of(uint32_t v, unsigned i)
{
	return (uint8_t)(v >> (8 * i));
}

/* One byte of the block at port; the lock is held. */
static uint8_t read_byte(struct acpi_pm *pm, uint64_t port, uint32_t tmr)
{
	switch (port) {
	case X86_ACPI_GED_PORT: {
		uint8_t v = pm->ged_events;

		pm->ged_events = 0;
		set_line(pm, false);
		return v;
	}
	case X86_ACPI_PM1A_EVT_PORT:     return byte_of(pm->pm1_sts, 0);
	case X86_ACPI_PM1A_EVT_PORT + 1: return byte_of(pm->pm1_sts, 1);
	case X86_ACPI_PM1A_EVT_PORT + 2: return byte_of(pm->pm1_en, 0);
	case X86_ACPI_PM1A_EVT_PORT + 3: return byte_of(pm->pm1_en, 1);
	case X86_ACPI_PM1A_CNT_PORT:     return byte_of(pm->pm1_cnt, 0);
	case X86_ACPI_PM1A_CNT_PORT + 1: return byte_of(pm->pm1_cnt, 1);
	case X86_ACPI_GPE0_PORT:         return byte_of(pm->gpe0_sts, 0);
	case X86_ACPI_GPE0_PORT + 1:     return byte_of(pm->gpe0_sts, 1);
	case X86_ACPI_GPE0_PORT + 2:     return byte_of(pm->gpe0_en, 0);
	case X86_ACPI_GPE0_PORT + 3:     return byte_of(pm->gpe0_en, 1);
	}
	if (port >= X86_ACPI_PM_TMR_PORT &&
	    port < X86_ACPI_PM_TMR_PORT + X86_ACPI_PM_TMR_LEN)
		return byte_of(tmr, (unsigned)(port - X86_ACPI_PM_TMR_PORT));
	return 0;	/* sleep status: no wake pending; reset: write-only */
}

static uint64_t pm_read(struct device *dev, unsigned region, uint64_t off,
			unsigned size)
{
	struct acpi_pm *pm = to_pm(dev);
	uint64_t port = X86_ACPI_SLEEP_CTL_PORT + off, v = 0;
	uint32_t tmr;

	if (region == ACPI_PM_FACS_REGION)
		return acpi_pm_facs_read(pm, off, size);
	tmr = timer_now(pm);   /* one sample for a wide read */
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size && i < 8; i++)
		v |= (uint64_t)read_byte(pm, port + i, tmr) << (8 * i);
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
	/* the fixed-feature view of the same press, for a guest that
	 * enabled it (and the S3 wake-up) */
	pm->pm1_sts |= X86_PM1_PWRBTN;
	acpi_pm_update_sci(pm);
	acpi_pm_wake_locked(pm, X86_PM1_PWRBTN);
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

/* SLP_TYP typ requested (either register); called without the lock. */
static void sleep_request(struct acpi_pm *pm, unsigned typ)
{
	static struct ratelimit rl = RATELIMIT_INIT(5, 3);

	switch (acpi_pm_sleep_action(typ)) {
	case ACPI_SLEEP_NONE:
		return;
	case ACPI_SLEEP_OFF:
		pm->env.power(pm->env.ctx, POWER_OFF, 0);
		return;
	case ACPI_SLEEP_SUSPEND:
		if (!acpi_pm_suspend(pm))
			return;
		break;
	case ACPI_SLEEP_UNSUPPORTED:
		break;
	}
	pr_warn_ratelimited(&rl, "guest asked for sleep state S%u, which is "
			    "not supported", typ);
}

static void write16(uint16_t *reg, unsigned byte, uint8_t v, bool w1c)
{
	uint16_t mask = (uint16_t)(0xffu << (8 * byte));
	uint16_t bits = (uint16_t)(v << (8 * byte));

	if (w1c)
		*reg &= (uint16_t)~bits;
	else
		*reg = (uint16_t)((*reg & ~mask) | bits);
}

/* One byte written; returns the SLP_TYP to enter + 1, or 0. Locked. */
static unsigned write_byte(struct acpi_pm *pm, uint64_t port, uint8_t v)
{
	unsigned off;

	if (port >= X86_ACPI_PM1A_EVT_PORT &&
	    port < X86_ACPI_PM1A_EVT_PORT + X86_ACPI_PM1_EVT_LEN) {
		off = (unsigned)(port - X86_ACPI_PM1A_EVT_PORT);
		write16(off < 2 ? &pm->pm1_sts : &pm->pm1_en, off & 1, v,
			off < 2);
	} else if (port >= X86_ACPI_GPE0_PORT &&
		   port < X86_ACPI_GPE0_PORT + X86_ACPI_GPE0_LEN) {
		off = (unsigned)(port - X86_ACPI_GPE0_PORT);
		write16(off < 2 ? &pm->gpe0_sts : &pm->gpe0_en, off & 1, v,
			off < 2);
	} else if (port == X86_ACPI_PM1A_CNT_PORT ||
		   port == X86_ACPI_PM1A_CNT_PORT + 1) {
		off = (unsigned)(port - X86_ACPI_PM1A_CNT_PORT);
		write16(&pm->pm1_cnt, off, v, false);
		pm->pm1_cnt |= X86_PM1_SCI_EN;
		if (pm->pm1_cnt & X86_PM1_SLP_EN) {
			pm->pm1_cnt &= (uint16_t)~X86_PM1_SLP_EN;
			return ((pm->pm1_cnt & X86_PM1_SLP_TYP_MASK) >>
				X86_PM1_SLP_TYP_SHIFT) + 1;
		}
	}
	return 0;
}

static void pm_write(struct device *dev, unsigned region, uint64_t off,
		     unsigned size, uint64_t value)
{
	struct acpi_pm *pm = to_pm(dev);
	uint64_t port = X86_ACPI_SLEEP_CTL_PORT + off;
	unsigned slp = 0;

	if (region == ACPI_PM_FACS_REGION) {
		acpi_pm_facs_write(pm, off, size, value);
		return;
	}
	if (port == X86_ACPI_SLEEP_CTL_PORT) {
		if (value & X86_ACPI_SLP_EN)
			sleep_request(pm, (value & X86_ACPI_SLP_TYP_MASK) >>
				      X86_ACPI_SLP_TYP_SHIFT);
		return;
	}
	if (port == X86_ACPI_RESET_PORT &&
	    (value & 0xff) == X86_ACPI_RESET_VALUE) {
		pm->env.power(pm->env.ctx, POWER_RESET, 0);
		return;
	}
	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < size && i < 8; i++) {
		unsigned s = write_byte(pm, port + i, (uint8_t)(value >> (8 * i)));

		slp = s ? s : slp;
	}
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (slp)
		sleep_request(pm, slp - 1);
}

static void pm_reset(struct device *dev)
{
	struct acpi_pm *pm = to_pm(dev);

	pthread_mutex_lock(&pm->lock);
	pm->ged_events = 0;
	set_line(pm, false);
	pm->pm1_sts = pm->pm1_en = pm->gpe0_sts = pm->gpe0_en = 0;
	pm->pm1_cnt = X86_PM1_SCI_EN;
	pm->suspended = false;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void pm_free(struct device *dev)
{
	struct acpi_pm *pm = to_pm(dev);

	acpi_pm_sleep_free(pm);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

static const struct device_ops acpi_pm_ops = {
	.read = pm_read,
	.write = pm_write,
	.reset = pm_reset,
	.free = pm_free,
};

struct device *acpi_pm_create(const struct dev_env *env, int sci_gsi)
{
	struct acpi_pm *pm = xcalloc(1, sizeof(*pm));
	struct timespec ts;

	pm->env = *env;
	pm->sci_gsi = sci_gsi;
	pm->pm1_cnt = X86_PM1_SCI_EN;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pm->timer_base_ns = (uint64_t)ts.tv_sec * 1000000000ull +
			    (uint64_t)ts.tv_nsec;
	pthread_mutex_init(&pm->lock, NULL);
	acpi_pm_sleep_init(pm);
	pm->dev.ops = &acpi_pm_ops;
	pm->dev.name = ACPI_PM_NAME;
	device_add_region(&pm->dev, BUS_PIO, X86_ACPI_SLEEP_CTL_PORT,
			  X86_ACPI_PM_PORTS_LEN);
	device_add_region(&pm->dev, BUS_MMIO, X86_FW_FACS_ADDR,
			  X86_FW_FACS_LEN);
	return &pm->dev;
}
