/* Address -> device dispatch for port I/O and MMIO.
 *
 * Every exit looks its address up under the read side of a rwlock, copies
 * the matching range out and drops the lock before calling the device. So
 * writers (device placement, PCI BAR moves, which a guest can trigger at
 * will) replace the table and free the old one at once, memory stays
 * bounded, and a device handler that moves its own BAR (a PCI config write)
 * takes the write side without deadlocking on its own read side. Devices
 * themselves live until the VM is torn down, after the vCPUs are joined.
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
	unsigned nr;
	struct bus_range r[];  /* sorted by base, disjoint */
};

struct bus {
	enum bus_space space;
	struct bus_table *table;
	pthread_rwlock_t lock;         /* read: lookups; write: changes */
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
/* Copy the range decoding [addr, addr+len) to *out; false if none. */
bool bus_find(struct bus *b, uint64_t addr, unsigned len,
	      struct bus_range *out);
/* Dispatch one access. Reads of unclaimed addresses return all-ones.
 * Returns true when a device claimed it. */
bool bus_access(struct bus *b, uint64_t addr, void *data, unsigned len,
		bool is_write);

#endif
