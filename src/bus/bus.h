/* Address -> device dispatch for port I/O and MMIO.
 *
 * Readers (every exit) take no lock: they load the current table with
 * acquire semantics and binary-search it. Writers (device placement, PCI BAR
 * moves) serialise on a mutex, build a new table and publish it with release
 * semantics. A replaced table may still be in a reader's hands, so it is
 * retired, not freed, until bus_free(): BARs move a handful of times per
 * boot, so the retired tables stay few and small.
 */
#ifndef CVISOR_BUS_BUS_H
#define CVISOR_BUS_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct device;

enum bus_space { BUS_PIO, BUS_MMIO };

struct bus_range {
	uint64_t base, len;
	struct device *dev;
	unsigned region;       /* index into the device's regions */
};

struct bus_table {
	struct bus_table *retired_next;
	unsigned nr;
	struct bus_range r[];  /* sorted by base, disjoint */
};

struct bus {
	enum bus_space space;
	struct bus_table *_Atomic table;
	struct bus_table *retired;     /* replaced tables, freed in bus_free */
	pthread_mutex_t lock;          /* writers only */
	/* Unclaimed accesses: counted, logged with a rate limit. */
	uint64_t _Atomic unclaimed;
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
const struct bus_range *bus_find(const struct bus *b, uint64_t addr,
				 unsigned len);
/* Dispatch one access. Reads of unclaimed addresses return all-ones.
 * Returns true when a device claimed it. */
bool bus_access(struct bus *b, uint64_t addr, void *data, unsigned len,
		bool is_write);

#endif
