/* Address -> device dispatch for port I/O and MMIO.
 *
 * Devices are placed before the vCPUs start; after that the table is only
 * read, so the per-exit lookup (a binary search) takes no lock. Later moves
 * (PCI BARs) replace the whole table and publish it atomically.
 */
#ifndef CVISOR_BUS_BUS_H
#define CVISOR_BUS_BUS_H

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
	unsigned nr;
	struct bus_range r[];  /* sorted by base, disjoint */
};

struct bus {
	enum bus_space space;
	struct bus_table *_Atomic table;
	/* Unclaimed accesses: counted, logged with a rate limit. */
	uint64_t _Atomic unclaimed;
};

void bus_init(struct bus *b, enum bus_space space);
void bus_free(struct bus *b);
/* Place [base, base+len) of dev's region; -EEXIST on overlap, -EINVAL on a
 * wrapping or empty range. Not safe against concurrent bus_access(): call
 * before vCPUs run (or from a paused VM). */
int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 struct device *dev, unsigned region);
const struct bus_range *bus_find(const struct bus *b, uint64_t addr,
				 unsigned len);
/* Dispatch one access. Reads of unclaimed addresses return all-ones.
 * Returns true when a device claimed it. */
bool bus_access(struct bus *b, uint64_t addr, void *data, unsigned len,
		bool is_write);

#endif
