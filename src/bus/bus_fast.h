/* The exit hot path, inlined into the vCPU loop: a hit in the vCPU's bus
 * cache goes straight to the device, with no call into the bus and no
 * lookup. Everything else (a miss, a changed bus, a bad size) takes
 * bus_access_cached(), which fills the cache again.
 */
#ifndef CVISOR_BUS_BUS_FAST_H
#define CVISOR_BUS_BUS_FAST_H

#include <string.h>

#include "bus/bus.h"
#include "devices/device.h"

static inline uint64_t bus_load_le(const void *data, unsigned len)
{
	/* x86 and arm64 hosts are little-endian */
	switch (len) {
	case 1: return *(const uint8_t *)data;
	case 2: { uint16_t v; memcpy(&v, data, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, data, 4); return v; }
	case 8: { uint64_t v; memcpy(&v, data, 8); return v; }
	}
	uint64_t v = 0;       /* odd sizes: an MMIO access of 3, 5-7 bytes */
	memcpy(&v, data, len);
	return v;
}

/* Call the device that r names; len is 1..8 (the callers check). */
static inline void bus_range_access(const struct bus_range *r, uint64_t addr,
				    void *data, unsigned len, bool is_write)
{
	const struct device_ops *ops = r->dev->ops;

	if (is_write) {
		if (ops->write)
			ops->write(r->dev, r->region, addr - r->base, len,
				   bus_load_le(data, len));
	} else {
		uint64_t v = ops->read ?
			ops->read(r->dev, r->region, addr - r->base, len) :
			~0ULL;
		memcpy(data, &v, len);
	}
}

static inline bool bus_access_fast(struct bus *b, struct bus_cache *c,
				   uint64_t addr, void *data, unsigned len,
				   bool is_write)
{
	if (len - 1u < 8 &&
	    c->seq == atomic_load_explicit(&b->seq, memory_order_acquire) &&
	    bus_range_decodes(&c->r, addr, len)) {
		bus_range_access(&c->r, addr, data, len, is_write);
		return true;
	}
	return bus_access_cached(b, c, addr, data, len, is_write);
}

#endif
