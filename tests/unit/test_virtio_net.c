/* virtio-net through the virtio core API: features and config space, TX
 * and RX with the virtio_net_hdr, MRG_RXBUF (a frame over several
 * buffers, num_buffers right), the bounded RX backlog and its flow
 * control, link status and reset. Hostile chains: test_virtio_net_bad.c;
 * the control queue: test_virtio_net_ctrl.c. */
#include <errno.h>
#include <stdio.h>

#include "test_virtio_net.h"

static uint64_t features(struct nfix *f)
{
	return (uint64_t)virtio_dev_device_features(f->d, 1) << 32 |
	       virtio_dev_device_features(f->d, 0);
}

static void test_config(void **state)
{
	struct nfix *f = *state;
	uint64_t feat;

	net_open(f, 0, 0);
	feat = features(f);
	for (unsigned b = 0; b < 64; b++) {
		bool want = b == VIRTIO_NET_F_MAC || b == VIRTIO_NET_F_STATUS ||
			    b == VIRTIO_NET_F_MTU ||
			    b == VIRTIO_NET_F_MRG_RXBUF ||
			    b == VIRTIO_NET_F_CTRL_VQ ||
			    b == VIRTIO_NET_F_CTRL_RX ||
			    b == VIRTIO_NET_F_CTRL_MAC_ADDR ||
			    b == VIRTIO_F_VERSION_1 ||
			    b == VIRTIO_F_RING_EVENT_IDX ||
			    b == VIRTIO_F_RING_INDIRECT_DESC;

		assert_int_equal(!!(feat & VIRTIO_BIT(b)), want);
	}
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(virtio_dev_config_read(f->d, i, 1),
				 test_mac[i]);
	assert_int_equal(virtio_dev_config_read(f->d, 6, 2),
			 VIRTIO_NET_S_LINK_UP);
	assert_int_equal(virtio_dev_config_read(f->d, 8, 2), 1);
	assert_int_equal(virtio_dev_config_read(f->d, 10, 2), 1500);
	/* modern config space is read-only */
	virtio_dev_config_write(f->d, 0, 1, 0x44);
	assert_int_equal(virtio_dev_config_read(f->d, 0, 1), test_mac[0]);
}

/* A backend that carries offloads gets CSUM/GUEST_CSUM offered. */
static void test_offload_caps(void **state)
{
	struct nfix *f = *state;

	net_open(f, NET_CAP_CSUM, 0);
	assert_true(features(f) & VIRTIO_BIT(VIRTIO_NET_F_CSUM));
	assert_true(features(f) & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM));
}

static void test_default_mac(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];

	virtio_net_default_mac("vm-a", 0, a);
	virtio_net_default_mac("vm-a", 0, b);
	virtio_net_default_mac("vm-a", 1, c);
	virtio_net_default_mac("vm-b", 0, d);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_memory_not_equal(a, d, 6);
	/* locally administered, unicast */
	assert_int_equal(a[0] & 3, 2);
	assert_int_equal(c[0] & 3, 2);
	(void)state;
}

static void test_tx(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[100];
	struct seg s[3];
	struct virtio_net_stats st;

	net_open(f, 0, 0);
	make_frame(fr, sizeof(fr), test_mac, 1);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	memcpy(gpa_host(&f->vm, TXBUF_GPA + 0x100), fr, 40);
	/* the last segment spans the two RAM regions */
	memcpy(gpa_host(&f->vm, RAM2_GPA - 20), fr + 40, 20);
	memcpy(gpa_host(&f->vm, RAM2_GPA), fr + 60, 40);
	s[0] = (struct seg){ TXBUF_GPA, 12, false };
	s[1] = (struct seg){ TXBUF_GPA + 0x100, 40, false };
	s[2] = (struct seg){ RAM2_GPA - 20, 60, false };
	tv_chain(&f->vm, &f->tq, s, 3);
	virtio_queue_notify(f->d, TXQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 1);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 0).len, 0);
	assert_int_equal(f->fb.nr_sent, 1);
	assert_int_equal(f->fb.sent[0].len, sizeof(fr));
	assert_memory_equal(f->fb.sent[0].data, fr, sizeof(fr));
	st = net_stats(f);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.tx_bytes, sizeof(fr));
	assert_true(f->irqs.used > 0);
}

/* Header and frame in one descriptor, as Linux sends small frames. */
static void test_tx_one_desc(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[60];
	struct seg s = { TXBUF_GPA, 12 + sizeof(fr), false };

	net_open(f, 0, 0);
	make_frame(fr, sizeof(fr), test_mac, 2);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	memcpy(gpa_host(&f->vm, TXBUF_GPA + 12), fr, sizeof(fr));
	tv_chain(&f->vm, &f->tq, &s, 1);
	virtio_queue_notify(f->d, TXQ);
	assert_int_equal(f->fb.nr_sent, 1);
	assert_memory_equal(f->fb.sent[0].data, fr, sizeof(fr));
}

static void test_rx(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[200];
	struct virtio_net_hdr h;

	net_open(f, 0, VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(f, RXBUF_GPA, 1526);
	make_frame(fr, sizeof(fr), test_mac, 3);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 1);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 0).len, 12 + sizeof(fr));
	memcpy(&h, gpa_host(&f->vm, RXBUF_GPA), sizeof(h));
	assert_int_equal(h.flags, 0);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(le16toh(h.num_buffers), 1);
	assert_memory_equal(gpa_host(&f->vm, RXBUF_GPA + 12), fr, sizeof(fr));
	/* nothing written past the frame */
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, RXBUF_GPA + 12 +
					      sizeof(fr)), 0xcc);
	assert_int_equal(net_stats(f).rx_frames, 1);
	assert_true(f->irqs.used > 0);
}

/* A 1400-byte frame over 512-byte buffers: three of them, num_buffers 3
 * in the first, each used length what it got. */
static void test_rx_mergeable(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[1400], got[1400];
	struct virtio_net_hdr h;
	size_t off = 0;

	net_open(f, 0, 0);
	assert_true(virtio_dev_has_feature(f->d, VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 5; i++)
		post_rx(f, RXBUF_GPA + 0x1000 * i, 512);
	make_frame(fr, sizeof(fr), test_mac, 4);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 3);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 0).len, 512);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 1).len, 512);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 2).len,
			 12 + 1400 - 1024);
	memcpy(&h, gpa_host(&f->vm, RXBUF_GPA), sizeof(h));
	assert_int_equal(le16toh(h.num_buffers), 3);
	memcpy(got, gpa_host(&f->vm, RXBUF_GPA + 12), 500);
	off = 500;
	memcpy(got + off, gpa_host(&f->vm, RXBUF_GPA + 0x1000), 512);
	off += 512;
	memcpy(got + off, gpa_host(&f->vm, RXBUF_GPA + 0x2000), 1400 - off);
	assert_memory_equal(got, fr, sizeof(fr));
	/* the fourth buffer is still the guest's, untouched */
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, RXBUF_GPA + 0x3000),
			 0xcc);
	/* a second frame uses the next buffer */
	assert_true(backend_rx(f, fr, 100));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 4);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 3).len, 112);
}

/* Not enough buffers yet for a merged frame: none is consumed; it waits
 * and goes out whole once the guest posts more. */
static void test_rx_mergeable_waits(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[1400];
	struct virtio_net_hdr h;

	net_open(f, 0, 0);
	post_rx(f, RXBUF_GPA, 512);
	make_frame(fr, sizeof(fr), test_mac, 5);
	backend_rx(f, fr, sizeof(fr));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 0);
	assert_int_equal(virtio_net_backlog(f->n), 1);
	post_rx(f, RXBUF_GPA + 0x1000, 512);
	post_rx(f, RXBUF_GPA + 0x2000, 512);
	virtio_queue_notify(f->d, RXQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 3);
	assert_int_equal(virtio_net_backlog(f->n), 0);
	memcpy(&h, gpa_host(&f->vm, RXBUF_GPA), sizeof(h));
	assert_int_equal(le16toh(h.num_buffers), 3);
}

/* Without MRG_RXBUF a frame needs one buffer that holds it: a smaller one
 * is never written beyond, the frame is dropped and the buffer kept. */
static void test_rx_too_small(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[300];

	net_open(f, 0, VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(f, RXBUF_GPA, 100);
	make_frame(fr, sizeof(fr), test_mac, 6);
	backend_rx(f, fr, sizeof(fr));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 0);
	assert_int_equal(net_stats(f).rx_too_big, 1);
	assert_int_equal(virtio_net_backlog(f->n), 0);
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, RXBUF_GPA), 0xcc);
	backend_rx(f, fr, 60);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 1);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 0).len, 72);
}

/* With MRG_RXBUF, a frame larger than every buffer the ring could hold
 * is dropped, not kept forever. */
static void test_rx_never_fits(void **state)
{
	struct nfix *f = *state;
	static uint8_t fr[9000];

	net_open(f, 0, 0);
	for (unsigned i = 0; i < TEST_QSIZE; i++)
		post_rx(f, RXBUF_GPA + 0x100 * i, 64);
	make_frame(fr, sizeof(fr), test_mac, 7);
	backend_rx(f, fr, sizeof(fr));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 0);
	assert_int_equal(net_stats(f).rx_too_big, 1);
	assert_int_equal(virtio_net_backlog(f->n), 0);
	backend_rx(f, fr, 60);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 2);
}

/* No RX buffers: frames wait, up to the bound, then are dropped and
 * counted; the backend is told to stop at half and resumed once the
 * guest has taken the backlog. Order is kept. */
static void test_rx_backlog(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[100];
	unsigned told_stop = 0, first_stop = 0;
	struct virtio_net_stats st;

	net_open(f, 0, VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 1000; i++) {
		make_frame(fr, sizeof(fr), test_mac, i);
		if (!backend_rx(f, fr, sizeof(fr)) && !told_stop++)
			first_stop = i;
	}
	assert_int_equal(virtio_net_backlog(f->n), NET_BACKLOG_FRAMES);
	st = net_stats(f);
	assert_int_equal(st.rx_backlog_drops, 1000 - NET_BACKLOG_FRAMES);
	assert_int_equal(first_stop, NET_BACKLOG_FRAMES / 2 - 1);
	assert_int_equal(f->fb.resumed, 0);
	/* the guest reads in rounds of the ring's size */
	for (unsigned round = 0; round < 4; round++) {
		uint16_t base = tv_used_idx(&f->vm, &f->rq);

		for (unsigned i = 0; i < TEST_QSIZE; i++)
			post_rx(f, RXBUF_GPA + 0x800 * i, 1526);
		virtio_queue_notify(f->d, RXQ);
		assert_int_equal(tv_used_idx(&f->vm, &f->rq),
				 (uint16_t)(base + TEST_QSIZE));
		/* the oldest frames first: seq round * 64 + i */
		make_frame(fr, sizeof(fr), test_mac, round * TEST_QSIZE + 9);
		assert_memory_equal(gpa_host(&f->vm, RXBUF_GPA + 0x800 * 9 +
					     12), fr, sizeof(fr));
		if (round < 2)
			assert_int_equal(f->fb.resumed, 0);
	}
	assert_int_equal(virtio_net_backlog(f->n), 0);
	assert_int_equal(f->fb.resumed, 1);
	assert_true(backend_rx(f, fr, sizeof(fr)));
}

/* A paused backend is resumed however the backlog drains: here the
 * guest posts buffers without a kick (it suppressed none, but a kick may
 * come late) and the next frame from the backend takes the backlog. */
static void test_rx_resume_without_kick(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[100];
	bool more = true;

	net_open(f, 0, VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < NET_BACKLOG_FRAMES / 2; i++) {
		make_frame(fr, sizeof(fr), test_mac, i);
		more = backend_rx(f, fr, sizeof(fr));
	}
	assert_false(more);
	for (unsigned i = 0; i < TEST_QSIZE; i++)
		post_rx(f, RXBUF_GPA + 0x800 * i, 1526);
	assert_int_equal(f->fb.resumed, 0);
	make_frame(fr, sizeof(fr), test_mac, 1000);
	/* 129 frames waited, 64 delivered: 65 left, above a quarter */
	assert_false(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(f->fb.resumed, 0);
	for (unsigned i = 0; i < TEST_QSIZE; i++)
		post_rx(f, RXBUF_GPA + 0x800 * i, 1526);
	/* 66 waited, 64 delivered: 2 left, below a quarter: resumed */
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(f->fb.resumed, 1);
	assert_int_equal(virtio_net_backlog(f->n), 2);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 2 * TEST_QSIZE);
}

/* Would the guest kick after adding one more chain to tq? As a driver
 * decides: avail_event with EVENT_IDX, the used ring's flag without. */
static bool kick_wanted(struct nfix *f, struct tv_queue *tq)
{
	uint16_t *used = gpa_host(&f->vm, RING_USED + tq->q * QUEUE_STRIDE);
	uint16_t old = tq->avail_idx, new = (uint16_t)(old + 1);
	uint16_t event = le16toh(used[2 + 4 * TEST_QSIZE]);

	if (virtio_dev_has_feature(f->d, VIRTIO_F_RING_EVENT_IDX))
		return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
	return !(le16toh(used[0]) & VIRTQ_USED_F_NO_NOTIFY);
}

/* RX kicks only when the device waits for buffers (as QEMU and vhost
 * do): while it holds some, the next frame finds the next ones without
 * being told, and each kick costs the guest a VM exit. Out of buffers,
 * it asks again, and the buffer the guest posts with a kick takes the
 * frame that waited. Both ways of asking: used flags and avail_event. */
static void rx_kicks(struct nfix *f, uint64_t without)
{
	uint8_t fr[100];

	net_open(f, 0, VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | without);
	assert_true(kick_wanted(f, &f->rq));
	post_rx(f, RXBUF_GPA, 1526);
	post_rx(f, RXBUF_GPA + 0x800, 1526);
	make_frame(fr, sizeof(fr), test_mac, 1);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_false(kick_wanted(f, &f->rq));
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_false(kick_wanted(f, &f->rq));
	/* no buffer left: the frame waits, and the guest is asked to kick */
	make_frame(fr, sizeof(fr), test_mac, 3);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(virtio_net_backlog(f->n), 1);
	assert_true(kick_wanted(f, &f->rq));
	post_rx(f, RXBUF_GPA + 0x1000, 1526);
	virtio_queue_notify(f->d, RXQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 3);
	assert_memory_equal(gpa_host(&f->vm, RXBUF_GPA + 0x1000 + 12), fr,
			    sizeof(fr));
	assert_int_equal(virtio_net_backlog(f->n), 0);
}

static void test_rx_kicks_event_idx(void **state)
{
	rx_kicks(*state, 0);
}

static void test_rx_kicks_flags(void **state)
{
	rx_kicks(*state, VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
}

/* TX: no kicks while a round runs (the guest's frames added meanwhile
 * are taken in it, as QEMU's TX does), the frames sent given back every
 * 32 so that a guest waiting for room need not wait for the round, and
 * kicks asked for again once the ring is dry. The probe runs as each
 * frame goes out, in the middle of the round. */
struct tx_probe {
	struct nfix *f;
	bool kick_wanted;            /* seen during the round */
	uint16_t used_at_40;
};

static void tx_add(struct nfix *f)
{
	struct seg s = { TXBUF_GPA, 12 + 60, false };

	tv_chain(&f->vm, &f->tq, &s, 1);
}

static void tx_probe(void *ctx)
{
	struct tx_probe *t = ctx;
	struct nfix *f = t->f;

	t->kick_wanted |= kick_wanted(f, &f->tq);
	if (f->fb.nr_sent == 40)
		t->used_at_40 = tv_used_idx(&f->vm, &f->tq);
	if (f->fb.nr_sent < 48)
		tx_add(f);              /* no kick: the guest was told so */
}

/* One chain posted and kicked, probe running as each frame goes out */
static void tx_round(struct nfix *f, void (*probe)(void *),
		     struct tx_probe *t)
{
	tx_add(f);
	f->fb.on_send = probe;
	f->fb.ctx = t;
	virtio_queue_notify(f->d, TXQ);
	f->fb.on_send = NULL;
}

static void tx_kicks(struct nfix *f, uint64_t without)
{
	struct tx_probe t = { .f = f };
	uint8_t fr[60];

	net_open(f, 0, without);
	make_frame(fr, sizeof(fr), test_mac, 4);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	memcpy(gpa_host(&f->vm, TXBUF_GPA + 12), fr, sizeof(fr));
	assert_true(kick_wanted(f, &f->tq));
	tx_round(f, tx_probe, &t);
	assert_int_equal(f->fb.nr_sent, 48);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 48);
	assert_false(t.kick_wanted);
	assert_int_equal(t.used_at_40, 32);
	assert_true(kick_wanted(f, &f->tq));
}

static void test_tx_kicks_event_idx(void **state)
{
	tx_kicks(*state, 0);
}

static void test_tx_kicks_flags(void **state)
{
	tx_kicks(*state, VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
}

/* A pause (or a reset) that comes while the round runs: the ring still
 * holds chains, which pop no longer takes. The round ends, with kicks
 * on, instead of looking for them forever under the queue lock (which
 * the pause then waits for); resuming sends the rest. */
static void tx_pause_probe(void *ctx)
{
	struct tx_probe *t = ctx;
	struct nfix *f = t->f;

	if (f->fb.nr_sent < 4)
		tx_add(f);
	if (f->fb.nr_sent == 3)
		__atomic_store_n(&f->d->quiesced, true, __ATOMIC_SEQ_CST);
}

static void test_tx_paused_mid_round(void **state)
{
	struct nfix *f = *state;
	struct tx_probe t = { .f = f };

	net_open(f, 0, VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX));
	put_txhdr(f, TXBUF_GPA, 0, 0);
	tx_round(f, tx_pause_probe, &t);
	assert_int_equal(f->fb.nr_sent, 3);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 3);
	assert_true(kick_wanted(f, &f->tq));
	__atomic_store_n(&f->d->quiesced, false, __ATOMIC_SEQ_CST);
	virtio_queue_notify(f->d, TXQ);
	assert_int_equal(f->fb.nr_sent, 4);
}

/* A backend that batches its sends (peer) is flushed before the guest
 * sees any of their chains used: until then the frames are read from
 * the guest's buffers. What the flush reports lost moves from the sent
 * count to the backend errors. */
static void tx_flush_probe(void *ctx)
{
	struct tx_probe *t = ctx;
	struct nfix *f = t->f;

	assert_true(tv_used_idx(&f->vm, &f->tq) <= f->fb.nr_flushed);
	if (f->fb.nr_sent < 48)
		tx_add(f);
	if (f->fb.nr_sent == 40)
		f->fb.flush_lost = 2;
}

/* At the flush the guest sees exactly the chains flushed before. */
static void tx_flush_order(void *ctx)
{
	struct tx_probe *t = ctx;
	struct nfix *f = t->f;

	assert_int_equal(tv_used_idx(&f->vm, &f->tq), f->fb.nr_flushed);
}

static void test_tx_backend_flush(void **state)
{
	struct nfix *f = *state;
	struct tx_probe t = { .f = f };
	uint8_t fr[60];

	net_open(f, 0, 0);
	f->fb.on_flush = tx_flush_order;
	make_frame(fr, sizeof(fr), test_mac, 4);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	memcpy(gpa_host(&f->vm, TXBUF_GPA + 12), fr, sizeof(fr));
	tx_round(f, tx_flush_probe, &t);
	assert_int_equal(f->fb.nr_sent, 48);
	assert_int_equal(f->fb.nr_flushed, 48);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 48);
	assert_int_equal(net_stats(f).tx_frames, 46);
	assert_int_equal(net_stats(f).tx_backend_err, 2);
	assert_int_equal(net_stats(f).tx_bytes, 46 * 60);
	f->fb.on_flush = NULL;
}

/* The byte bound holds for large frames. */
static void test_rx_backlog_bytes(void **state)
{
	struct nfix *f = *state;
	static uint8_t fr[60000];

	net_open(f, 0, 0);
	for (unsigned i = 0; i < 100; i++) {
		make_frame(fr, sizeof(fr), test_mac, i);
		backend_rx(f, fr, sizeof(fr));
	}
	assert_int_equal(virtio_net_backlog(f->n),
			 NET_BACKLOG_BYTES / sizeof(fr));
	assert_int_equal(net_stats(f).rx_backlog_drops,
			 100 - NET_BACKLOG_BYTES / sizeof(fr));
}

/* Before DRIVER_OK frames are dropped, not kept. */
static void test_rx_not_running(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[64];

	net_open(f, 0, 0);
	virtio_dev_reset_sync(f->d);
	make_frame(fr, sizeof(fr), test_mac, 1);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(virtio_net_backlog(f->n), 0);
	assert_int_equal(net_stats(f).rx_not_ready, 1);
}

static void test_link(void **state)
{
	struct nfix *f = *state;
	unsigned cfg_irqs;

	net_open(f, 0, 0);
	cfg_irqs = f->irqs.config;
	f->fb.be.client.link(f->fb.be.client.opaque, false);
	assert_int_equal(virtio_dev_config_read(f->d, 6, 2), 0);
	assert_int_equal(f->irqs.config, cfg_irqs + 1);
	f->fb.be.client.link(f->fb.be.client.opaque, true);
	assert_int_equal(virtio_dev_config_read(f->d, 6, 2),
			 VIRTIO_NET_S_LINK_UP);
	assert_int_equal(f->irqs.config, cfg_irqs + 2);
}

/* A reset forgets the backlog and resumes a paused backend. */
static void test_reset(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[64];

	net_open(f, 0, 0);
	for (unsigned i = 0; i < NET_BACKLOG_FRAMES; i++) {
		make_frame(fr, sizeof(fr), test_mac, i);
		backend_rx(f, fr, sizeof(fr));
	}
	assert_int_equal(virtio_net_backlog(f->n), NET_BACKLOG_FRAMES);
	virtio_dev_reset_sync(f->d);
	assert_int_equal(virtio_net_backlog(f->n), 0);
	assert_int_equal(f->fb.resumed, 1);
	assert_int_equal(virtio_dev_status(f->d), 0);
	/* and works again after a new bring-up */
	tv_clear_rings(&f->vm);
	tv_bring_up(f->d, 3, 0);
	f->rq = (struct tv_queue){ .q = RXQ };
	post_rx(f, RXBUF_GPA, 1526);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 1);
}

/* A backend error drops the frame and counts it; the chain comes back. */
static void test_tx_backend_error(void **state)
{
	struct nfix *f = *state;
	struct seg s = { TXBUF_GPA, 12 + 60, false };

	net_open(f, 0, 0);
	f->fb.send_rc = -EIO;
	put_txhdr(f, TXBUF_GPA, 0, 0);
	tv_chain(&f->vm, &f->tq, &s, 1);
	virtio_queue_notify(f->d, TXQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 1);
	assert_int_equal(net_stats(f).tx_backend_err, 1);
	assert_int_equal(net_stats(f).tx_frames, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, net_setup, net_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_offload_caps),
		cmocka_unit_test(test_default_mac),
		T(test_tx),
		T(test_tx_one_desc),
		T(test_tx_backend_error),
		T(test_tx_kicks_event_idx),
		T(test_tx_kicks_flags),
		T(test_tx_paused_mid_round),
		T(test_tx_backend_flush),
		T(test_rx),
		T(test_rx_mergeable),
		T(test_rx_mergeable_waits),
		T(test_rx_too_small),
		T(test_rx_never_fits),
		T(test_rx_backlog),
		T(test_rx_resume_without_kick),
		T(test_rx_kicks_event_idx),
		T(test_rx_kicks_flags),
		T(test_rx_backlog_bytes),
		T(test_rx_not_running),
		T(test_link),
		T(test_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
