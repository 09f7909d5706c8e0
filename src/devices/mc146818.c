/* Motorola MC146818A real-time clock and CMOS RAM (`vdev mc146818`), as on
 * every PC: index port at loc (0x70, bit 7 = NMI mask, ignored), data port
 * at loc + 1; interrupt on IRQ 8.
 *
 * The clock is the host's CLOCK_REALTIME plus an offset: the guest's
 * "divider chain" time. The time registers are computed from it on read
 * and latched in cmos[] while the clock is stopped (SET, or the divider
 * not at 32.768 kHz), which is also where the guest writes a new time;
 * restarting the clock turns the written time into a new offset.
 *
 * Flags (PF, AF, UF) are accounted lazily over the interval since the last
 * accounting, so nothing wakes up while no interrupt is enabled; one
 * timerfd on the event loop is armed only for the next enabled event, and
 * not at all while IRQF is pending (nothing can change before the guest
 * reads register C). See docs/devices.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/persist.h"
#include "core/util.h"
#include "devices/registry.h"
#include "event/loop.h"

enum {
	RTC_SEC = 0x00, RTC_SEC_ALARM = 0x01, RTC_MIN = 0x02,
	RTC_MIN_ALARM = 0x03, RTC_HOUR = 0x04, RTC_HOUR_ALARM = 0x05,
	RTC_WDAY = 0x06, RTC_MDAY = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,     /* PC convention (ACPI FADT CENTURY) */
};

#define CMOS_SIZE  128

#define A_UIP      0x80
#define A_DV       0x70
#define A_DV_32K   0x20     /* 32.768 kHz time base: the clock runs */
#define A_RS       0x0f

#define B_SET      0x80
#define B_PIE      0x40
#define B_AIE      0x20
#define B_UIE      0x10
#define B_SQWE     0x08
#define B_DM       0x04     /* 1 = binary, 0 = BCD */
#define B_24H      0x02
#define B_DSE      0x01

#define C_IRQF     0x80
#define C_PF       0x40
#define C_AF       0x20
#define C_UF       0x10

#define D_VRT      0x80

/* As firmware leaves it: 32.768 kHz, 1024 Hz periodic rate; 24-hour BCD. */
#define A_POWER_ON 0x26
#define B_POWER_ON 0x02

#define NSEC       1000000000LL
#define TICKS      32768    /* divider ticks per second */
/* UIP rises 244 us (8 ticks) before an update. */
#define UIP_NS     (8 * NSEC / TICKS)
#define DAY        86400
#define NEVER      INT64_MAX

struct rtc_time {
	int64_t sec;            /* seconds since 1970, may be negative */
	int64_t nsec;           /* [0, NSEC) */
};

struct rtc {
	struct device dev;
	pthread_mutex_t lock;   /* vCPU threads and the loop's timer */
	struct dev_env env;
	uint32_t gsi;
	int tfd;                /* -1 without an event loop */
	bool irq_level;
	uint8_t index;
	uint8_t cmos[CMOS_SIZE];
	struct rtc_time offset; /* divider time = host time + offset */
	struct rtc_time synced; /* divider time flags are accounted up to */
	uint8_t reset_a, reset_b, reset_d;   /* power-on values + presets */
	struct rtc_kept *kept;  /* NULL without env->persist */
};

/* What a guest reset keeps: the battery-backed NVRAM and the clock the
 * guest set, as on a PC, where reset does not reach the RTC. */
struct rtc_kept {
	bool valid;
	uint8_t cmos[CMOS_SIZE];
	struct rtc_time offset;
};

static struct rtc *to_rtc(struct device *d)
{
	return container_of(d, struct rtc, dev);
}

/* --- time arithmetic ----------------------------------------------- */

static struct rtc_time ts_norm(int64_t sec, int64_t nsec)
{
	sec += nsec / NSEC;
	nsec %= NSEC;
	if (nsec < 0) {
		nsec += NSEC;
		sec--;
	}
	return (struct rtc_time){ sec, nsec };
}

static struct rtc_time ts_add(struct rtc_time a, struct rtc_time b)
{
	return ts_norm(a.sec + b.sec, a.nsec + b.nsec);
}

static struct rtc_time ts_sub(struct rtc_time a, struct rtc_time b)
{
	return ts_norm(a.sec - b.sec, a.nsec - b.nsec);
}

static int ts_cmp(struct rtc_time a, struct rtc_time b)
{
	if (a.sec != b.sec)
		return a.sec < b.sec ? -1 : 1;
	return a.nsec < b.nsec ? -1 : a.nsec > b.nsec;
}

static struct rtc_time host_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct rtc_time){ ts.tv_sec, ts.tv_nsec };
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

struct civil {
	int64_t year;
	unsigned month, mday, wday;     /* 1-12, 1-31, 0 = Sunday */
	unsigned hour, min, sec;
};

static struct civil civil_from_secs(int64_t t)
{
	int64_t days = floor_div(t, DAY), sod = t - days * DAY;
	int64_t z = days + 719468, era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	struct civil c;

	c.mday = doy - (153 * mp + 2) / 5 + 1;
	c.month = mp < 10 ? mp + 3 : mp - 9;
	c.year = yoe + era * 400 + (c.month <= 2);
	c.wday = days + 4 - floor_div(days + 4, 7) * 7;  /* 1970: Thursday */
	c.hour = sod / 3600;
	c.min = sod / 60 % 60;
	c.sec = sod % 60;
	return c;
}

/* --- register formats (BCD or binary, 12 or 24 hours) -------------- */

static bool binary(const struct rtc *r)
{
	return r->cmos[RTC_REG_B] & B_DM;
}

static uint8_t to_reg(const struct rtc *r, unsigned v)
{
	return binary(r) ? v : (v / 10) << 4 | v % 10;
}

/* The number a register holds, or -1 when it is not valid BCD. */
static int from_reg(const struct rtc *r, uint8_t b)
{
	if (binary(r))
		return b;
	if ((b >> 4) > 9 || (b & 0x0f) > 9)
		return -1;
	return (b >> 4) * 10 + (b & 0x0f);
}

static uint8_t hour_to_reg(const struct rtc *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & B_24H)
		return to_reg(r, h);
	/* 12-hour: 12, 1..11 AM, then bit 7 for PM */
	return to_reg(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static int hour_from_reg(const struct rtc *r, uint8_t b)
{
	int v;

	if (r->cmos[RTC_REG_B] & B_24H) {
		v = from_reg(r, b);
		return v > 23 ? -1 : v;
	}
	v = from_reg(r, b & 0x7f);
	if (v < 1 || v > 12)
		return -1;
	return v % 12 + (b & 0x80 ? 12 : 0);
}

/* A field of the written time; garbage becomes dflt (the chip's own
 * behaviour with invalid values is undefined). */
static int time_field(const struct rtc *r, unsigned idx, int lo, int hi,
		      int dflt)
{
	int v = idx == RTC_HOUR ? hour_from_reg(r, r->cmos[idx]) :
				  from_reg(r, r->cmos[idx]);

	return v < lo || v > hi ? dflt : v;
}

/* The time the registers hold. Day of week is not an input: it follows
 * from the date. */
static int64_t parse_time(const struct rtc *r)
{
	int64_t year = time_field(r, RTC_CENTURY, 0, 99, 20) * 100 +
		       time_field(r, RTC_YEAR, 0, 99, 0);
	int64_t days = days_from_civil(year,
				       time_field(r, RTC_MONTH, 1, 12, 1),
				       time_field(r, RTC_MDAY, 1, 31, 1));

	return days * DAY + time_field(r, RTC_HOUR, 0, 23, 0) * 3600 +
	       time_field(r, RTC_MIN, 0, 59, 0) * 60 +
	       time_field(r, RTC_SEC, 0, 59, 0);
}

static void store_time(struct rtc *r, int64_t t)
{
	struct civil c = civil_from_secs(t);
	int64_t y = c.year < 0 ? 0 : c.year > 9999 ? 9999 : c.year;

	r->cmos[RTC_SEC] = to_reg(r, c.sec);
	r->cmos[RTC_MIN] = to_reg(r, c.min);
	r->cmos[RTC_HOUR] = hour_to_reg(r, c.hour);
	r->cmos[RTC_WDAY] = to_reg(r, c.wday + 1);     /* 1 = Sunday */
	r->cmos[RTC_MDAY] = to_reg(r, c.mday);
	r->cmos[RTC_MONTH] = to_reg(r, c.month);
	r->cmos[RTC_YEAR] = to_reg(r, y % 100);
	r->cmos[RTC_CENTURY] = to_reg(r, y / 100);
}

static bool is_time_reg(unsigned idx)
{
	return (idx <= RTC_YEAR && !(idx & 1 && idx < RTC_WDAY)) ||
	       idx == RTC_CENTURY;
}

/* --- clock state ---------------------------------------------------- */

/* DV 010 is the PC's 32.768 kHz base; 000 and 001 (the chip's other
 * crystals) are taken as running too, as QEMU does, for guests that write
 * only the rate bits. 011 and 1xx (test modes, divider reset) stop it. */
static bool divider_running(const struct rtc *r)
{
	return (r->cmos[RTC_REG_A] & A_DV) <= A_DV_32K;
}

/* Updates happen: the time registers follow the clock. */
static bool updating_with(const struct rtc *r, uint8_t b)
{
	return divider_running(r) && !(b & B_SET);
}

static bool updating(const struct rtc *r)
{
	return updating_with(r, r->cmos[RTC_REG_B]);
}

static struct rtc_time divider_time(const struct rtc *r,
				    struct rtc_time host)
{
	return ts_add(host, r->offset);
}

/* Periodic rate as a period in divider ticks, 0 when off. RS 1 and 2 give
 * 256 and 128 Hz with a 32.768 kHz base, like RS 8 and 9. */
static unsigned periodic_ticks(const struct rtc *r)
{
	unsigned rs = r->cmos[RTC_REG_A] & A_RS;

	if (!rs)
		return 0;
	return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static int64_t periodic_count(struct rtc_time t, unsigned period)
{
	int64_t tick = t.nsec * TICKS / NSEC;

	return t.sec * (TICKS / period) + tick / period;
}

static struct rtc_time next_periodic(struct rtc_time t, unsigned period)
{
	int64_t next = (t.nsec * TICKS / NSEC / period + 1) * period;

	if (next >= TICKS)
		return (struct rtc_time){ t.sec + 1, 0 };
	/* round up so that the tick count has been reached at that time */
	return (struct rtc_time){ t.sec, (next * NSEC + TICKS - 1) / TICKS };
}

/* An alarm byte: -1 = don't care, -2 = can never match, else the value. */
static int alarm_field(const struct rtc *r, unsigned idx, int max)
{
	uint8_t b = r->cmos[idx];
	int v;

	if ((b & 0xc0) == 0xc0)
		return -1;
	v = idx == RTC_HOUR_ALARM ? hour_from_reg(r, b) : from_reg(r, b);
	return v < 0 || v > max ? -2 : v;
}

static bool field_ok(int want, int v)
{
	return want == -1 || want == v;
}

/* The first second after t at which the alarm matches, or NEVER. The
 * pattern repeats daily, so two days from t's midnight cover it. */
static int64_t next_alarm(const struct rtc *r, int64_t t)
{
	int ws = alarm_field(r, RTC_SEC_ALARM, 59);
	int wm = alarm_field(r, RTC_MIN_ALARM, 59);
	int wh = alarm_field(r, RTC_HOUR_ALARM, 23);
	int64_t day0 = floor_div(t, DAY) * DAY;

	if (ws == -2 || wm == -2 || wh == -2)
		return NEVER;
	for (int64_t d = day0; d <= day0 + DAY; d += DAY)
		for (int h = 0; h < 24; h++) {
			if (!field_ok(wh, h) || d + h * 3600 + 3599 <= t)
				continue;
			for (int m = 0; m < 60; m++) {
				int64_t hm = d + h * 3600 + m * 60;

				if (!field_ok(wm, m) || hm + 59 <= t)
					continue;
				for (int s = 0; s < 60; s++)
					if (field_ok(ws, s) && hm + s > t)
						return hm + s;
			}
		}
	return NEVER;
}

/* --- flags, interrupt line, timer ----------------------------------- */

/* Register C with IRQF = PF.PIE + AF.AIE + UF.UIE (flag and enable
 * bits line up between C and B). */
static uint8_t reg_c(const struct rtc *r)
{
	uint8_t c = r->cmos[RTC_REG_C] & (C_PF | C_AF | C_UF);

	return c & r->cmos[RTC_REG_B] ? c | C_IRQF : c;
}

static void update_irq(struct rtc *r)
{
	bool level;

	r->cmos[RTC_REG_C] = reg_c(r);
	level = r->cmos[RTC_REG_C] & C_IRQF;
	if (level == r->irq_level)
		return;
	r->irq_level = level;
	if (r->env.irq_set)
		r->env.irq_set(r->env.ctx, r->gsi, level);
}

/* Set the flags for what happened on the divider between the last
 * accounting and host time `host`. Called before every state change, so
 * the interval saw one mode throughout. */
static void catch_up(struct rtc *r, struct rtc_time host)
{
	struct rtc_time now = divider_time(r, host), last = r->synced;
	unsigned period = periodic_ticks(r);

	r->synced = now;
	if (ts_cmp(now, last) <= 0 || !divider_running(r))
		return;         /* host clock stepped back: start again here */
	if (period && periodic_count(now, period) > periodic_count(last, period))
		r->cmos[RTC_REG_C] |= C_PF;
	if (!updating(r))
		return;
	if (now.sec > last.sec)
		r->cmos[RTC_REG_C] |= C_UF;
	if (next_alarm(r, last.sec) <= now.sec)
		r->cmos[RTC_REG_C] |= C_AF;
}

static struct rtc_time ts_min(struct rtc_time a, struct rtc_time b)
{
	return ts_cmp(a, b) < 0 ? a : b;
}

/* The divider time of the next enabled event, or sec == NEVER. While
 * IRQF is pending nothing new can change the line: no timer. */
static struct rtc_time next_event(const struct rtc *r, struct rtc_time now)
{
	struct rtc_time due = { NEVER, 0 };
	uint8_t b = r->cmos[RTC_REG_B];
	unsigned period = periodic_ticks(r);

	if ((r->cmos[RTC_REG_C] & C_IRQF) || !divider_running(r))
		return due;
	if ((b & B_PIE) && period)
		due = ts_min(due, next_periodic(now, period));
	if (!updating(r))
		return due;
	if (b & B_UIE)
		due = ts_min(due, (struct rtc_time){ now.sec + 1, 0 });
	if (b & B_AIE) {
		int64_t s = next_alarm(r, now.sec);

		if (s != NEVER)
			due = ts_min(due, (struct rtc_time){ s, 0 });
	}
	return due;
}

static void arm_timer(struct rtc *r, struct rtc_time host)
{
	struct rtc_time due = next_event(r, divider_time(r, host));
	struct itimerspec its = { 0 };

	if (r->tfd < 0)
		return;
	if (due.sec != NEVER) {
		due = ts_sub(due, r->offset);
		its.it_value.tv_sec = due.sec;
		its.it_value.tv_nsec = due.nsec;
		if (!due.sec && !due.nsec)
			its.it_value.tv_nsec = 1;   /* 0 would disarm */
	}
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		pr_warn("mc146818: timerfd: %s", strerror(errno));
}

static void timer_fired(void *opaque, uint32_t events)
{
	struct rtc *r = opaque;
	struct rtc_time now;
	uint64_t n;
	bool was_up, rose;

	if (read(r->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn("mc146818: timerfd read: %s", strerror(errno));
	pthread_mutex_lock(&r->lock);
	was_up = r->irq_level;
	now = host_now();
	catch_up(r, now);
	update_irq(r);
	arm_timer(r, now);
	rose = !was_up && r->irq_level;
	pthread_mutex_unlock(&r->lock);
	/* A PC's chipset sets PM1 RTC_STS from IRQ 8 (AIE + AF for rtcwake):
	 * a wake source for a guest in S3 (vm/suspend.c), where no vCPU runs
	 * to read register C. Outside the lock: the VM's wake-up takes the
	 * acpi-pm device's and the pause locks. */
	if (rose && r->env.power)
		r->env.power(r->env.ctx, POWER_RTC_ALARM, 0);
}

/* --- register access ------------------------------------------------ */

/* The written time becomes the clock's: the divider keeps its phase
 * (the next update comes when it would have), so only whole seconds move.
 * Restarted from a stopped divider, the first update comes 0.5 s later. */
static void apply_time(struct rtc *r, struct rtc_time host, bool restart)
{
	int64_t t = parse_time(r);
	struct rtc_time now = divider_time(r, host);

	if (restart)
		r->offset = ts_sub((struct rtc_time){ t, NSEC / 2 }, host);
	else
		r->offset.sec += t - now.sec;
	r->synced = divider_time(r, host);
}

/* Registers A and B together decide whether the clock runs. */
static void set_mode(struct rtc *r, struct rtc_time host, uint8_t a,
		     uint8_t b)
{
	bool was_updating = updating(r), was_running = divider_running(r);

	r->cmos[RTC_REG_A] = a & ~A_UIP;
	if (was_updating && !updating_with(r, b))
		store_time(r, divider_time(r, host).sec);  /* latch */
	/* Setting SET clears UIE (datasheet). */
	if ((b & B_SET) && !(r->cmos[RTC_REG_B] & B_SET))
		b &= ~B_UIE;
	r->cmos[RTC_REG_B] = b;
	if (!was_updating && updating(r))
		apply_time(r, host, !was_running);
}

static void write_time_reg(struct rtc *r, struct rtc_time host,
			   unsigned idx, uint8_t v)
{
	if (!updating(r)) {
		r->cmos[idx] = v;       /* taken when the clock restarts */
		return;
	}
	store_time(r, divider_time(r, host).sec);
	r->cmos[idx] = v;
	apply_time(r, host, false);
}

static void reg_write(struct rtc *r, unsigned idx, uint8_t v)
{
	struct rtc_time host = host_now();

	catch_up(r, host);
	switch (idx) {
	case RTC_REG_A:
		set_mode(r, host, v, r->cmos[RTC_REG_B]);
		break;
	case RTC_REG_B:
		set_mode(r, host, r->cmos[RTC_REG_A], v);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;                  /* read-only */
	default:
		if (is_time_reg(idx))
			write_time_reg(r, host, idx, v);
		else
			r->cmos[idx] = v;       /* alarms, NVRAM */
	}
	update_irq(r);
	arm_timer(r, host);
}

static uint8_t read_reg_a(const struct rtc *r)
{
	struct rtc_time now = divider_time(r, host_now());
	bool uip = updating(r) && now.nsec >= NSEC - UIP_NS;

	return r->cmos[RTC_REG_A] | (uip ? A_UIP : 0);
}

static uint8_t read_reg_c(struct rtc *r)
{
	struct rtc_time host = host_now();
	uint8_t v;

	/* Flags that came due are reported and cleared in one go, with no
	 * raise-then-lower edge on the line. */
	catch_up(r, host);
	v = reg_c(r);
	r->cmos[RTC_REG_C] = 0;         /* read clears, and lowers IRQ */
	update_irq(r);
	arm_timer(r, host);
	return v;
}

static uint8_t reg_read(struct rtc *r, unsigned idx)
{
	switch (idx) {
	case RTC_REG_A:
		return read_reg_a(r);
	case RTC_REG_C:
		return read_reg_c(r);
	default:
		if (is_time_reg(idx) && updating(r))
			store_time(r, divider_time(r, host_now()).sec);
		return r->cmos[idx];
	}
}

/* Region offset 0 is the index port, 1 the data port; wider accesses act
 * on consecutive ports (`outw` to 0x70 writes index and data). */
static uint64_t rtc_read(struct device *dev, unsigned region, uint64_t off,
			 unsigned size)
{
	struct rtc *r = to_rtc(dev);
	uint64_t v = 0;

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < size; i++) {
		/* the index register is write-only and reads float */
		uint8_t b = off + i == 1 ? reg_read(r, r->index) : 0xff;

		v |= (uint64_t)b << (8 * i);
	}
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void rtc_write(struct device *dev, unsigned region, uint64_t off,
		      unsigned size, uint64_t value)
{
	struct rtc *r = to_rtc(dev);

	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < size; i++) {
		uint8_t b = value >> (8 * i);

		if (off + i == 0)
			r->index = b & 0x7f;    /* bit 7 masks NMI: ignored */
		else if (off + i == 1)
			reg_write(r, r->index, b);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Back to the power-on register state (plus `reg` presets); the time keeps
 * running and the NVRAM keeps its contents, as a battery-backed chip. */
static void rtc_reset_locked(struct rtc *r)
{
	struct rtc_time host = host_now();

	catch_up(r, host);
	set_mode(r, host, r->reset_a, r->reset_b);
	r->cmos[RTC_REG_C] = 0;
	r->cmos[RTC_REG_D] = r->reset_d;
	r->index = 0;
	update_irq(r);
	arm_timer(r, host);
}

static void rtc_reset(struct device *dev)
{
	struct rtc *r = to_rtc(dev);

	pthread_mutex_lock(&r->lock);
	rtc_reset_locked(r);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_free(struct device *dev)
{
	struct rtc *r = to_rtc(dev);

	if (r->kept && r->dev.ops) {
		pthread_mutex_lock(&r->lock);
		catch_up(r, host_now());
		memcpy(r->kept->cmos, r->cmos, CMOS_SIZE);
		r->kept->offset = r->offset;
		r->kept->valid = true;
		pthread_mutex_unlock(&r->lock);
	}
	if (r->tfd >= 0) {
		event_loop_del(r->env.loop, r->tfd);
		close(r->tfd);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct device_ops mc146818_ops = {
	.read = rtc_read,
	.write = rtc_write,
	.reset = rtc_reset,
	.free = rtc_free,
};

/* --- options and creation ------------------------------------------- */

/* One number of a `reg` list: decimal or 0x hex, as the config accepts. */
static const char *parse_num(const char *s, uint64_t *v)
{
	char *end;
	int base = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;

	if (!(s[0] >= '0' && s[0] <= '9'))
		return NULL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || (*end && *end != ','))
		return NULL;
	return end;
}

/* A and B also become the reset values; D's VRT can be preset to 0 (as
 * after a dead battery). Other bytes are written as by the guest, in the
 * format A and B give at that point. */
static void preset_byte(struct rtc *r, unsigned idx, uint8_t v)
{
	if (idx == RTC_REG_A)
		r->reset_a = v & ~A_UIP;
	else if (idx == RTC_REG_B)
		r->reset_b = v;
	if (idx == RTC_REG_D)
		r->reset_d = r->cmos[RTC_REG_D] = v & D_VRT;
	else
		reg_write(r, idx, v);
}

/* `reg IDX,VAL[,VAL...]`: bytes from IDX on, written as the guest would
 * write them (a time sets the clock), before the guest starts. */
static int apply_preset(struct rtc *r, const struct cfg_devopt *o)
{
	const char *s = o->value ? o->value : "";
	uint64_t idx, v;
	unsigned n = 0;
	bool ok;

	s = parse_num(s, &idx);
	while (s && *s == ',') {
		s = parse_num(s + 1, &v);
		if (!s || v > 0xff || idx + n >= CMOS_SIZE ||
		    idx + n == RTC_REG_C) {
			s = NULL;
			break;
		}
		preset_byte(r, idx + n++, v);
	}
	ok = s && !*s && n;
	if (!ok) {
		pr_err("mc146818: 'reg %s' (%s:%u:%u): expected IDX,VAL... with "
		       "IDX < 0x80 (not 0x0c) and bytes <= 0xff",
		       o->value ? o->value : "",
		       o->pos.file ? o->pos.file : "?", o->pos.line, o->pos.col);
		return -EINVAL;
	}
	return 0;
}

static int apply_presets(struct rtc *r, const struct vdev_config *vc)
{
	for (unsigned i = 0; i < vc->nr_opts; i++)
		if (!strcmp(vc->opts[i].key, "reg") &&
		    apply_preset(r, &vc->opts[i]))
			return -EINVAL;
	return 0;
}

static int open_timer(struct rtc *r)
{
	int ret;

	if (!r->env.loop)
		return 0;       /* flags only, no interrupts on their own */
	r->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->tfd < 0) {
		ret = -errno;
		pr_err("mc146818: timerfd: %s", strerror(errno));
		return ret;
	}
	ret = event_loop_add(r->env.loop, r->tfd, EPOLLIN, timer_fired, r);
	if (ret) {
		pr_err("mc146818: event loop: %s", strerror(-ret));
		close(r->tfd);
		r->tfd = -1;
	}
	return ret;
}

/* The state kept across resets for this vdev, made on first use. */
static int find_kept(struct rtc *r, const struct vdev_config *vc)
{
	if (!r->env.persist)
		return 0;
	r->kept = persist_get(r->env.persist, vc, PERSIST_RTC);
	if (r->kept)
		return 0;
	r->kept = xcalloc(1, sizeof(*r->kept));
	if (persist_put(r->env.persist, vc, PERSIST_RTC, r->kept, free)) {
		free(r->kept);
		r->kept = NULL;
		return -ENOSPC;
	}
	return 0;
}

/* After a reset: the NVRAM and clock as the last VM left them. */
static void restore_kept(struct rtc *r)
{
	memcpy(r->cmos, r->kept->cmos, CMOS_SIZE);
	r->offset = r->kept->offset;
}

static int mc146818_create(const struct vdev_config *vc,
			   const struct dev_env *env, struct device **out)
{
	struct rtc *r = xcalloc(1, sizeof(*r));
	int ret;

	pthread_mutex_init(&r->lock, NULL);
	r->env = *env;
	r->tfd = -1;
	r->gsi = vc->nr_intrs ? vc->intrs[0].line : 8;
	r->reset_a = A_POWER_ON;
	r->reset_b = B_POWER_ON;
	r->reset_d = D_VRT;
	r->cmos[RTC_REG_A] = A_POWER_ON;
	r->cmos[RTC_REG_B] = B_POWER_ON;
	r->synced = host_now();
	/* presets also give the reset values of A, B and D: always */
	ret = find_kept(r, vc);
	if (!ret)
		ret = apply_presets(r, vc);
	if (!ret && r->kept && r->kept->valid)
		restore_kept(r);
	if (!ret)
		ret = open_timer(r);
	if (ret) {
		rtc_free(&r->dev);
		return ret;
	}
	r->dev.ops = &mc146818_ops;
	r->dev.name = "mc146818";
	device_add_region(&r->dev, BUS_PIO, vc->locs[0].addr, 2);
	rtc_reset_locked(r);
	*out = &r->dev;
	return 0;
}

static bool mc146818_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0x70;
	return index == 0;
}

/* ISA IRQ 8 through IOAPIC pin 8: the MADT has no override for it. */
static bool mc146818_default_intr(unsigned index, uint32_t *line)
{
	*line = 8;
	return index == 0;
}

static const struct devopt_spec mc146818_opts[] = {
	{ .key = "reg", .kind = DEVOPT_LIST, .repeatable = true },
	{ 0 },
};

const struct vdev_type mc146818_type = {
	.name = "mc146818",
	.class = VDEV_PLATFORM,
	.supported = true,
	.needs_intr = true,
	.max_instances = 1,
	.loc_space = LOC_IO,
	.region_len = 2,
	.default_loc = mc146818_default_loc,
	.default_intr = mc146818_default_intr,
	.opts = mc146818_opts,
	.create = mc146818_create,
};
