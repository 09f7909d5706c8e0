/* The ARM PrimeCell PL031 RTC (ARM DDI 0224): a counter of seconds that
 * follows the host's real-time clock from an offset (RTCLR sets it), and
 * a match register: when the counter reaches RTCMR the raw interrupt
 * RTCRIS rises, and the line is RTCRIS & RTCIMSC until RTCICR clears it.
 * The match is found two ways: on every register access (so a guest that
 * polls sees it, and unit tests need no loop) and by a timerfd on the
 * event loop armed for the second it falls due (so an idle guest gets its
 * interrupt). The lock covers vCPU threads against the loop's timer.
 * The time the guest set (RTCLR's offset) outlives a guest reset, which
 * rebuilds the VM: it is kept in the VM's persist store, as a battery
 * would keep it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/persist.h"
#include "core/util.h"
#include "devices/pl031.h"
#include "devices/registry.h"
#include "event/loop.h"

/* What a guest reset keeps: the offset and the clock it is taken from. */
struct pl031_kept {
	int64_t offset;
	int64_t (*now)(void);
};

struct pl031 {
	struct device dev;
	struct dev_env env;
	uint32_t gsi;
	pthread_mutex_t lock;
	int64_t (*now)(void);
	int64_t offset;          /* counter = now() + offset, mod 2^32 */
	uint32_t mr, imsc, ris;
	bool started;
	bool armed;              /* a match is due at host second due */
	int64_t due;
	bool line;
	int tfd;                 /* -1 without an event loop */
	struct pl031_kept *kept; /* NULL without env->persist */
};

static struct pl031 *to_rtc(struct device *d)
{
	return container_of(d, struct pl031, dev);
}

static int64_t host_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static uint32_t counter(const struct pl031 *r, int64_t now)
{
	return (uint32_t)(now + r->offset);
}

static void update_line(struct pl031 *r)
{
	bool level = r->ris & r->imsc & 1;

	if (level == r->line)
		return;
	r->line = level;
	if (r->env.irq_set)
		r->env.irq_set(r->env.ctx, r->gsi, level);
}

/* A due match that the host's clock has reached raises RIS. */
static void catch_up(struct pl031 *r, int64_t now)
{
	if (r->armed && now >= r->due) {
		r->armed = false;
		r->ris = 1;
	}
}

/* After MR or the counter changed: the next host second at which the
 * counter equals MR (up to 2^32 - 1 s ahead); equal now raises at once.
 * 0, or the timer's errno (said by the caller once the lock is gone). */
static int arm_match(struct pl031 *r, int64_t now)
{
	uint32_t ahead = r->mr - counter(r, now);
	struct itimerspec its = { 0 };

	r->armed = ahead != 0;
	r->due = now + ahead;
	if (!ahead)
		r->ris = 1;
	if (r->tfd < 0)
		return 0;
	if (r->armed)
		its.it_value.tv_sec = r->due;
	return timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0 ?
	       errno : 0;
}

static void timer_fired(void *opaque, uint32_t events)
{
	struct pl031 *r = opaque;
	uint64_t n;

	if (read(r->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn("pl031: timerfd read: %s", strerror(errno));
	pthread_mutex_lock(&r->lock);
	catch_up(r, r->now());
	update_line(r);
	pthread_mutex_unlock(&r->lock);
}

/* PrimeCell identification: PeriphID 0x00141031 (part 0x031, ARM,
 * revision 1), the PrimeCell ID 0xb105f00d. */
static const uint8_t pl031_id[8] = {
	0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
};

static uint32_t reg_read(struct pl031 *r, uint64_t off, int64_t now)
{
	if (off >= 0xfe0 && off < 0x1000)
		return pl031_id[(off - 0xfe0) / 4];
	switch (off) {
	case PL031_DR:   return counter(r, now);
	case PL031_MR:   return r->mr;
	case PL031_LR:   return counter(r, now);
	case PL031_CR:   return r->started;
	case PL031_IMSC: return r->imsc;
	case PL031_RIS:  return r->ris;
	case PL031_MIS:  return r->ris & r->imsc;
	default:         return 0;     /* ICR is write only; reserved */
	}
}

/* 0, or the match timer's errno. */
static int reg_write(struct pl031 *r, uint64_t off, uint32_t v, int64_t now)
{
	switch (off) {
	case PL031_MR:
		r->mr = v;
		return arm_match(r, now);
	case PL031_LR:
		r->offset = (int64_t)v - now;
		if (r->kept)
			r->kept->offset = r->offset;
		return arm_match(r, now);
	case PL031_CR:
		/* the start bit sticks until reset; the counter runs anyway
		 * (it is the host's clock) */
		r->started |= v & 1;
		break;
	case PL031_IMSC:
		r->imsc = v & 1;
		break;
	case PL031_ICR:
		if (v & 1)
			r->ris = 0;
		break;
	default:
		break;          /* DR, RIS, MIS, the IDs: read only */
	}
	return 0;
}

/* 32-bit registers; other widths and unaligned offsets read 0 and are
 * ignored when written, as the APB bridge would. */
static uint64_t rtc_read(struct device *dev, unsigned region, uint64_t off,
			 unsigned size)
{
	struct pl031 *r = to_rtc(dev);
	int64_t now;
	uint32_t v;

	if (size != 4 || (off & 3))
		return 0;
	pthread_mutex_lock(&r->lock);
	now = r->now();
	catch_up(r, now);
	v = reg_read(r, off, now);
	update_line(r);
	pthread_mutex_unlock(&r->lock);
	return v;
}

static void rtc_write(struct device *dev, unsigned region, uint64_t off,
		      unsigned size, uint64_t value)
{
	struct pl031 *r = to_rtc(dev);
	int64_t now;
	int err;

	if (size != 4 || (off & 3))
		return;
	pthread_mutex_lock(&r->lock);
	now = r->now();
	catch_up(r, now);
	err = reg_write(r, off, (uint32_t)value, now);
	update_line(r);
	pthread_mutex_unlock(&r->lock);
	/* Said without the lock: a log write that stderr holds up must not
	 * hold up the loop's timer_fired (or another vCPU) with it. */
	if (err)
		log_ratelimited(LOG_WARN, "pl031: timerfd: %s", strerror(err));
}

/* Reset: the counter keeps the host's time (battery backed), the match,
 * the mask and the interrupt are cleared. */
static void rtc_reset(struct device *dev)
{
	struct pl031 *r = to_rtc(dev);

	pthread_mutex_lock(&r->lock);
	r->mr = 0;
	r->imsc = 0;
	r->ris = 0;
	r->started = true;
	r->armed = false;
	if (r->tfd >= 0)
		timerfd_settime(r->tfd, TFD_TIMER_ABSTIME,
				&(struct itimerspec){ { 0, 0 }, { 0, 0 } }, NULL);
	update_line(r);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_free(struct device *dev)
{
	struct pl031 *r = to_rtc(dev);

	if (r->tfd >= 0) {
		event_loop_del_sync(r->env.loop, r->tfd);
		close(r->tfd);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const struct device_ops pl031_ops = {
	.read = rtc_read,
	.write = rtc_write,
	.reset = rtc_reset,
	.free = rtc_free,
};

void pl031_set_clock(struct device *dev, int64_t (*now)(void))
{
	struct pl031 *r = to_rtc(dev);

	pthread_mutex_lock(&r->lock);
	r->offset += r->now() - now();     /* the counter does not jump */
	r->now = now;
	if (r->kept)
		*r->kept = (struct pl031_kept){ r->offset, now };
	pthread_mutex_unlock(&r->lock);
}

/* The clock as the last VM of this config left it, or a new record. */
static void keep(struct pl031 *r, const struct vdev_config *vc)
{
	struct pl031_kept *k;

	if (!r->env.persist)
		return;
	k = persist_get(r->env.persist, vc, PERSIST_RTC);
	if (k) {
		r->offset = k->offset;
		r->now = k->now;
		r->kept = k;
		return;
	}
	k = xcalloc(1, sizeof(*k));
	*k = (struct pl031_kept){ r->offset, r->now };
	if (persist_put(r->env.persist, vc, PERSIST_RTC, k, free))
		free(k);        /* full: the time is not kept, as without */
	else
		r->kept = k;
}

static int pl031_create(const struct vdev_config *vc,
			const struct dev_env *env, struct device **out)
{
	struct pl031 *r = xcalloc(1, sizeof(*r));

	r->env = *env;
	r->gsi = vc->nr_intrs ? vc->intrs[0].line : 0;
	r->now = host_seconds;
	r->started = true;
	r->tfd = -1;
	keep(r, vc);
	pthread_mutex_init(&r->lock, NULL);
	if (env->loop) {
		r->tfd = timerfd_create(CLOCK_REALTIME,
					TFD_NONBLOCK | TFD_CLOEXEC);
		if (r->tfd < 0 || event_loop_add(env->loop, r->tfd, EPOLLIN,
						 timer_fired, r) < 0) {
			int e = errno;

			pr_err("pl031: timer: %s", strerror(e));
			if (r->tfd >= 0)
				close(r->tfd);
			pthread_mutex_destroy(&r->lock);
			free(r);
			return -e;
		}
	}
	r->dev.ops = &pl031_ops;
	r->dev.name = "pl031";
	device_add_region(&r->dev, BUS_MMIO, vc->locs[0].addr, PL031_SIZE);
	*out = &r->dev;
	return 0;
}

const struct vdev_type pl031_type = {
	.name = "pl031",
	.class = VDEV_PLATFORM,
	.supported = true,
	.needs_intr = true,
	.loc_space = LOC_MEM,
	.region_len = PL031_SIZE,
	.create = pl031_create,
};
