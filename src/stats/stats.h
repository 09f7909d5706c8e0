/* Exit statistics (docs/trace.md): per-vCPU counters that only their vCPU
 * thread writes, so the exit path takes no lock and no atomic
 * read-modify-write; readers (the control socket, --stats at exit, Ctrl-A
 * s) sum them with relaxed loads and see a consistent, if instantly
 * stale, count.
 *
 * Per vCPU: exits by KVM exit reason, the time each exit spent in cvisor
 * (from KVM_RUN's return to the next KVM_RUN) as a log2 histogram of TSC
 * cycles per reason, and the accesses (reads, writes) to each device
 * region the vCPU touched, plus accesses no device claimed.
 */
#ifndef CVISOR_STATS_STATS_H
#define CVISOR_STATS_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"

struct device;

#define STATS_REASONS      64   /* KVM exit reasons counted (0..63) */
#define STATS_HIST_BUCKETS 40   /* bucket b: [2^b, 2^(b+1)) cycles */
#define STATS_REGION_SLOTS 32   /* device regions one vCPU tracks */

struct stats_region {
	/* Set once by the owning vCPU, then published with nr_regions
	 * (release); readers only look at slots below nr_regions. */
	const struct device *dev;
	unsigned region;
	enum bus_space space;
	uint64_t base;              /* where it was first touched (a PCI
	                             * BAR is not in dev->regions) */
	uint64_t reads, writes;
};

struct vcpu_stats {
	uint64_t exits[STATS_REASONS];
	uint64_t cycles[STATS_REASONS];           /* total time in cvisor */
	uint64_t hist[STATS_REASONS][STATS_HIST_BUCKETS];
	uint64_t unclaimed[2];                    /* by enum bus_space */
	uint64_t region_overflow;                 /* no slot left */
	struct stats_region regions[STATS_REGION_SLOTS];
	unsigned nr_regions;
	unsigned last;                            /* owner's lookup hint */
	uint64_t coalesced;                       /* writes without an exit */
};

/* The single writer's increment: no lock, no locked instruction. */
static inline void stats_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static inline unsigned stats_bucket(uint64_t cycles)
{
	unsigned b = cycles ? 63u - (unsigned)__builtin_clzll(cycles) : 0;

	return b < STATS_HIST_BUCKETS ? b : STATS_HIST_BUCKETS - 1;
}

/* One exit of `reason` that spent `cycles` TSC cycles in cvisor. */
static inline void stats_exit(struct vcpu_stats *s, uint32_t reason,
			      uint64_t cycles)
{
	if (reason >= STATS_REASONS)
		return;
	stats_add(&s->exits[reason], 1);
	stats_add(&s->cycles[reason], cycles);
	stats_add(&s->hist[reason][stats_bucket(cycles)], 1);
}

void stats_region_slow(struct vcpu_stats *s, enum bus_space space,
		       const struct bus_range *r, bool is_write, unsigned n);

/* n accesses through r (NULL: nobody claimed them). The vCPU mostly hits
 * the region it hit last: one comparison, then the slow path. */
static inline void stats_access(struct vcpu_stats *s, enum bus_space space,
				const struct bus_range *r, bool is_write,
				unsigned n)
{
	struct stats_region *sr = &s->regions[s->last];

	if (r && s->last < s->nr_regions && sr->dev == r->dev &&
	    sr->region == r->region && sr->space == space)
		stats_add(is_write ? &sr->writes : &sr->reads, n);
	else
		stats_region_slow(s, space, r, is_write, n);
}

/* TSC frequency, estimated against CLOCK_MONOTONIC since the first call
 * (stats_clock_init); 0 until a few milliseconds have passed. */
void stats_clock_init(void);
uint64_t stats_tsc_hz(void);

/* Nearest-rank percentile (pct 1..100) of a log2 histogram: the upper
 * bound, in cycles, of the bucket holding it; 0 for an empty one. */
uint64_t stats_hist_percentile(const uint64_t *hist, unsigned pct);

/* The name of a KVM exit reason ("mmio", "io"...), or NULL. */
const char *stats_exit_name(unsigned reason);

#endif
