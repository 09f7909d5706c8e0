/* ACPI S3 in the acpi-pm device and the waking vector (no KVM): the
 * SLP_TYP decode, S3 entered through PM1a_CNT (word and byte writes) and
 * the wake logic (the RTC only with RTC_EN, the power button always, the
 * operator's wakeup; WAK_STS and the source's status bit; a wake event
 * already pending at SLP_EN), the FACS writes through the device's MMIO
 * window, and the FACS waking vector decoded from the tables cvisor
 * builds, a hostile guest's garbage included. */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/acpi/acpi_wake.h"
#include "arch/x86/firmware.h"
#include "devices/acpi_pm.h"
#include "devices/acpi_pm_priv.h"
#include "devices/registry.h"

static int suspends, wakes, offs, others;
static uint8_t bios[0x20000];        /* backs 0xE0000-0xFFFFF */
static struct guest_mem mem;
static struct vm_config cfg;
static struct device *dev;

static void fake_irq_set(void *ctx, uint32_t gsi, int lvl)
{
}

static void fake_power(void *ctx, enum power_request req, int status)
{
	suspends += req == POWER_SUSPEND;
	wakes += req == POWER_WAKE;
	offs += req == POWER_OFF;
	others += req != POWER_SUSPEND && req != POWER_WAKE &&
		  req != POWER_OFF;
}

static int setup(void **state)
{
	struct dev_env env = { .irq_set = fake_irq_set, .power = fake_power,
			       .mem = &mem };

	suspends = wakes = offs = others = 0;
	memset(bios, 0, sizeof(bios));
	memset(&cfg, 0, sizeof(cfg));
	guest_mem_init(&mem);
	if (!guest_mem_add_host(&mem, 0xe0000, sizeof(bios), bios, GUEST_ROM))
		return -1;
	dev = acpi_pm_create(&env, 9);
	return 0;
}

static int teardown(void **state)
{
	dev->ops->free(dev);
	guest_mem_free(&mem);
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

static void enter_s3(void)
{
	wr(X86_ACPI_PM1A_CNT_PORT, 2, X86_ACPI_SLP_TYP_S3 <<
	   X86_PM1_SLP_TYP_SHIFT | X86_PM1_SLP_EN | X86_PM1_SCI_EN);
}

static uint16_t pm1_sts(void)
{
	return (uint16_t)rd(X86_ACPI_PM1A_EVT_PORT, 2);
}

static void test_decode(void **state)
{
	static const enum acpi_sleep_action want[8] = {
		ACPI_SLEEP_NONE, ACPI_SLEEP_UNSUPPORTED, ACPI_SLEEP_UNSUPPORTED,
		ACPI_SLEEP_SUSPEND, ACPI_SLEEP_OFF, ACPI_SLEEP_OFF,
		ACPI_SLEEP_UNSUPPORTED, ACPI_SLEEP_UNSUPPORTED,
	};

	for (unsigned t = 0; t < 8; t++)
		assert_int_equal(acpi_pm_sleep_action(t), want[t]);
	assert_int_equal(acpi_pm_sleep_action(~0u), ACPI_SLEEP_UNSUPPORTED);
}

/* Every SLP_TYP with SLP_EN, through both registers: only 3 suspends,
 * only 4 and 5 power off, the rest do nothing at all. */
static void test_only_s3_suspends(void **state)
{
	for (unsigned t = 0; t < 8; t++) {
		if (t == X86_ACPI_SLP_TYP_S3)
			continue;
		wr(X86_ACPI_PM1A_CNT_PORT, 2, t << X86_PM1_SLP_TYP_SHIFT |
		   X86_PM1_SLP_EN);
		wr(X86_ACPI_SLEEP_CTL_PORT, 1, t << X86_ACPI_SLP_TYP_SHIFT |
		   X86_ACPI_SLP_EN);
	}
	assert_int_equal(suspends, 0);
	assert_int_equal(offs, 4);
	assert_int_equal(others, 0);
	/* SLP_TYP 3 without SLP_EN: nothing */
	wr(X86_ACPI_PM1A_CNT_PORT, 2, 3u << X86_PM1_SLP_TYP_SHIFT);
	assert_int_equal(suspends, 0);
	assert_false(acpi_pm_suspended(dev));
}

static void test_s3_then_rtc_wake(void **state)
{
	/* as the high byte alone (SLP_TYP and SLP_EN are both in it) */
	wr(X86_ACPI_PM1A_CNT_PORT + 1, 1, (X86_ACPI_SLP_TYP_S3 <<
	   X86_PM1_SLP_TYP_SHIFT | X86_PM1_SLP_EN) >> 8);
	assert_int_equal(suspends, 1);
	assert_true(acpi_pm_suspended(dev));
	assert_int_equal(rd(X86_ACPI_PM1A_CNT_PORT, 2) & X86_PM1_SLP_EN, 0);
	/* SLP_EN again while asleep (a second vCPU): one suspend only */
	enter_s3();
	assert_int_equal(suspends, 1);
	/* the alarm without RTC_EN: stays asleep; RTC_STS is latched all
	 * the same (a PIIX4's: the enable gates the wake, not the status) */
	assert_false(acpi_pm_wake_event(dev, ACPI_PM_WAKE_RTC));
	assert_int_equal(wakes, 0);
	assert_int_equal(pm1_sts(), X86_PM1_RTC);
	assert_true(acpi_pm_suspended(dev));
	/* with RTC_EN: wakes, WAK_STS and RTC_STS set */
	wr(X86_ACPI_PM1A_EVT_PORT + 2, 2, X86_PM1_RTC);
	assert_true(acpi_pm_wake_event(dev, ACPI_PM_WAKE_RTC));
	assert_int_equal(wakes, 1);
	assert_false(acpi_pm_suspended(dev));
	assert_int_equal(pm1_sts(), X86_PM1_WAK_STS | X86_PM1_RTC);
	/* awake: another alarm changes nothing */
	assert_false(acpi_pm_wake_event(dev, ACPI_PM_WAKE_RTC));
	assert_int_equal(wakes, 1);
	/* the guest clears them (write 1 to clear) */
	wr(X86_ACPI_PM1A_EVT_PORT, 2, X86_PM1_WAK_STS | X86_PM1_RTC);
	assert_int_equal(pm1_sts(), 0);
}

static void test_power_button_and_wakeup(void **state)
{
	/* the button wakes with PWRBTN_EN clear (ACPI: always in S3) */
	enter_s3();
	acpi_pm_power_button(dev, 23);
	assert_int_equal(wakes, 1);
	assert_int_equal(pm1_sts(), X86_PM1_WAK_STS | X86_PM1_PWRBTN);
	wr(X86_ACPI_PM1A_EVT_PORT, 2, 0xffff);
	/* the operator's wakeup: WAK_STS only */
	assert_false(acpi_pm_wake_event(dev, ACPI_PM_WAKE_OTHER));
	enter_s3();
	assert_int_equal(suspends, 2);
	assert_true(acpi_pm_wake_event(dev, ACPI_PM_WAKE_OTHER));
	assert_int_equal(wakes, 2);
	assert_int_equal(pm1_sts(), X86_PM1_WAK_STS);
	/* a reset ends S3 too */
	enter_s3();
	dev->ops->reset(dev);
	assert_false(acpi_pm_suspended(dev));
	assert_int_equal(wakes, 2);
}

/* An enabled event already pending at SLP_EN wakes at once (hardware
 * does not sleep over it): nothing is lost between the OS clearing the
 * status and the write. */
static void test_pending_event_wakes_at_once(void **state)
{
	/* RTC_EN set, the alarm fires in S0 just before SLP_EN: latched in
	 * RTC_STS as on a PIIX4, so the suspend wakes at once (it was lost,
	 * and the guest slept until an operator woke it) */
	wr(X86_ACPI_PM1A_EVT_PORT + 2, 2, X86_PM1_RTC);
	assert_false(acpi_pm_wake_event(dev, ACPI_PM_WAKE_RTC));
	assert_true(pm1_sts() & X86_PM1_RTC);
	enter_s3();
	assert_int_equal(suspends, 1);
	assert_int_equal(wakes, 1);
	assert_false(acpi_pm_suspended(dev));
	wr(X86_ACPI_PM1A_EVT_PORT, 2, 0xffff);
	/* cleared by the OS: a suspend now stays suspended, the next alarm
	 * wakes it */
	enter_s3();
	assert_true(acpi_pm_suspended(dev));
	assert_true(acpi_pm_wake_event(dev, ACPI_PM_WAKE_RTC));
	assert_int_equal(wakes, 2);
	wr(X86_ACPI_PM1A_EVT_PORT, 2, 0xffff);
	/* PWRBTN_STS set (pressed while awake) and enabled: no sleep */
	acpi_pm_power_button(dev, 23);
	wr(X86_ACPI_PM1A_EVT_PORT + 2, 2, X86_PM1_PWRBTN);
	enter_s3();
	assert_int_equal(suspends, 3);
	assert_int_equal(wakes, 3);
	assert_false(acpi_pm_suspended(dev));
}

/* The tables cvisor builds, in the fake BIOS area. */
static uint64_t build(void)
{
	struct x86_firmware fw;

	assert_int_equal(x86_firmware_build(&cfg, &mem, NULL, &fw), 0);
	return fw.rsdp_addr;
}

static uint8_t *facs_at(uint64_t a)
{
	return bios + (a - 0xe0000);
}

/* The OS writes its waking vector through the device's MMIO window over
 * the read-only FACS; only the OS's fields change. */
static void test_facs_window(void **state)
{
	uint64_t facs;

	build();
	assert_int_equal(x86_acpi_find_facs(&mem, X86_FW_RSDP_ADDR, &facs), 0);
	assert_int_equal(facs, X86_FW_FACS_ADDR);
	dev->ops->write(dev, ACPI_PM_FACS_REGION, 12, 4, 0x9a000);
	dev->ops->write(dev, ACPI_PM_FACS_REGION, 0, 4, 0x41414141);
	/* hardware signature (read-only) and the vector (writable) */
	dev->ops->write(dev, ACPI_PM_FACS_REGION, 8, 8, ~0ull);
	assert_memory_equal(facs_at(facs), "FACS", 4);
	assert_int_equal(facs_at(facs)[4], 64);
	assert_int_equal(dev->ops->read(dev, ACPI_PM_FACS_REGION, 8, 4), 0);
	assert_int_equal(dev->ops->read(dev, ACPI_PM_FACS_REGION, 12, 4),
			 0xffffffff);
	dev->ops->write(dev, ACPI_PM_FACS_REGION, 12, 4, 0x9a000);
	assert_int_equal(dev->ops->read(dev, ACPI_PM_FACS_REGION, 12, 4),
			 0x9a000);
	/* not our FACS there (a firmware's image): nothing written */
	memcpy(facs_at(facs), "XXXX", 4);
	dev->ops->write(dev, ACPI_PM_FACS_REGION, 12, 4, 0x1000);
	assert_int_equal(dev->ops->read(dev, ACPI_PM_FACS_REGION, 12, 4),
			 0x9a000);
}

static void put32(uint64_t a, uint32_t v)
{
	memcpy(facs_at(a), &v, 4);
}

static void put64(uint64_t a, uint64_t v)
{
	memcpy(facs_at(a), &v, 8);
}

static void test_waking_vector(void **state)
{
	struct x86_acpi_wake w;
	uint64_t facs;

	build();
	assert_int_equal(x86_acpi_find_facs(&mem, X86_FW_RSDP_ADDR, &facs), 0);
	/* none written: no way to wake */
	assert_int_equal(x86_acpi_wake_decode(&mem, facs, &w), -EINVAL);
	/* Linux's: a 16-byte-aligned trampoline, CS:IP = 9a00:0 */
	put32(facs + 12, 0x9a000);
	assert_int_equal(x86_acpi_wake_decode(&mem, facs, &w), 0);
	assert_false(w.prot32);
	assert_int_equal(w.cs, 0x9a00);
	assert_int_equal(w.ip, 0);
	put32(facs + 12, 0xfffff);
	assert_int_equal(x86_acpi_wake_decode(&mem, facs, &w), 0);
	assert_int_equal(w.cs, 0xffff);
	assert_int_equal(w.ip, 0xf);
	/* beyond real mode's reach */
	put32(facs + 12, 0x100000);
	assert_int_equal(x86_acpi_wake_decode(&mem, facs, &w), -EINVAL);
	/* X_Firmware_Waking_Vector wins: 32-bit protected mode */
	put64(facs + 24, 0x200000);
	assert_int_equal(x86_acpi_wake_decode(&mem, facs, &w), 0);
	assert_true(w.prot32);
	assert_int_equal(w.ip, 0x200000);
	put64(facs + 24, 1ull << 32);
	assert_int_equal(x86_acpi_wake_decode(&mem, facs, &w), -EINVAL);
	/* a FACS pointer outside guest memory, a broken FACS */
	assert_int_equal(x86_acpi_wake_decode(&mem, 0xfffffffff000ull, &w),
			 -EFAULT);
	assert_int_equal(x86_acpi_wake_decode(&mem, 0xffff8, &w), -EFAULT);
	put32(facs + 4, 16);
	assert_int_equal(x86_acpi_wake_decode(&mem, facs, &w), -EINVAL);
}

/* Garbage where the tables should be: an error, never a wild read. */
static void test_find_facs_hostile(void **state)
{
	uint64_t rsdp = build(), facs;
	uint8_t *p = facs_at(rsdp);
	uint32_t rsdt;

	/* the XSDT gone: the RSDT still leads there */
	memset(p + 24, 0xff, 8);
	assert_int_equal(x86_acpi_find_facs(&mem, rsdp, &facs), 0);
	assert_int_equal(facs, X86_FW_FACS_ADDR);
	/* the RSDT's length huge, then the RSDT out of memory */
	memcpy(&rsdt, p + 16, 4);
	put32(rsdt + 4, 0xffffffff);
	assert_int_equal(x86_acpi_find_facs(&mem, rsdp, &facs), -EINVAL);
	memcpy(p + 16, "\xf0\xff\xff\xff", 4);
	assert_int_equal(x86_acpi_find_facs(&mem, rsdp, &facs), -EFAULT);
	/* no RSDP at all */
	memset(p, 0, 8);
	assert_int_equal(x86_acpi_find_facs(&mem, rsdp, &facs), -EINVAL);
	assert_int_equal(x86_acpi_find_facs(&mem, 0x1000, &facs), -EFAULT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_decode),
		T(test_only_s3_suspends),
		T(test_s3_then_rtc_wake),
		T(test_power_button_and_wakeup),
		T(test_pending_event_wakes_at_once),
		T(test_facs_window),
		T(test_waking_vector),
		T(test_find_facs_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
