#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/device.h"

void bus_init(struct bus *b, enum bus_space space)
{
	b->space = space;
	b->table = xcalloc(1, sizeof(struct bus_table));
	b->unclaimed = 0;
	pthread_rwlock_init(&b->lock, NULL);
}

void bus_free(struct bus *b)
{
	free(b->table);
	b->table = NULL;
	pthread_rwlock_destroy(&b->lock);
}

static struct bus_table *table_alloc(unsigned nr)
{
	struct bus_table *t = xcalloc(1, sizeof(*t) + nr * sizeof(t->r[0]));

	t->nr = nr;
	return t;
}

/* Called with the write lock: no reader can hold the old table. */
static void replace(struct bus *b, struct bus_table *t)
{
	free(b->table);
	b->table = t;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 struct device *dev, unsigned region)
{
	struct bus_table *old, *t;
	unsigned i, pos = 0;
	int ret = 0;

	if (!len || !range_ok(base, len))
		return -EINVAL;
	pthread_rwlock_wrlock(&b->lock);
	old = b->table;
	for (i = 0; i < old->nr; i++) {
		if (ranges_overlap(base, len, old->r[i].base, old->r[i].len)) {
			ret = -EEXIST;
			goto out;
		}
		if (old->r[i].base < base)
			pos = i + 1;
	}
	t = table_alloc(old->nr + 1);
	memcpy(t->r, old->r, pos * sizeof(t->r[0]));
	t->r[pos] = (struct bus_range){ base, len, dev, region };
	memcpy(&t->r[pos + 1], &old->r[pos], (old->nr - pos) * sizeof(t->r[0]));
	replace(b, t);
out:
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

int bus_unregister(struct bus *b, uint64_t base, struct device *dev,
		   unsigned region)
{
	struct bus_table *old, *t;
	unsigned i, j = 0;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&b->lock);
	old = b->table;
	for (i = 0; i < old->nr; i++)
		if (old->r[i].base == base && old->r[i].dev == dev &&
		    old->r[i].region == region)
			break;
	if (i < old->nr) {
		t = table_alloc(old->nr - 1);
		for (unsigned k = 0; k < old->nr; k++)
			if (k != i)
				t->r[j++] = old->r[k];
		replace(b, t);
		ret = 0;
	}
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

static const struct bus_range *lookup(const struct bus_table *t,
				      uint64_t addr, unsigned len)
{
	unsigned lo = 0, hi = t->nr;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (t->r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct bus_range *r = &t->r[lo - 1];
	uint64_t off = addr - r->base;
	/* An access straddling the end of a device is not the device's. */
	if (off >= r->len || len > r->len - off)
		return NULL;
	return r;
}

bool bus_find(struct bus *b, uint64_t addr, unsigned len,
	      struct bus_range *out)
{
	const struct bus_range *r;

	pthread_rwlock_rdlock(&b->lock);
	r = lookup(b->table, addr, len);
	if (r)
		*out = *r;
	pthread_rwlock_unlock(&b->lock);
	return r != NULL;
}

static uint64_t load_le(const void *data, unsigned len)
{
	uint64_t v = 0;

	memcpy(&v, data, len);	/* x86 and arm64 hosts are little-endian */
	return v;
}

/* PC operating systems probe the ISA port range and PCI mechanism #1 for
 * hardware that may be absent (Linux tries COM2-4, the PCI ports, LPT…):
 * finding nothing there is normal, so it is logged only with -v. Anything
 * else unclaimed is more likely a guest/config mismatch: a warning. */
static bool is_pc_probe(const struct bus *b, uint64_t addr)
{
	return b->space == BUS_PIO &&
	       (addr < 0x400 || (addr >= 0xcf8 && addr < 0xd00));
}

bool bus_access(struct bus *b, uint64_t addr, void *data, unsigned len,
		bool is_write)
{
	static struct ratelimit rl = RATELIMIT_INIT(5, 10);
	struct bus_range r;

	if (len == 0 || len > 8 || !bus_find(b, addr, len, &r))
		goto unclaimed;
	if (is_write) {
		if (r.dev->ops->write)
			r.dev->ops->write(r.dev, r.region, addr - r.base, len,
					  load_le(data, len));
	} else {
		uint64_t v = r.dev->ops->read ?
			r.dev->ops->read(r.dev, r.region, addr - r.base,
					 len) : ~0ULL;
		memcpy(data, &v, len);
	}
	return true;

unclaimed:
	b->unclaimed++;
	if (!is_write)
		memset(data, 0xff, len > 8 ? 8 : len);
	if (ratelimit_ok(&rl))
		log_msg(is_pc_probe(b, addr) ? LOG_INFO : LOG_WARN,
			"unclaimed %s %s at %#llx, size %u",
			b->space == BUS_PIO ? "port" : "mmio",
			is_write ? "write" : "read",
			(unsigned long long)addr, len);
	return false;
}
