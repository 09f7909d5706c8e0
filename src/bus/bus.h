/* Address -> device dispatch for port I/O and MMIO.
 *
 * Lookups happen on every exit and must be cheap; changes are rare (device
 * placement, PCI BAR moves) but a guest can trigger them at will, from a
 * device handler that is itself running on behalf of a lookup. So the range
 * array is guarded by a sequence counter, not a lock: a reader copies the
 * matching range out and retries if a writer ran meanwhile; writers (under
 * a mutex) edit the array in place between two counter increments and never
 * wait for readers. Arrays only change address when they grow; the old one
 * is kept until bus_free, so a racing reader never touches freed memory and
 * the retired arrays total less than the live one (capacity doubles).
 * Devices themselves live until the VM is torn down, after the vCPUs are
 * joined. A reader may also keep a one-entry cache tagged with the counter
 * (a vCPU's exits mostly hit the same device): valid while nothing changed.
 */
#ifndef CVISOR_BUS_BUS_H
#define CVISOR_BUS_BUS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct device;

enum bus_space { BUS_PIO, BUS_MMIO };

struct bus_range {
	uint64_t base, len;
	struct device *dev;
	unsigned region;       /* index into the device's regions */
};

struct bus_array {
	unsigned cap;
	struct bus_range r[];  /* the first bus.nr are sorted and disjoint */
};

struct bus {
	enum bus_space space;
	_Atomic uint64_t seq;          /* odd while a writer edits */
	struct bus_array *arr;         /* read with __atomic builtins */
	unsigned nr;                   /* ditto */
	pthread_mutex_t wlock;         /* serialises writers */
	struct bus_array **retired;    /* outgrown arrays, freed at bus_free */
	unsigned nr_retired;
	/* Unclaimed accesses: counted, logged with a rate limit. */
	uint64_t _Atomic unclaimed;
};

/* A reader's (a vCPU's) last hit on one bus. */
struct bus_cache {
	uint64_t seq;                  /* odd: empty */
	struct bus_range r;
};

void bus_init(struct bus *b, enum bus_space space);
void bus_free(struct bus *b);
/* Place [base, base+len) of dev's region; -EEXIST on overlap, -EINVAL on a
 * wrapping or empty range. Safe while vCPUs run. */
int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 struct device *dev, unsigned region);
/* Remove the range of dev's region that starts at base; -ENOENT if none. */
int bus_unregister(struct bus *b, uint64_t base, struct device *dev,
		   unsigned region);
/* Number of ranges placed. */
unsigned bus_count(struct bus *b);
/* Copy the range decoding [addr, addr+len) to *out; false if none. */
bool bus_find(struct bus *b, uint64_t addr, unsigned len,
	      struct bus_range *out);

/* Does r decode all of [addr, addr+len)? An access straddling the end of
 * a device is not the device's. */
static inline bool bus_range_decodes(const struct bus_range *r, uint64_t addr,
				     unsigned len)
{
	uint64_t off = addr - r->base;

	return addr >= r->base && off < r->len && len <= r->len - off;
}

static inline void bus_cache_init(struct bus_cache *c)
{
	c->seq = 1;
}

/* Dispatch one access through a full lookup. Reads of unclaimed addresses
 * return all-ones. Returns true when a device claimed it. A non-NULL cache
 * is filled with the hit; bus_access_fast() (bus_fast.h) is what uses it. */
bool bus_access_cached(struct bus *b, struct bus_cache *cache, uint64_t addr,
		       void *data, unsigned len, bool is_write);

static inline bool bus_access(struct bus *b, uint64_t addr, void *data,
			      unsigned len, bool is_write)
{
	return bus_access_cached(b, NULL, addr, data, len, is_write);
}

#endif
