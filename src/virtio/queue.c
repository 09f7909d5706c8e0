/* Split virtqueue, device side: pop chains, push completions, decide on
 * interrupts. See queue.h for the contract and docs/virtio.md for the
 * checks and their limits.
 *
 * Memory ordering with the driver (another CPU writing guest RAM):
 *  - avail->idx is loaded with acquire before any ring entry or
 *    descriptor it covers is read;
 *  - used entries are written before used->idx is stored with release;
 *  - a full fence separates our used->idx store from reading the driver's
 *    used_event / NO_INTERRUPT, and our avail_event store from re-reading
 *    avail->idx (each side writes one word then reads the other's).
 * Everything the guest controls is copied out once, then checked, then
 * used, so a driver rewriting a descriptor under us cannot slip a value
 * past a check.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "mem/guest_mem.h"
#include "virtio/queue.h"

/* Offsets in 16-bit words inside the avail and used rings. */
#define AVAIL_FLAGS		0
#define AVAIL_IDX		1
#define AVAIL_RING(i)		(2 + (i))
#define AVAIL_USED_EVENT(n)	(2 + (n))
#define USED_FLAGS		0
#define USED_IDX		1
#define USED_AVAIL_EVENT(n)	(2 + 4 * (n))

static const char *const err_names[VIRTQ_ERR__COUNT] = {
	[VIRTQ_OK] = "ok",
	[VIRTQ_ERR_SIZE] = "bad queue size",
	[VIRTQ_ERR_ALIGN] = "misaligned ring",
	[VIRTQ_ERR_RING_ADDR] = "ring outside guest memory",
	[VIRTQ_ERR_AVAIL_IDX] = "avail idx too far ahead",
	[VIRTQ_ERR_HEAD] = "head index out of range",
	[VIRTQ_ERR_NEXT] = "next index out of range",
	[VIRTQ_ERR_LOOP] = "descriptor loop or chain too long",
	[VIRTQ_ERR_DESC_ADDR] = "buffer outside guest memory",
	[VIRTQ_ERR_DESC_ROM] = "writable buffer not in RAM",
	[VIRTQ_ERR_ORDER] = "readable descriptor after writable",
	[VIRTQ_ERR_INDIRECT] = "indirect not negotiated or chained",
	[VIRTQ_ERR_NESTED] = "nested indirect table",
	[VIRTQ_ERR_INDIRECT_LEN] = "bad indirect table length",
	[VIRTQ_ERR_INDIRECT_ADDR] = "indirect table outside guest memory",
	[VIRTQ_ERR_IOV] = "too many segments",
	[VIRTQ_ERR_TOO_LONG] = "chain longer than 4 GiB",
	[VIRTQ_ERR_PUSH] = "device pushed an unpopped chain",
};

const char *virtq_err_str(enum virtq_err e)
{
	if ((unsigned)e >= VIRTQ_ERR__COUNT)
		return "?";
	return err_names[e];
}

static int fail(struct virtq *q, enum virtq_err e)
{
	q->broken = true;
	q->err = e;
	return -EIO;
}

static uint16_t ring_load(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static void ring_store(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

void virtq_init(struct virtq *q, const struct guest_mem *mem,
		uint16_t max_size)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->max_size = max_size;
	virtq_reset(q);
}

void virtq_reset(struct virtq *q)
{
	const struct guest_mem *mem = q->mem;
	uint16_t max = q->max_size;
	uint32_t gen = q->gen;
	uint64_t nr_used = q->nr_used, used_bytes = q->used_bytes;

	memset(q, 0, sizeof(*q));
	q->mem = mem;
	q->max_size = max;
	q->gen = gen;
	q->nr_used = nr_used;
	q->used_bytes = used_bytes;
	q->size = max;
	q->notify_enabled = true;
}

bool virtq_size_valid(uint32_t size, uint16_t max_size)
{
	return size && !(size & (size - 1)) && size <= max_size &&
	       size <= VIRTQ_MAX_SIZE;
}

static int enable_fail(struct virtq *q, enum virtq_err e)
{
	q->err = e;
	return -EINVAL;
}

int virtq_enable(struct virtq *q, unsigned features)
{
	uint64_t n = q->size;

	if (!virtq_size_valid(q->size, q->max_size))
		return enable_fail(q, VIRTQ_ERR_SIZE);
	if (!IS_ALIGNED(q->desc_gpa, 16) || !IS_ALIGNED(q->avail_gpa, 2) ||
	    !IS_ALIGNED(q->used_gpa, 4))
		return enable_fail(q, VIRTQ_ERR_ALIGN);
	/* The rings are mapped once; guest memory never moves afterwards. */
	q->desc = guest_mem_ptr(q->mem, q->desc_gpa, 16 * n);
	q->avail = guest_mem_ptr(q->mem, q->avail_gpa, 6 + 2 * n);
	q->used = guest_mem_ptr_rw(q->mem, q->used_gpa, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used) {
		q->desc = NULL;
		q->avail = q->used = NULL;
		return enable_fail(q, VIRTQ_ERR_RING_ADDR);
	}
	q->used_ring = (struct virtq_used_elem *)(q->used + 2);
	q->features = features;
	q->last_avail_idx = q->shadow_avail = 0;
	q->used_idx = q->used_pub = 0;
	q->signalled_valid = false;
	q->notify_enabled = true;
	/* Kicks wanted, whatever a ring reused from before a reset still
	 * says: the devices turn them off while busy (virtq_disable_notify)
	 * and a stale NO_NOTIFY would leave the first chain unannounced. */
	ring_store(&q->used[USED_FLAGS], 0);
	q->inflight = 0;
	q->broken = false;
	q->err = VIRTQ_OK;
	q->gen++;                 /* what was popped before is stale now */
	q->ready = true;
	return 0;
}

/* Read avail->idx; false when nothing new. Breaks the queue when the
 * driver claims more than a ring's worth of new entries. */
static bool refresh_avail(struct virtq *q)
{
	uint16_t idx = le16toh(__atomic_load_n(&q->avail[AVAIL_IDX],
					       __ATOMIC_ACQUIRE));

	if ((uint16_t)(idx - q->last_avail_idx) > q->size) {
		fail(q, VIRTQ_ERR_AVAIL_IDX);
		return false;
	}
	q->shadow_avail = idx;
	return idx != q->last_avail_idx;
}

/* State of one chain walk. */
struct walk {
	const uint8_t *table;     /* descriptor table being walked */
	unsigned table_size;
	unsigned budget;          /* descriptors still allowed */
	bool indirect;
	bool seen_write;
};

static void read_desc(const struct walk *w, unsigned i, struct virtq_desc *d)
{
	struct virtq_desc raw;

	memcpy(&raw, w->table + 16 * (size_t)i, sizeof(raw));
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

static int add_iov(struct virtq *q, struct virtq_req *req, void *host,
		   uint64_t len, bool write)
{
	unsigned n = req->nr_read + req->nr_write;

	if (n >= req->max_iov)
		return fail(q, VIRTQ_ERR_IOV);
	req->iov[n] = (struct iovec){ .iov_base = host, .iov_len = len };
	if (write)
		req->nr_write++;
	else
		req->nr_read++;
	return 0;
}

/* Map [addr, addr+len) to host segments, one per guest region it spans,
 * so a buffer across two adjacent regions still works. */
static int map_buffer(struct virtq *q, struct virtq_req *req,
		      uint64_t gpa, uint64_t left, bool write)
{
	if (!range_ok(gpa, left))
		return fail(q, VIRTQ_ERR_DESC_ADDR);
	while (left) {
		const struct guest_region *r = guest_mem_find(q->mem, gpa, 1);
		uint64_t chunk;
		void *host;
		int rc;

		if (!r)
			return fail(q, VIRTQ_ERR_DESC_ADDR);
		if (write && r->kind != GUEST_RAM)
			return fail(q, VIRTQ_ERR_DESC_ROM);
		chunk = MIN(left, r->size - (gpa - r->gpa));
		host = write ? guest_mem_ptr_rw(q->mem, gpa, chunk)
			     : guest_mem_ptr(q->mem, gpa, chunk);
		if (!host)
			return fail(q, VIRTQ_ERR_DESC_ADDR);
		rc = add_iov(q, req, host, chunk, write);
		if (rc)
			return rc;
		gpa += chunk;
		left -= chunk;
	}
	return 0;
}

static int add_buffer(struct virtq *q, struct walk *w, struct virtq_req *req,
		      const struct virtq_desc *d)
{
	bool write = d->flags & VIRTQ_DESC_F_WRITE;
	uint64_t *total = write ? &req->write_len : &req->read_len;

	/* Spec 2.7.4: device-readable descriptors precede writable ones. */
	if (!write && w->seen_write)
		return fail(q, VIRTQ_ERR_ORDER);
	w->seen_write |= write;
	if (!d->len)
		return 0;        /* nothing to map; harmless */
	if (*total + d->len > VIRTQ_MAX_CHAIN_BYTES)
		return fail(q, VIRTQ_ERR_TOO_LONG);
	*total += d->len;
	return map_buffer(q, req, d->addr, d->len, write);
}

/* Switch the walk to the indirect table d points at (spec 2.7.5.3). */
static int enter_indirect(struct virtq *q, struct walk *w,
			  const struct virtq_desc *d)
{
	if (w->indirect)
		return fail(q, VIRTQ_ERR_NESTED);
	if (!(q->features & VIRTQ_FEAT_INDIRECT) ||
	    (d->flags & VIRTQ_DESC_F_NEXT))
		return fail(q, VIRTQ_ERR_INDIRECT);
	if (!d->len || d->len % 16 || d->len / 16 > VIRTQ_MAX_INDIRECT)
		return fail(q, VIRTQ_ERR_INDIRECT_LEN);
	w->table = guest_mem_ptr(q->mem, d->addr, d->len);
	if (!w->table)
		return fail(q, VIRTQ_ERR_INDIRECT_ADDR);
	w->table_size = d->len / 16;
	/* Each descriptor of the table may be visited once: catches loops. */
	w->budget = w->table_size;
	w->indirect = true;
	return 0;
}

static int walk_chain(struct virtq *q, uint16_t head, struct virtq_req *req)
{
	struct walk w = {
		.table = (const uint8_t *)q->desc,
		.table_size = q->size,
		.budget = q->size,  /* a chain visits at most size entries */
	};
	unsigned i = head;
	struct virtq_desc d;
	int rc;

	req->head = head;
	req->nr_read = req->nr_write = 0;
	req->read_len = req->write_len = 0;
	for (;;) {
		if (!w.budget--)
			return fail(q, VIRTQ_ERR_LOOP);
		read_desc(&w, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			rc = enter_indirect(q, &w, &d);
			if (rc)
				return rc;
			i = 0;
			continue;
		}
		rc = add_buffer(q, &w, req, &d);
		if (rc)
			return rc;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		/* Inside an indirect table, next indexes that table only. */
		if (d.next >= w.table_size)
			return fail(q, VIRTQ_ERR_NEXT);
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_req *req)
{
	uint16_t head;
	int rc;

	if (!q->ready)
		return 0;
	if (q->broken)
		return -EIO;
	if (q->last_avail_idx == q->shadow_avail && !refresh_avail(q))
		return q->broken ? -EIO : 0;
	head = ring_load(&q->avail[AVAIL_RING(q->last_avail_idx &
					      (q->size - 1))]);
	if (head >= q->size)
		return fail(q, VIRTQ_ERR_HEAD);
	rc = walk_chain(q, head, req);
	if (rc)
		return rc;
	req->gen = q->gen;
	q->last_avail_idx++;
	q->inflight++;
	/* Ask for a kick once the driver adds past what we have taken. */
	if ((q->features & VIRTQ_FEAT_EVENT_IDX) && q->notify_enabled)
		ring_store(&q->used[USED_AVAIL_EVENT(q->size)],
			   q->last_avail_idx);
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	if (!q->ready || q->broken || !q->inflight)
		return;
	q->last_avail_idx--;
	q->inflight--;
}

bool virtq_req_current(const struct virtq *q, const struct virtq_req *req)
{
	return q->ready && req->gen == q->gen;
}

void virtq_fill(struct virtq *q, const struct virtq_req *req,
		uint32_t written)
{
	struct virtq_used_elem e;

	if (!virtq_req_current(q, req) || q->broken)
		return;
	if (!q->inflight) {
		fail(q, VIRTQ_ERR_PUSH);
		return;
	}
	/* Never claim more than the driver offered for writing. */
	if (written > req->write_len)
		written = (uint32_t)req->write_len;
	e.id = htole32(req->head);
	e.len = htole32(written);
	memcpy(&q->used_ring[q->used_idx & (q->size - 1)], &e, sizeof(e));
	q->used_idx++;
	q->inflight--;
	__atomic_store_n(&q->nr_used, q->nr_used + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&q->used_bytes, q->used_bytes + written,
			 __ATOMIC_RELAXED);
}

void virtq_flush(struct virtq *q)
{
	if (!q->ready || q->broken || q->used_pub == q->used_idx)
		return;
	/* Release: the entries above are visible before the new index. */
	__atomic_store_n(&q->used[USED_IDX], htole16(q->used_idx),
			 __ATOMIC_RELEASE);
	q->used_pub = q->used_idx;
}

void virtq_push(struct virtq *q, const struct virtq_req *req,
		uint32_t written)
{
	virtq_fill(q, req, written);
	virtq_flush(q);
}

bool virtq_needs_notify(struct virtq *q)
{
	uint16_t event, old;
	bool valid;

	if (!q->ready || q->broken)
		return false;
	/* Our used->idx store before the driver's flags/used_event load;
	 * pairs with the driver's barrier between its two accesses. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	old = q->signalled_used;
	valid = q->signalled_valid;
	/* Nothing flushed since the last interrupt: none (on a level line,
	 * one with nothing used is IRQ_NONE to Linux, and enough of those
	 * disable the line). What NO_INTERRUPT held back still counts as
	 * news once the driver lets interrupts through again. */
	if (!(q->features & VIRTQ_FEAT_EVENT_IDX)) {
		bool fire = (!valid || old != q->used_pub) &&
			    !(ring_load(&q->avail[AVAIL_FLAGS]) &
			      VIRTQ_AVAIL_F_NO_INTERRUPT);

		if (fire) {
			q->signalled_used = q->used_pub;
			q->signalled_valid = true;
		}
		return fire;
	}
	q->signalled_used = q->used_pub;
	q->signalled_valid = true;
	event = ring_load(&q->avail[AVAIL_USED_EVENT(q->size)]);
	return !valid || vring_need_event(event, q->used_pub, old);
}

void virtq_set_avail_event(struct virtq *q, uint16_t idx)
{
	if (q->ready && (q->features & VIRTQ_FEAT_EVENT_IDX))
		ring_store(&q->used[USED_AVAIL_EVENT(q->size)], idx);
}

void virtq_disable_notify(struct virtq *q)
{
	if (!q->ready)
		return;
	q->notify_enabled = false;
	/* With EVENT_IDX a stale avail_event already means "no kick". */
	if (!(q->features & VIRTQ_FEAT_EVENT_IDX))
		ring_store(&q->used[USED_FLAGS], VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_has_work(struct virtq *q)
{
	uint16_t idx;

	if (!q->ready || q->broken)
		return false;
	idx = le16toh(__atomic_load_n(&q->avail[AVAIL_IDX],
				      __ATOMIC_ACQUIRE));
	return idx != q->last_avail_idx;
}

bool virtq_enable_notify(struct virtq *q)
{
	if (!q->ready)
		return false;
	q->notify_enabled = true;
	if (q->features & VIRTQ_FEAT_EVENT_IDX)
		ring_store(&q->used[USED_AVAIL_EVENT(q->size)],
			   q->last_avail_idx);
	else
		ring_store(&q->used[USED_FLAGS], 0);
	/* Publish the request for kicks before looking for new work, or a
	 * buffer added in between would wait for a kick that never comes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_has_work(q);
}
