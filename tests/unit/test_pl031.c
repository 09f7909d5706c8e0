/* PL031 RTC model: the counter against a fake host clock (no sleeping),
 * RTCLR, the match interrupt through RIS/IMSC/MIS/ICR and the line, the
 * sticky start bit, reset, access widths and the PrimeCell IDs. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "stall_log.h"
#include "event/loop.h"
#include "core/persist.h"
#include "devices/pl031.h"
#include "devices/registry.h"

static int64_t fake_now = 1700000000;

static int64_t fake_clock(void)
{
	return fake_now;
}

struct fake {
	int level, changes;
	struct dev_env env;
	struct device *dev;
};

static void fake_irq(void *ctx, uint32_t gsi, int level)
{
	struct fake *f = ctx;

	assert_int_equal(gsi, 34);
	f->level = level;
	f->changes++;
}

static uint32_t rd(struct device *d, unsigned off)
{
	return (uint32_t)d->ops->read(d, 0, off, 4);
}

static void wr(struct device *d, unsigned off, uint32_t v)
{
	d->ops->write(d, 0, off, 4, v);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct vdev_config vc = { .type = &pl031_type, .nr_locs = 1,
				  .nr_intrs = 1 };

	vc.locs[0].addr = 0x1c170000;
	vc.intrs[0].line = 34;
	f->env = (struct dev_env){ .irq_set = fake_irq, .ctx = f };
	assert_int_equal(pl031_type.create(&vc, &f->env, &f->dev), 0);
	assert_int_equal(f->dev->regions[0].base, 0x1c170000);
	assert_int_equal(f->dev->regions[0].len, PL031_SIZE);
	fake_now = 1700000000;
	pl031_set_clock(f->dev, fake_clock);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	f->dev->ops->free(f->dev);
	free(f);
	return 0;
}

/* The counter follows the host clock; RTCLR moves it, not the clock. */
static void test_counter(void **state)
{
	struct fake *f = *state;
	uint32_t t0 = rd(f->dev, PL031_DR);

	fake_now += 5;
	assert_int_equal(rd(f->dev, PL031_DR), t0 + 5);
	wr(f->dev, PL031_LR, 1000);
	assert_int_equal(rd(f->dev, PL031_DR), 1000);
	assert_int_equal(rd(f->dev, PL031_LR), 1000);
	fake_now += 61;
	assert_int_equal(rd(f->dev, PL031_DR), 1061);
	wr(f->dev, PL031_DR, 5);                 /* read only */
	assert_int_equal(rd(f->dev, PL031_DR), 1061);
	/* 32 bits wrap */
	wr(f->dev, PL031_LR, 0xffffffff);
	fake_now += 2;
	assert_int_equal(rd(f->dev, PL031_DR), 1);
}

/* The counter starts at the host's time (a guest reading it first sees
 * the date, not 0); switching clocks (setup) did not move it. The window
 * is wide: only "this is the host's date" is asserted, not speed. */
static void test_host_time(void **state)
{
	struct fake *f = *state;
	int64_t host = time(NULL), dr = rd(f->dev, PL031_DR);

	assert_true(dr <= host && dr > host - 600);
	fake_now += 3;
	assert_int_equal(rd(f->dev, PL031_DR), (uint32_t)(dr + 3));
}

/* The match: RIS rises when the counter reaches MR, the line only while
 * IMSC enables it, ICR clears it. */
static void test_alarm(void **state)
{
	struct fake *f = *state;

	wr(f->dev, PL031_LR, 100);
	wr(f->dev, PL031_MR, 103);
	assert_int_equal(rd(f->dev, PL031_MR), 103);
	wr(f->dev, PL031_IMSC, 1);
	assert_int_equal(rd(f->dev, PL031_IMSC), 1);
	fake_now += 2;
	assert_int_equal(rd(f->dev, PL031_RIS), 0);
	assert_int_equal(f->level, 0);
	fake_now += 1;                           /* counter 103 */
	assert_int_equal(rd(f->dev, PL031_RIS), 1);
	assert_int_equal(rd(f->dev, PL031_MIS), 1);
	assert_int_equal(f->level, 1);
	fake_now += 10;                          /* stays until cleared */
	assert_int_equal(rd(f->dev, PL031_RIS), 1);
	wr(f->dev, PL031_ICR, 1);
	assert_int_equal(rd(f->dev, PL031_RIS), 0);
	assert_int_equal(rd(f->dev, PL031_MIS), 0);
	assert_int_equal(f->level, 0);
	assert_int_equal(f->changes, 2);
	/* once: the counter went past, no second match */
	fake_now += 100;
	assert_int_equal(rd(f->dev, PL031_RIS), 0);
}

/* Masked: RIS rises, MIS and the line do not; unmasking raises it. */
static void test_masked(void **state)
{
	struct fake *f = *state;

	wr(f->dev, PL031_LR, 50);
	wr(f->dev, PL031_MR, 51);
	fake_now += 1;
	assert_int_equal(rd(f->dev, PL031_RIS), 1);
	assert_int_equal(rd(f->dev, PL031_MIS), 0);
	assert_int_equal(f->level, 0);
	wr(f->dev, PL031_IMSC, 1);
	assert_int_equal(f->level, 1);
	wr(f->dev, PL031_IMSC, 0);
	assert_int_equal(f->level, 0);
}

/* MR equal to the counter matches at once; a match set behind the
 * counter waits for the wrap (2^32 s), not fires. */
static void test_match_now_and_behind(void **state)
{
	struct fake *f = *state;

	wr(f->dev, PL031_IMSC, 1);
	wr(f->dev, PL031_LR, 500);
	wr(f->dev, PL031_MR, 500);
	assert_int_equal(rd(f->dev, PL031_RIS), 1);
	assert_int_equal(f->level, 1);
	wr(f->dev, PL031_ICR, 1);
	wr(f->dev, PL031_MR, 400);
	fake_now += 1000;
	assert_int_equal(rd(f->dev, PL031_RIS), 0);
	/* moving the counter onto the match by RTCLR matches too */
	wr(f->dev, PL031_LR, 400);
	assert_int_equal(rd(f->dev, PL031_RIS), 1);
}

/* RTCCR's start bit reads 1 (the clock runs from creation) and stays 1. */
static void test_control(void **state)
{
	struct fake *f = *state;

	assert_int_equal(rd(f->dev, PL031_CR), 1);
	wr(f->dev, PL031_CR, 0);
	assert_int_equal(rd(f->dev, PL031_CR), 1);
}

/* Reset clears match, mask and interrupt (dropping the line) but keeps
 * the time. */
static void test_reset(void **state)
{
	struct fake *f = *state;

	wr(f->dev, PL031_LR, 7000);
	wr(f->dev, PL031_IMSC, 1);
	wr(f->dev, PL031_MR, 7000);
	assert_int_equal(f->level, 1);
	f->dev->ops->reset(f->dev);
	assert_int_equal(f->level, 0);
	assert_int_equal(rd(f->dev, PL031_IMSC), 0);
	assert_int_equal(rd(f->dev, PL031_MR), 0);
	assert_int_equal(rd(f->dev, PL031_RIS), 0);
	assert_int_equal(rd(f->dev, PL031_DR), 7000);
}

/* A guest reset rebuilds the VM and its devices: the time the guest set
 * with RTCLR comes back from the persist store (a VM without one starts
 * from the host's time again). */
static void test_kept_across_reset(void **state)
{
	struct vdev_config vc = { .type = &pl031_type, .nr_locs = 1,
				  .nr_intrs = 1 };
	struct fake f = { 0 };
	struct device *d;

	(void)state;
	vc.locs[0].addr = 0x1c170000;
	vc.intrs[0].line = 34;
	f.env = (struct dev_env){ .irq_set = fake_irq, .ctx = &f,
				  .persist = persist_new() };
	fake_now = 1700000000;
	assert_int_equal(pl031_type.create(&vc, &f.env, &d), 0);
	pl031_set_clock(d, fake_clock);
	wr(d, PL031_LR, 5000);
	d->ops->free(d);
	fake_now += 3;
	assert_int_equal(pl031_type.create(&vc, &f.env, &d), 0);
	assert_int_equal(rd(d, PL031_DR), 5003);
	wr(d, PL031_LR, 9000);
	d->ops->free(d);
	assert_int_equal(pl031_type.create(&vc, &f.env, &d), 0);
	assert_int_equal(rd(d, PL031_DR), 9000);
	d->ops->free(d);
	persist_free(f.env.persist);
	/* without a store: the host's time, not 9000 */
	f.env.persist = NULL;
	assert_int_equal(pl031_type.create(&vc, &f.env, &d), 0);
	assert_true(rd(d, PL031_DR) > 1577836800u);
	d->ops->free(d);
}

/* PeriphID 0x00141031, PCellID 0xb105f00d (Linux's amba bus probes
 * them); other widths and unaligned offsets read 0 and write nothing. */
static void test_ids_and_widths(void **state)
{
	struct fake *f = *state;
	uint32_t periph = 0, cell = 0;

	for (unsigned i = 0; i < 4; i++) {
		periph |= rd(f->dev, 0xfe0 + 4 * i) << (8 * i);
		cell |= rd(f->dev, 0xff0 + 4 * i) << (8 * i);
	}
	assert_int_equal(periph, 0x00141031);
	assert_int_equal(cell, 0xb105f00d);
	assert_int_equal(rd(f->dev, 0x020), 0);
	wr(f->dev, PL031_LR, 300);
	f->dev->ops->write(f->dev, 0, PL031_LR, 1, 9);
	f->dev->ops->write(f->dev, 0, PL031_LR + 1, 4, 9);
	assert_int_equal(rd(f->dev, PL031_DR), 300);
	assert_int_equal(f->dev->ops->read(f->dev, 0, PL031_DR, 2), 0);
}

/* A host clock before 1970: the match's absolute timer is refused. */
static int64_t before_epoch(void)
{
	return -100000;
}

static void *match_write(void *arg)
{
	wr(arg, 0x04, rd(arg, 0x00) + 5);       /* RTCMR = RTCDR + 5 */
	return NULL;
}

static void *count_read(void *arg)
{
	rd(arg, 0x00);
	return NULL;
}

/* The match timer's failure is logged, and stderr can stall: the log
 * must not be written under the lock that the loop's timer and the
 * other vCPUs take. */
static void test_log_outside_lock(void **state)
{
	struct vdev_config vc = { .type = &pl031_type, .nr_locs = 1,
				  .nr_intrs = 1 };
	struct dev_env env = { 0 };
	struct stall_log s;
	struct device *d;
	bool read;

	vc.locs[0].addr = 0x1c170000;
	vc.intrs[0].line = 34;
	env.loop = event_loop_new();
	assert_non_null(env.loop);
	assert_int_equal(pl031_type.create(&vc, &env, &d), 0);
	pl031_set_clock(d, before_epoch);
	log_stall(&s);
	read = log_stall_race(&s, match_write, count_read, d);
	log_unstall(&s, read);
	d->ops->free(d);
	event_loop_free(env.loop);
	assert_true(read);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_now_and_behind,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test(test_kept_across_reset),
		cmocka_unit_test_setup_teardown(test_ids_and_widths, setup,
						teardown),
		cmocka_unit_test(test_log_outside_lock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
