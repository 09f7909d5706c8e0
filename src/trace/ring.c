/* The consumer's side of the trace ring (ring.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace/ring.h"

int trace_ring_init(struct trace_ring *r, unsigned order)
{
	memset(r, 0, sizeof(*r));
	if (order > 24)
		return -EINVAL;
	r->recs = calloc((size_t)1 << order, sizeof(*r->recs));
	if (!r->recs)
		return -ENOMEM;
	r->mask = ((uint64_t)1 << order) - 1;
	return 0;
}

void trace_ring_free(struct trace_ring *r)
{
	free(r->recs);
	r->recs = NULL;
}

size_t trace_ring_take(struct trace_ring *r, struct trace_rec *out,
		       size_t max)
{
	uint64_t t = r->tail;
	uint64_t h = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	size_t n = h - t < max ? (size_t)(h - t) : max;

	for (size_t i = 0; i < n; i++)
		out[i] = r->recs[(t + i) & r->mask];
	/* the slots are the producer's again once tail passes them */
	__atomic_store_n(&r->tail, t + n, __ATOMIC_RELEASE);
	return n;
}

void trace_ring_discard(struct trace_ring *r)
{
	__atomic_store_n(&r->tail, __atomic_load_n(&r->head, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
}
