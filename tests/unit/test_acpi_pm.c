/* The acpi-pm device's fixed hardware (the full FADT's blocks): PM1
 * status (write 1 to clear) and enable, the SCI as their AND, PM1_CNT's
 * SCI_EN and SLP_TYP/SLP_EN (S5 and S4 power off), GPE0, the PM timer's
 * rate, byte-wise access, the reset register. */
#include <string.h>

#include "unit.h"
#include "arch/x86/firmware.h"
#include "devices/acpi_pm.h"
#include "devices/registry.h"

static int sci = -1, sci_sets, offs, resets;
static uint32_t sci_line;

static void fake_irq_set(void *ctx, uint32_t gsi, int lvl)
{
	if (gsi == 23)          /* the GED's line */
		return;
	sci_line = gsi;
	sci = lvl;
	sci_sets++;
}

static void fake_power(void *ctx, enum power_request req, int status)
{
	offs += req == POWER_OFF;
	resets += req == POWER_RESET;
}

static struct device *dev;

static int setup(void **state)
{
	struct dev_env env = { .irq_set = fake_irq_set, .power = fake_power };

	sci = -1;
	sci_sets = offs = resets = 0;
	dev = acpi_pm_create(&env, 9);
	return 0;
}

static int teardown(void **state)
{
	dev->ops->free(dev);
	return 0;
}

static uint64_t rd(uint16_t port, unsigned size)
{
	return dev->ops->read(dev, 0, port - X86_ACPI_SLEEP_CTL_PORT, size);
}

static void wr(uint16_t port, unsigned size, uint64_t v)
{
	dev->ops->write(dev, 0, port - X86_ACPI_SLEEP_CTL_PORT, size, v);
}

static void test_blocks_inside(void **state)
{
	(void)state;
	assert_int_equal(dev->regions[0].base, X86_ACPI_SLEEP_CTL_PORT);
	assert_true(dev->regions[0].base + dev->regions[0].len >=
		    X86_ACPI_GPE0_PORT + X86_ACPI_GPE0_LEN);
	/* SCI_EN always set: the platform is in ACPI mode (no SMI_CMD) */
	assert_int_equal(rd(X86_ACPI_PM1A_CNT_PORT, 2) & X86_PM1_SCI_EN, 1);
	wr(X86_ACPI_PM1A_CNT_PORT, 2, 0);
	assert_int_equal(rd(X86_ACPI_PM1A_CNT_PORT, 2) & X86_PM1_SCI_EN, 1);
}

static void test_sci_follows_status_and_enable(void **state)
{
	(void)state;
	/* a press sets PWRBTN_STS; no SCI until the guest enables it */
	acpi_pm_power_button(dev, 23);
	assert_int_equal(rd(X86_ACPI_PM1A_EVT_PORT, 2) & X86_PM1_PWRBTN,
			 X86_PM1_PWRBTN);
	assert_int_equal(sci_sets, 0);
	wr(X86_ACPI_PM1A_EVT_PORT + 2, 2, X86_PM1_PWRBTN);
	assert_int_equal(rd(X86_ACPI_PM1A_EVT_PORT + 2, 2), X86_PM1_PWRBTN);
	assert_int_equal(sci, 1);
	assert_int_equal(sci_line, 9);
	/* writing 0 clears nothing; writing the bit clears it, SCI down */
	wr(X86_ACPI_PM1A_EVT_PORT, 2, 0);
	assert_int_equal(sci, 1);
	wr(X86_ACPI_PM1A_EVT_PORT, 2, X86_PM1_PWRBTN);
	assert_int_equal(rd(X86_ACPI_PM1A_EVT_PORT, 2), 0);
	assert_int_equal(sci, 0);
	/* the same through one dword access: STS and EN at once */
	acpi_pm_power_button(dev, 23);
	assert_int_equal(rd(X86_ACPI_PM1A_EVT_PORT, 4),
			 (uint32_t)X86_PM1_PWRBTN << 16 | X86_PM1_PWRBTN);
	/* GPE0: status 1 and enable 1 raise it too; a reset lowers all */
	wr(X86_ACPI_PM1A_EVT_PORT, 1, 0);
	dev->ops->reset(dev);
	assert_int_equal(sci, 0);
	assert_int_equal(rd(X86_ACPI_PM1A_EVT_PORT, 4), 0);
	wr(X86_ACPI_GPE0_PORT + 2, 1, 0x01);
	assert_int_equal(rd(X86_ACPI_GPE0_PORT, 4), 0x00010000);
	assert_int_equal(sci, 0);
}

static void test_sleep_states(void **state)
{
	(void)state;
	/* SLP_TYP 5 without SLP_EN: nothing */
	wr(X86_ACPI_PM1A_CNT_PORT, 2, 5u << X86_PM1_SLP_TYP_SHIFT);
	assert_int_equal(offs, 0);
	/* S5 as Linux writes it: one word */
	wr(X86_ACPI_PM1A_CNT_PORT, 2, 5u << X86_PM1_SLP_TYP_SHIFT |
	   X86_PM1_SLP_EN | X86_PM1_SCI_EN);
	assert_int_equal(offs, 1);
	/* SLP_EN reads back 0 (write-only) */
	assert_int_equal(rd(X86_ACPI_PM1A_CNT_PORT, 2) & X86_PM1_SLP_EN, 0);
	/* S4 is off too, written as the high byte alone */
	wr(X86_ACPI_PM1A_CNT_PORT + 1, 1, (4u << X86_PM1_SLP_TYP_SHIFT |
					   X86_PM1_SLP_EN) >> 8);
	assert_int_equal(offs, 2);
	/* the hardware-reduced register still works */
	wr(X86_ACPI_SLEEP_CTL_PORT, 1, 0x34);
	assert_int_equal(offs, 3);
	/* and the reset register */
	wr(X86_ACPI_RESET_PORT, 1, X86_ACPI_RESET_VALUE);
	assert_int_equal(resets, 1);
}

static void test_timer(void **state)
{
	uint32_t a, b;

	(void)state;
	assert_int_equal(acpi_pm_timer_ticks(1000000000ull), 3579545);
	assert_int_equal(acpi_pm_timer_ticks(1000000ull), 3579);
	/* 32 bits: wraps after 1199.86 s */
	assert_int_equal(acpi_pm_timer_ticks(1200ull * 1000000000ull),
			 (uint32_t)(1200ull * 3579545));
	/* it runs, and a byte read is a byte of the count */
	a = b = (uint32_t)rd(X86_ACPI_PM_TMR_PORT, 4);
	for (long i = 0; i < 100000000L && b == a; i++)
		b = (uint32_t)rd(X86_ACPI_PM_TMR_PORT, 4);
	assert_true(b != a);
	assert_true(rd(X86_ACPI_PM_TMR_PORT + 3, 1) <= 0xff);
	/* writes are ignored */
	wr(X86_ACPI_PM_TMR_PORT, 4, 0);
	assert_true((uint32_t)rd(X86_ACPI_PM_TMR_PORT, 4) - b < 3579545u);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_blocks_inside),
		T(test_sci_follows_status_and_enable),
		T(test_sleep_states),
		T(test_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
