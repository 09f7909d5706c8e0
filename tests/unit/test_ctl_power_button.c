/* The power button behind `powerdown` and SIGTERM: the acpi-pm device's
 * GED event register and interrupt line, and the choice of that line. */
#include <string.h>

#include "unit.h"
#include "arch/x86/firmware.h"
#include "devices/acpi_pm.h"
#include "devices/registry.h"

static int level = -1, sets;
static uint32_t last_gsi;

static void fake_irq_set(void *ctx, uint32_t gsi, int lvl)
{
	last_gsi = gsi;
	level = lvl;
	sets++;
}

static void fake_power(void *ctx, enum power_request req, int status)
{
}

static uint8_t read_ged(struct device *d)
{
	return (uint8_t)d->ops->read(d, 0, X86_ACPI_GED_PORT -
				     X86_ACPI_SLEEP_CTL_PORT, 1);
}

static void test_press_and_read(void **state)
{
	struct dev_env env = { .irq_set = fake_irq_set, .power = fake_power };
	struct device *d = acpi_pm_create(&env, 9);

	(void)state;
	/* the event register is inside the device's ports */
	assert_true(d->regions[0].base + d->regions[0].len > X86_ACPI_GED_PORT);
	sets = 0;
	assert_int_equal(read_ged(d), 0);      /* nothing pressed */
	assert_int_equal(sets, 0);
	acpi_pm_power_button(d, 23);
	assert_int_equal(level, 1);
	assert_int_equal(last_gsi, 23);
	assert_int_equal(acpi_pm_pending(d), X86_ACPI_GED_PWR_BUTTON);
	/* a second press before the guest looked: one event, line stays */
	acpi_pm_power_button(d, 23);
	assert_int_equal(sets, 1);
	/* _EVT's read: the event, cleared, the line down */
	assert_int_equal(read_ged(d), X86_ACPI_GED_PWR_BUTTON);
	assert_int_equal(level, 0);
	assert_int_equal(acpi_pm_pending(d), 0);
	assert_int_equal(read_ged(d), 0);
	assert_int_equal(sets, 2);
	/* a guest reset forgets a press it never saw */
	acpi_pm_power_button(d, 23);
	d->ops->reset(d);
	assert_int_equal(level, 0);
	assert_int_equal(acpi_pm_pending(d), 0);
	/* writes to the register change nothing */
	acpi_pm_power_button(d, 23);
	d->ops->write(d, 0, X86_ACPI_GED_PORT - X86_ACPI_SLEEP_CTL_PORT, 1, 0xff);
	assert_int_equal(acpi_pm_pending(d), X86_ACPI_GED_PWR_BUTTON);
	d->ops->free(d);
}

static void test_gsi_choice(void **state)
{
	static struct vm_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(x86_acpi_ged_gsi(&cfg), 23);
	cfg.vdevs[0].nr_intrs = 1;
	cfg.vdevs[0].intrs[0].line = 23;
	cfg.nr_vdevs = 1;
	assert_int_equal(x86_acpi_ged_gsi(&cfg), 22);
	cfg.vdevs[0].intrs[0].is_apic = true;   /* `intr apic`: no pin */
	assert_int_equal(x86_acpi_ged_gsi(&cfg), 23);
	cfg.vdevs[0].intrs[0].is_apic = false;
	for (unsigned i = 0; i < 3; i++) {
		cfg.reserve[i].kind = RESERVE_INTR;
		cfg.reserve[i].intr.line = 20 + i;
	}
	cfg.nr_reserve = 3;
	assert_int_equal(x86_acpi_ged_gsi(&cfg), -1);
	cfg.reserve[2].kind = RESERVE_LOC;
	assert_int_equal(x86_acpi_ged_gsi(&cfg), 22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_press_and_read),
		cmocka_unit_test(test_gsi_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
