/* The MC146818 CMOS RTC through its ports, with a fake dev_env and an
 * event loop polled here. Waits are bounded polls for a condition (an
 * interrupt recorded, a register changing), never sleeps for luck. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "devices/registry.h"
#include "event/loop.h"

struct fake {
	struct dev_env env;
	struct event_loop *loop;
	int level;
	int raises;
};

static void fake_irq(void *ctx, uint32_t gsi, int level)
{
	struct fake *f = ctx;

	assert_int_equal(gsi, 8);
	assert_int_not_equal(level, f->level);     /* changes only */
	f->level = level;
	f->raises += level;
}

/* presets: NULL-terminated `reg` values */
static int try_make(struct fake *f, const char *const *presets,
		    struct device **d)
{
	struct vdev_config vc = { .type = &mc146818_type, .nr_locs = 1,
				  .nr_intrs = 1 };

	vc.locs[0].addr = 0x70;
	vc.intrs[0].line = 8;
	for (; presets && *presets; presets++)
		vc.opts[vc.nr_opts++] = (struct cfg_devopt){
			.key = "reg", .value = (char *)*presets };
	memset(f, 0, sizeof(*f));
	f->loop = event_loop_new();
	assert_non_null(f->loop);
	f->env = (struct dev_env){ .loop = f->loop, .irq_set = fake_irq,
				   .ctx = f };
	*d = NULL;
	return mc146818_type.create(&vc, &f->env, d);
}

static struct device *make(struct fake *f, const char *const *presets)
{
	struct device *d;

	assert_int_equal(try_make(f, presets, &d), 0);
	assert_non_null(d);
	return d;
}

static void destroy(struct fake *f, struct device *d)
{
	d->ops->free(d);
	event_loop_free(f->loop);
}

static uint8_t rd(struct device *d, uint8_t idx)
{
	d->ops->write(d, 0, 0, 1, idx);
	return d->ops->read(d, 0, 1, 1);
}

static void wr(struct device *d, uint8_t idx, uint8_t v)
{
	d->ops->write(d, 0, 0, 1, idx);
	d->ops->write(d, 0, 1, 1, v);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the loop until the line is up. ms is when it is due; the test fails
 * only 30 s later, so that a loaded machine's scheduling delays are not
 * taken for a missing interrupt (no test relies on the machine's speed). */
static void wait_irq(struct fake *f, int ms)
{
	int64_t end = mono_ms() + ms + 30000;

	while (!f->level) {
		int64_t left = end - mono_ms();

		if (left <= 0)
			fail_msg("no RTC interrupt within %d ms", ms);
		assert_true(event_loop_poll(f->loop, (int)left) >= 0);
	}
}

static int bcd(uint8_t b)
{
	return (b >> 4) * 10 + (b & 0x0f);
}

static uint8_t to_bcd(int v)
{
	return (v / 10) << 4 | v % 10;
}

/* Registers as a time_t, BCD 24-hour; also checks the day of week. */
static time_t read_bcd_time(struct device *d)
{
	struct tm tm = { 0 };
	time_t t;

	tm.tm_sec = bcd(rd(d, 0x00));
	tm.tm_min = bcd(rd(d, 0x02));
	tm.tm_hour = bcd(rd(d, 0x04));
	tm.tm_mday = bcd(rd(d, 0x07));
	tm.tm_mon = bcd(rd(d, 0x08)) - 1;
	tm.tm_year = bcd(rd(d, 0x32)) * 100 + bcd(rd(d, 0x09)) - 1900;
	t = timegm(&tm);
	assert_int_equal(bcd(rd(d, 0x06)), tm.tm_wday + 1);
	return t;
}

static void assert_near_host(struct device *d)
{
	time_t before = time(NULL), t = read_bcd_time(d), after = time(NULL);

	assert_true(t >= before - 2 && t <= after + 2);
}

static void test_time_bcd_24h(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	time_t now = time(NULL);
	struct tm tm;

	assert_int_equal(d->nr_regions, 1);
	assert_int_equal(d->regions[0].base, 0x70);
	assert_int_equal(d->regions[0].len, 2);
	assert_int_equal(rd(d, 0x0a) & 0x7f, 0x26);
	assert_int_equal(rd(d, 0x0b), 0x02);
	assert_near_host(d);
	gmtime_r(&now, &tm);
	assert_int_equal(rd(d, 0x32), to_bcd((tm.tm_year + 1900) / 100));
	destroy(&f, d);
}

static void test_time_binary_12h(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	time_t before, after;
	struct tm tm;
	uint8_t h, want;

	wr(d, 0x0b, 0x04);                     /* binary, 12-hour */
	do {                                    /* same hour throughout */
		before = time(NULL);
		h = rd(d, 0x04);
		after = time(NULL);
	} while (before / 3600 != after / 3600);
	gmtime_r(&before, &tm);
	want = (tm.tm_hour % 12 ? tm.tm_hour % 12 : 12) |
	       (tm.tm_hour >= 12 ? 0x80 : 0);
	assert_int_equal(h, want);
	assert_int_equal(rd(d, 0x08), tm.tm_mon + 1);
	assert_int_equal(rd(d, 0x09), tm.tm_year % 100);
	assert_int_equal(rd(d, 0x32), (tm.tm_year + 1900) / 100);
	assert_true(rd(d, 0x00) < 60);
	destroy(&f, d);
}

/* SET, write a date, clear SET: the clock runs on from the new time. */
static void test_set_time(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	struct tm tm = { .tm_year = 101, .tm_mon = 1, .tm_mday = 3,
			 .tm_hour = 4, .tm_min = 5, .tm_sec = 6 };
	time_t want = timegm(&tm), t;

	wr(d, 0x0b, 0x82 | 0x10);              /* SET clears UIE */
	assert_int_equal(rd(d, 0x0b), 0x82);
	wr(d, 0x00, 0x06);
	wr(d, 0x02, 0x05);
	wr(d, 0x04, 0x04);
	wr(d, 0x07, 0x03);
	wr(d, 0x08, 0x02);
	wr(d, 0x09, 0x01);
	wr(d, 0x32, 0x20);
	assert_int_equal(rd(d, 0x00), 0x06);   /* frozen while SET */
	assert_int_equal(rd(d, 0x0a) & 0x80, 0);   /* no UIP while SET */
	wr(d, 0x0b, 0x02);
	t = read_bcd_time(d);                  /* Saturday 2001-02-03 */
	assert_true(t >= want && t <= want + 2);
	assert_int_equal(rd(d, 0x06), 7);
	assert_int_equal(rd(d, 0x32), 0x20);
	/* a lone write outside SET moves the clock too */
	wr(d, 0x09, 0x99);
	assert_int_equal(rd(d, 0x09), 0x99);
	assert_int_equal(rd(d, 0x08), 0x02);
	destroy(&f, d);
}

/* 12-hour BCD written, read back in 24 hours after switching formats. */
static void test_set_time_12h(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);

	wr(d, 0x0b, 0x80);                     /* SET, BCD, 12-hour */
	wr(d, 0x04, 0x81);                     /* 1 PM */
	wr(d, 0x02, 0x30);
	wr(d, 0x00, 0x00);
	wr(d, 0x0b, 0x00);
	assert_int_equal(rd(d, 0x04), 0x81);
	wr(d, 0x0b, 0x02);
	assert_int_equal(rd(d, 0x04), 0x13);
	/* Registers are read in the mode of the moment: clear SET in
	 * 12-hour mode, then switch. */
	wr(d, 0x0b, 0x80);
	wr(d, 0x04, 0x92);                     /* 12 PM is noon */
	wr(d, 0x0b, 0x00);
	wr(d, 0x0b, 0x02);
	assert_int_equal(rd(d, 0x04), 0x12);
	wr(d, 0x0b, 0x00);
	wr(d, 0x0b, 0x80);
	wr(d, 0x04, 0x12);                     /* 12 AM is midnight */
	wr(d, 0x0b, 0x00);
	wr(d, 0x0b, 0x02);
	assert_int_equal(rd(d, 0x04), 0x00);
	destroy(&f, d);
}

/* Divider reset holds the clock; released, the first update is 0.5 s on. */
static void test_divider_reset(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	uint8_t s;

	wr(d, 0x0a, 0x76);                     /* DV = 111 */
	wr(d, 0x00, 0x30);
	assert_int_equal(rd(d, 0x00), 0x30);
	wr(d, 0x0a, 0x26);
	s = rd(d, 0x00);
	assert_true(s == 0x30 || s == 0x31);
	destroy(&f, d);
}

static void test_periodic_8192(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	uint8_t c;

	rd(d, 0x0c);
	wr(d, 0x0a, 0x23);                     /* RS = 3: 8192 Hz */
	wr(d, 0x0b, 0x42);                     /* PIE */
	wait_irq(&f, 2000);
	c = rd(d, 0x0c);
	assert_int_equal(c & 0xc0, 0xc0);      /* IRQF | PF */
	assert_int_equal(f.level, 0);          /* read lowers the line */
	wait_irq(&f, 2000);                    /* and re-arms */
	assert_true(f.raises >= 2);
	wr(d, 0x0b, 0x02);                     /* PIE off: line drops */
	assert_int_equal(f.level, 0);
	assert_int_equal(rd(d, 0x0c) & 0xc0, 0x40);    /* PF, no IRQF */
	wr(d, 0x0a, 0x20);                     /* no rate: no PF */
	rd(d, 0x0c);
	assert_int_equal(rd(d, 0x0c) & 0x40, 0x00);
	destroy(&f, d);
}

static void test_update_interrupt(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	uint8_t s0 = rd(d, 0x00), c;

	rd(d, 0x0c);
	wr(d, 0x0b, 0x12);                     /* UIE */
	wait_irq(&f, 1200);
	c = rd(d, 0x0c);
	assert_int_equal(c & 0x90, 0x90);      /* IRQF | UF */
	assert_int_equal(f.level, 0);
	assert_int_not_equal(rd(d, 0x00), s0);
	wait_irq(&f, 1200);                    /* every second */
	destroy(&f, d);
}

static void test_alarm_interrupt(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	int s = bcd(rd(d, 0x00)), fired;

	/* now + 1 s (+1 more in case the second turns while we write) */
	wr(d, 0x01, to_bcd((s + 2) % 60));
	wr(d, 0x03, 0xc0);                     /* don't care */
	wr(d, 0x05, 0xff);
	rd(d, 0x0c);
	wr(d, 0x0b, 0x22);                     /* AIE */
	wait_irq(&f, 3000);
	fired = bcd(rd(d, 0x00));
	assert_int_equal(fired, (s + 2) % 60);
	assert_int_equal(rd(d, 0x0c) & 0xa0, 0xa0);    /* IRQF | AF */
	assert_int_equal(f.level, 0);
	destroy(&f, d);
}

/* An alarm on hours/minutes/seconds: hours in 12-hour binary format. */
static void test_alarm_exact(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	uint8_t h, m, s;

	wr(d, 0x0b, 0x04);                     /* binary, 12-hour */
	wr(d, 0x0b, 0x84);
	h = rd(d, 0x04);
	m = rd(d, 0x02);
	s = rd(d, 0x00);
	if (s > 57) {                          /* keep it simple: same minute */
		s = 0;
		wr(d, 0x00, 0);
	}
	wr(d, 0x05, h);
	wr(d, 0x03, m);
	wr(d, 0x01, s + 1);
	wr(d, 0x0b, 0x24);                     /* clear SET, AIE */
	wait_irq(&f, 2500);
	assert_int_equal(rd(d, 0x00), s + 1);
	assert_int_equal(rd(d, 0x0c) & 0xa0, 0xa0);
	destroy(&f, d);
}

/* With nothing enabled the flags still appear, on a register C read. */
static void test_lazy_flags(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	int64_t end = mono_ms() + 60000;     /* a hang guard: ~1 s idle */
	uint8_t s0, c;
	struct timespec ms = { 0, 1000000 };

	wr(d, 0x01, 0xff);                     /* alarm every second */
	wr(d, 0x03, 0xff);
	wr(d, 0x05, 0xff);
	rd(d, 0x0c);
	s0 = rd(d, 0x00);
	while (rd(d, 0x00) == s0) {
		assert_true(mono_ms() < end);
		assert_int_equal(event_loop_poll(f.loop, 0), 0); /* no timer */
		nanosleep(&ms, NULL);
	}
	c = rd(d, 0x0c);
	assert_int_equal(c, 0x70);     /* PF (1024 Hz) | AF | UF, no IRQF */
	assert_int_equal(f.raises, 0);
	destroy(&f, d);
}

/* UIP shows in the last 244 us of a second, and only then. The loop only
 * needs to be running during one of those windows: on a loaded machine it
 * can miss a few, so it is given 60 of them (a hang guard, not a speed
 * assumption; an idle machine sees UIP within a second). */
static void test_uip(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	int64_t end = mono_ms() + 60000;
	unsigned set = 0, clear = 0;

	while (!set || !clear) {
		assert_true(mono_ms() < end);
		if (rd(d, 0x0a) & 0x80)
			set++;
		else
			clear++;
	}
	destroy(&f, d);
}

static void test_nvram(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);

	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			wr(d, i, i ^ 0xa5);
	for (unsigned i = 0x0e; i < 0x80; i++)
		if (i != 0x32)
			assert_int_equal(rd(d, i), i ^ 0xa5);
	assert_int_equal(rd(d, 0x80 | 0x20), 0x20 ^ 0xa5);  /* NMI bit */
	assert_int_equal(d->ops->read(d, 0, 0, 1), 0xff);  /* write-only */
	/* a word access: index, then data */
	d->ops->write(d, 0, 0, 2, 0x5a40);
	assert_int_equal(rd(d, 0x40), 0x5a);
	d->ops->write(d, 0, 0, 1, 0x41);
	assert_int_equal(d->ops->read(d, 0, 0, 2), 0xff | (0x41 ^ 0xa5) << 8);
	destroy(&f, d);
}

static void test_reg_d_and_c_read_only(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);

	assert_int_equal(rd(d, 0x0d), 0x80);
	wr(d, 0x0d, 0x00);
	assert_int_equal(rd(d, 0x0d), 0x80);
	wr(d, 0x0c, 0xff);
	assert_int_equal(rd(d, 0x0c) & 0x8f, 0x00);
	assert_int_equal(f.level, 0);
	destroy(&f, d);
}

static void test_presets(void **state)
{
	static const char *const p[] = { "0x0b,0x06", "0x40,1,2,0xff",
					 "0x0d,0", NULL };
	struct fake f;
	struct device *d = make(&f, p);
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	assert_int_equal(rd(d, 0x0b), 0x06);   /* binary, 24-hour */
	assert_int_equal(rd(d, 0x09), tm.tm_year % 100);
	assert_int_equal(rd(d, 0x40), 1);
	assert_int_equal(rd(d, 0x41), 2);
	assert_int_equal(rd(d, 0x42), 0xff);
	assert_int_equal(rd(d, 0x0d), 0x00);   /* VRT preset to 0 */
	d->ops->reset(d);
	assert_int_equal(rd(d, 0x0b), 0x06);   /* presets survive reset */
	assert_int_equal(rd(d, 0x0d), 0x00);
	destroy(&f, d);
}

/* A time preset sets the clock before the guest starts. */
static void test_preset_time(void **state)
{
	static const char *const p[] = { "0x0b,0x82", "0x00,0,0,0,0,0,0,6,1,1,0x99",
					 "0x32,0x19", "0x0b,0x02", NULL };
	struct fake f;
	struct device *d = make(&f, p);

	assert_int_equal(rd(d, 0x32), 0x19);
	assert_int_equal(rd(d, 0x09), 0x99);
	assert_int_equal(rd(d, 0x08), 0x01);
	assert_int_equal(rd(d, 0x07), 0x01);
	assert_int_equal(rd(d, 0x06), 0x06);   /* 1999-01-01: Friday */
	destroy(&f, d);
}

static void test_bad_presets(void **state)
{
	static const char *const bad[] = { "5", "0x0c,1", "0x7f,1,2",
					   "0x10,0x100", "0x80,1", "0x10,", NULL };
	struct fake f;
	struct device *d;

	for (const char *const *b = bad; *b; b++) {
		const char *one[] = { *b, NULL };

		assert_int_not_equal(try_make(&f, one, &d), 0);
		assert_null(d);
		event_loop_free(f.loop);
	}
}

static void test_reset(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);

	wr(d, 0x50, 0x77);
	wr(d, 0x0a, 0x23);
	wr(d, 0x0b, 0x4e);                     /* PIE SQWE DM 24h */
	wait_irq(&f, 2000);
	d->ops->reset(d);
	assert_int_equal(f.level, 0);
	assert_int_equal(rd(d, 0x0a) & 0x7f, 0x26);
	assert_int_equal(rd(d, 0x0b), 0x02);
	assert_int_equal(rd(d, 0x0c) & 0x80, 0x00);
	assert_int_equal(rd(d, 0x0d), 0x80);
	assert_int_equal(rd(d, 0x50), 0x77);   /* NVRAM kept */
	assert_near_host(d);
	/* SET held over a reset: the written time is taken */
	wr(d, 0x0b, 0x82);
	wr(d, 0x09, 0x42);
	d->ops->reset(d);
	assert_int_equal(rd(d, 0x0b), 0x02);
	assert_int_equal(rd(d, 0x09), 0x42);
	destroy(&f, d);
}

/* A hostile guest: any byte anywhere, modes flipping, garbage times. The
 * device must stay sane (sanitizers watch) and keep the NVRAM bank. */
static void test_garbage(void **state)
{
	struct fake f;
	struct device *d = make(&f, NULL);
	unsigned seed = 12345;

	for (int i = 0; i < 20000; i++) {
		unsigned idx = rand_r(&seed) % 0x100, v = rand_r(&seed) % 0x100;

		if (rand_r(&seed) % 2)
			d->ops->write(d, 0, rand_r(&seed) % 2, 1,
				      idx << (rand_r(&seed) % 2 * 8) | v);
		else
			rd(d, idx);
		event_loop_poll(f.loop, 0);
	}
	wr(d, 0x0b, 0x86);                     /* SET, binary: all 0xff */
	for (unsigned i = 0; i < 10; i++)
		wr(d, i, 0xff);
	wr(d, 0x32, 0xff);
	wr(d, 0x0b, 0x06);
	assert_true(rd(d, 0x00) < 60);
	assert_true(rd(d, 0x08) >= 1 && rd(d, 0x08) <= 12);
	d->ops->reset(d);
	assert_int_equal(rd(d, 0x0b), 0x02);
	assert_int_equal(rd(d, 0x0d), 0x80);
	destroy(&f, d);
}

static void test_type(void **state)
{
	uint64_t addr;
	uint32_t line;

	assert_ptr_equal(vdev_type_find("mc146818"), &mc146818_type);
	assert_ptr_equal(vdev_type_find("vdev-mc146818.so"), &mc146818_type);
	assert_true(mc146818_type.supported);
	assert_true(mc146818_type.default_loc(0, &addr));
	assert_int_equal(addr, 0x70);
	assert_true(mc146818_type.default_intr(0, &line));
	assert_int_equal(line, 8);
	assert_non_null(vdev_type_opt(&mc146818_type, "reg"));
	assert_true(vdev_type_opt(&mc146818_type, "reg")->repeatable);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_time_bcd_24h),
		cmocka_unit_test(test_time_binary_12h),
		cmocka_unit_test(test_set_time),
		cmocka_unit_test(test_set_time_12h),
		cmocka_unit_test(test_divider_reset),
		cmocka_unit_test(test_periodic_8192),
		cmocka_unit_test(test_update_interrupt),
		cmocka_unit_test(test_alarm_interrupt),
		cmocka_unit_test(test_alarm_exact),
		cmocka_unit_test(test_lazy_flags),
		cmocka_unit_test(test_uip),
		cmocka_unit_test(test_nvram),
		cmocka_unit_test(test_reg_d_and_c_read_only),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_preset_time),
		cmocka_unit_test(test_bad_presets),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
