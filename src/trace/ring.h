/* The trace's per-vCPU ring (docs/trace.md), after ACRNTrace: fixed-size
 * records, one producer (the vCPU thread) and one consumer (the drain
 * thread), no lock. A full ring drops the new record and counts it: the
 * vCPU never waits for the drain.
 */
#ifndef CVISOR_TRACE_RING_H
#define CVISOR_TRACE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One record, 32 bytes, little-endian, as the file holds it. */
struct trace_rec {
	uint64_t tsc;       /* host TSC when KVM_RUN returned */
	uint64_t addr;      /* guest-physical address or port */
	uint64_t value;     /* data written, or read back (size bytes) */
	uint32_t cycles;    /* TSC cycles spent in cvisor (saturated) */
	uint16_t vcpu;
	uint8_t event;      /* KVM exit reason, or TRACE_EV_* */
	uint8_t flags;      /* TRACE_F_* | access size (0..8) */
};
_Static_assert(sizeof(struct trace_rec) == 32, "trace record size");

#define TRACE_F_SIZE   0x0f
#define TRACE_F_WRITE  0x10
#define TRACE_F_REP    0x20    /* one record for a `rep ins/outs` string */

/* Events beyond the KVM exit reasons (which are < 64). */
#define TRACE_EV_LOST  0xfe    /* value: records this vCPU's ring dropped */
#define TRACE_EV_END   0xff    /* value: TSC Hz; addr: records written */

struct trace_ring {
	/* producer's line: head and its count of drops */
	uint64_t head;
	uint64_t overruns;
	uint64_t tail_cache;           /* producer's last look at tail */
	char pad0[64 - 3 * sizeof(uint64_t)];
	uint64_t tail;                 /* consumer's line */
	uint64_t lost_reported;        /* overruns already in the file */
	char pad1[64 - 2 * sizeof(uint64_t)];
	uint64_t mask;                 /* capacity - 1 */
	struct trace_rec *recs;
};

/* 2^order records; 0 or -ENOMEM. */
int trace_ring_init(struct trace_ring *r, unsigned order);
void trace_ring_free(struct trace_ring *r);

/* Producer: append, or drop and count when full. */
static inline bool trace_ring_put(struct trace_ring *r,
				  const struct trace_rec *rec)
{
	uint64_t h = r->head;

	if (h - r->tail_cache > r->mask) {
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (h - r->tail_cache > r->mask) {
			__atomic_store_n(&r->overruns, r->overruns + 1,
					 __ATOMIC_RELAXED);
			return false;
		}
	}
	r->recs[h & r->mask] = *rec;
	__atomic_store_n(&r->head, h + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer: move up to max records out, oldest first; their number. */
size_t trace_ring_take(struct trace_ring *r, struct trace_rec *out,
		       size_t max);
/* Consumer: forget every record in the ring now. */
void trace_ring_discard(struct trace_ring *r);

static inline uint64_t trace_ring_overruns(const struct trace_ring *r)
{
	return __atomic_load_n(&r->overruns, __ATOMIC_RELAXED);
}

#endif
