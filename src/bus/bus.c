#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus_fast.h"
#include "core/log.h"
#include "core/util.h"

#define BUS_MIN_CAP 16

/* Readers run concurrently with a writer's in-place edits; every shared
 * field is read and written with relaxed atomics, so a torn read is only a
 * wrong answer that the sequence check throws away, never undefined. */
#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static struct bus_array *array_alloc(unsigned cap)
{
	struct bus_array *a = xcalloc(1, sizeof(*a) + cap * sizeof(a->r[0]));

	a->cap = cap;
	return a;
}

void bus_init(struct bus *b, enum bus_space space)
{
	b->space = space;
	atomic_init(&b->seq, 0);
	b->arr = array_alloc(BUS_MIN_CAP);
	b->nr = 0;
	b->retired = NULL;
	b->nr_retired = 0;
	b->unclaimed = 0;
	pthread_mutex_init(&b->wlock, NULL);
}

void bus_free(struct bus *b)
{
	for (unsigned i = 0; i < b->nr_retired; i++)
		free(b->retired[i]);
	free(b->retired);
	free(b->arr);
	b->arr = NULL;
	b->retired = NULL;
	b->nr_retired = 0;
	pthread_mutex_destroy(&b->wlock);
}

/* Writer side of the sequence counter (Boehm's C11 seqlock): the odd value
 * is visible before any edit, the even one after all of them. */
static uint64_t write_begin(struct bus *b)
{
	uint64_t s = atomic_load_explicit(&b->seq, memory_order_relaxed);

	atomic_store_explicit(&b->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	return s;
}

static void write_end(struct bus *b, uint64_t s)
{
	atomic_store_explicit(&b->seq, s + 2, memory_order_release);
}

static void store_range(struct bus_range *dst, const struct bus_range *src)
{
	STORE(dst->base, src->base);
	STORE(dst->len, src->len);
	STORE(dst->dev, src->dev);
	STORE(dst->region, src->region);
}

/* Room for one more range; called with wlock held, before write_begin, so
 * readers see either the old array or the complete new one. */
static void reserve_one(struct bus *b)
{
	struct bus_array *old = b->arr, *a;

	if (b->nr < old->cap)
		return;
	a = array_alloc(old->cap * 2);
	memcpy(a->r, old->r, b->nr * sizeof(a->r[0]));
	b->retired = xreallocarray(b->retired, b->nr_retired + 1,
				   sizeof(*b->retired));
	b->retired[b->nr_retired++] = old;
	__atomic_store_n(&b->arr, a, __ATOMIC_RELEASE);
}

int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 struct device *dev, unsigned region)
{
	struct bus_range nr = { base, len, dev, region };
	struct bus_array *a;
	unsigned i, pos = 0;
	uint64_t s;

	if (!len || !range_ok(base, len))
		return -EINVAL;
	pthread_mutex_lock(&b->wlock);
	a = b->arr;
	for (i = 0; i < b->nr; i++) {
		if (ranges_overlap(base, len, a->r[i].base, a->r[i].len)) {
			pthread_mutex_unlock(&b->wlock);
			return -EEXIST;
		}
		if (a->r[i].base < base)
			pos = i + 1;
	}
	reserve_one(b);
	a = b->arr;
	s = write_begin(b);
	for (i = b->nr; i > pos; i--)
		store_range(&a->r[i], &a->r[i - 1]);
	store_range(&a->r[pos], &nr);
	STORE(b->nr, b->nr + 1);
	write_end(b, s);
	pthread_mutex_unlock(&b->wlock);
	return 0;
}

int bus_unregister(struct bus *b, uint64_t base, struct device *dev,
		   unsigned region)
{
	struct bus_array *a;
	unsigned i;
	uint64_t s;

	pthread_mutex_lock(&b->wlock);
	a = b->arr;
	for (i = 0; i < b->nr; i++)
		if (a->r[i].base == base && a->r[i].dev == dev &&
		    a->r[i].region == region)
			break;
	if (i == b->nr) {
		pthread_mutex_unlock(&b->wlock);
		return -ENOENT;
	}
	s = write_begin(b);
	for (; i + 1 < b->nr; i++)
		store_range(&a->r[i], &a->r[i + 1]);
	STORE(b->nr, b->nr - 1);
	write_end(b, s);
	pthread_mutex_unlock(&b->wlock);
	return 0;
}

unsigned bus_count(struct bus *b)
{
	unsigned n;

	pthread_mutex_lock(&b->wlock);
	n = b->nr;
	pthread_mutex_unlock(&b->wlock);
	return n;
}

/* One unvalidated lookup. The array and count may be from different
 * writers' states; clamping the count to the array's own capacity keeps
 * every index inside memory that stays allocated. */
static bool lookup(struct bus *b, uint64_t addr, unsigned len,
		   struct bus_range *out)
{
	const struct bus_array *a = __atomic_load_n(&b->arr,
						    __ATOMIC_ACQUIRE);
	unsigned lo = 0, hi = LOAD(b->nr);
	const struct bus_range *r;

	if (hi > a->cap)
		hi = a->cap;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (LOAD(a->r[mid].base) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	r = &a->r[lo - 1];
	out->base = LOAD(r->base);
	out->len = LOAD(r->len);
	out->dev = LOAD(r->dev);
	out->region = LOAD(r->region);
	return bus_range_decodes(out, addr, len);
}

/* Writers hold the odd count for a few stores; a reader that meets one
 * spins briefly and yields in case the writer was preempted. */
static uint64_t read_begin(struct bus *b)
{
	unsigned spins = 0;
	uint64_t s;

	while ((s = atomic_load_explicit(&b->seq, memory_order_acquire)) & 1)
		if (++spins % 64 == 0)
			sched_yield();
	return s;
}

static bool find(struct bus *b, struct bus_cache *c, uint64_t addr,
		 unsigned len, struct bus_range *out)
{
	uint64_t s;
	bool hit;

	do {
		s = read_begin(b);
		hit = lookup(b, addr, len, out);
		atomic_thread_fence(memory_order_acquire);
	} while (atomic_load_explicit(&b->seq, memory_order_relaxed) != s);
	if (c && hit) {
		c->seq = s;
		c->r = *out;
	}
	return hit;
}

bool bus_find(struct bus *b, uint64_t addr, unsigned len,
	      struct bus_range *out)
{
	return find(b, NULL, addr, len, out);
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

/* A guest written for QEMU's isa-debug-exit ends its run at port 0xf4;
 * without a `vdev debug-exit` that write does nothing, which a user
 * would otherwise only learn with -v. Said once. */
static void warn_debug_exit(struct bus *b, uint64_t addr, bool is_write)
{
	static atomic_bool said;

	if (b->space == BUS_PIO && addr == 0xf4 && is_write &&
	    !atomic_exchange(&said, true))
		pr_warn("the guest wrote to port 0xf4 (debug-exit) but there is "
			"no 'vdev debug-exit': the write is ignored");
}

static bool unclaimed(struct bus *b, uint64_t addr, void *data, unsigned len,
		      bool is_write)
{
	const char *dir = is_write ? "write" : "read";
	unsigned long long a = addr;

	b->unclaimed++;
	if (!is_write)
		memset(data, 0xff, len > 8 ? 8 : len);
	warn_debug_exit(b, addr, is_write);
	/* Three kinds, each with its own limit: probes (shown with -v) and
	 * port accesses do not use up the warnings about MMIO. */
	if (is_pc_probe(b, addr))
		log_ratelimited(LOG_INFO, "unclaimed port %s at %#llx, size %u",
				dir, a, len);
	else if (b->space == BUS_PIO)
		log_ratelimited(LOG_WARN, "unclaimed port %s at %#llx, size %u",
				dir, a, len);
	else
		log_ratelimited(LOG_WARN, "unclaimed mmio %s at %#llx, size %u",
				dir, a, len);
	return false;
}

bool bus_access_cached(struct bus *b, struct bus_cache *cache, uint64_t addr,
		       void *data, unsigned len, bool is_write)
{
	struct bus_range r;

	if (len == 0 || len > 8 || !find(b, cache, addr, len, &r))
		return unclaimed(b, addr, data, len, is_write);
	bus_range_access(&r, addr, data, len, is_write);
	return true;
}
