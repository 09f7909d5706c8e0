/* The slow half of the exit statistics: a region seen for the first time,
 * the TSC clock estimate, histogram percentiles, exit reason names. */
#include <linux/kvm.h>
#include <time.h>

#include "stats/stats.h"
#include "stats/tsc.h"

void stats_region_slow(struct vcpu_stats *s, enum bus_space space,
		       const struct bus_range *r, bool is_write, unsigned n)
{
	unsigned nr = s->nr_regions;
	struct stats_region *sr;

	if (!r) {
		stats_add(&s->unclaimed[space == BUS_MMIO], n);
		return;
	}
	for (unsigned i = 0; i < nr; i++) {
		sr = &s->regions[i];
		if (sr->dev == r->dev && sr->region == r->region &&
		    sr->space == space) {
			s->last = i;
			stats_add(is_write ? &sr->writes : &sr->reads, n);
			return;
		}
	}
	if (nr == STATS_REGION_SLOTS) {
		stats_add(&s->region_overflow, n);
		return;
	}
	sr = &s->regions[nr];
	sr->dev = r->dev;
	sr->region = r->region;
	sr->space = space;
	sr->base = r->base;
	stats_add(is_write ? &sr->writes : &sr->reads, n);
	s->last = nr;
	/* the slot's identity before readers may look at it */
	__atomic_store_n(&s->nr_regions, nr + 1, __ATOMIC_RELEASE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t base_tsc, base_ns;

void stats_clock_init(void)
{
	if (!__atomic_load_n(&base_ns, __ATOMIC_ACQUIRE)) {
		base_tsc = tsc_read();
		__atomic_store_n(&base_ns, now_ns(), __ATOMIC_RELEASE);
	}
}

uint64_t stats_tsc_hz(void)
{
	uint64_t ns0 = __atomic_load_n(&base_ns, __ATOMIC_ACQUIRE);
	uint64_t tsc = tsc_read(), ns = now_ns();

	/* below 10 ms the estimate is too coarse to print */
	if (!ns0 || ns - ns0 < 10000000u || tsc <= base_tsc)
		return 0;
	return (uint64_t)((unsigned __int128)(tsc - base_tsc) * 1000000000u /
			  (ns - ns0));
}

uint64_t stats_hist_percentile(const uint64_t *hist, unsigned pct)
{
	uint64_t total = 0, rank, seen = 0;

	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++)
		total += stats_get(&hist[b]);
	if (!total)
		return 0;
	rank = (total * pct + 99) / 100;      /* nearest rank, 1-based */
	if (!rank)
		rank = 1;
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++) {
		seen += stats_get(&hist[b]);
		if (seen >= rank)
			return 2ull << b;
	}
	return 2ull << (STATS_HIST_BUCKETS - 1);
}

static const char *const exit_names[STATS_REASONS] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_NMI] = "nmi",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
};

const char *stats_exit_name(unsigned reason)
{
	return reason < STATS_REASONS ? exit_names[reason] : NULL;
}
