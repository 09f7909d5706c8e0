/* virtio-net against a hostile driver: malformed TX headers, offloads
 * that were not negotiated, zero-length and oversized frames, device-
 * writable TX buffers, readable RX buffers, chains longer than the queue
 * and descriptors outside RAM. Each costs the guest its packet (dropped
 * and counted) or breaks the queue (NEEDS_RESET), never more; a good
 * frame still goes through afterwards where the queue survives. */
#include "test_virtio_net.h"

/* One TX chain from segs; runs the handler. */
static void tx_chain(struct nfix *f, const struct seg *s, unsigned n)
{
	tv_chain(&f->vm, &f->tq, s, n);
	virtio_queue_notify(f->d, TXQ);
}

static void tx_good(struct nfix *f)
{
	struct seg s = { TXBUF_GPA + 0x1000, 12 + 60, false };
	unsigned before = f->fb.nr_sent;

	put_txhdr(f, TXBUF_GPA + 0x1000, 0, 0);
	make_frame(gpa_host(&f->vm, TXBUF_GPA + 0x1000 + 12), 60, test_mac, 1);
	tx_chain(f, &s, 1);
	assert_int_equal(f->fb.nr_sent, before + 1);
	assert_false(needs_reset(f));
}

static void test_tx_bad_headers(void **state)
{
	struct nfix *f = *state;
	struct seg s;
	struct virtio_net_stats st;

	net_open(f, 0, 0);
	/* header shorter than 12 bytes */
	s = (struct seg){ TXBUF_GPA, 8, false };
	tx_chain(f, &s, 1);
	/* NEEDS_CSUM without CSUM negotiated (not even offered here) */
	put_txhdr(f, TXBUF_GPA + 0x100, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0);
	s = (struct seg){ TXBUF_GPA + 0x100, 12 + 60, false };
	tx_chain(f, &s, 1);
	/* a GSO type: a 64 KiB TSO claim without the feature */
	put_txhdr(f, TXBUF_GPA + 0x200, 0, 1);
	s = (struct seg){ TXBUF_GPA + 0x200, 12 + 60, false };
	tx_chain(f, &s, 1);
	/* undefined flag bits */
	put_txhdr(f, TXBUF_GPA + 0x300, 0x80, 0);
	s = (struct seg){ TXBUF_GPA + 0x300, 12 + 60, false };
	tx_chain(f, &s, 1);
	st = net_stats(f);
	assert_int_equal(st.tx_bad_hdr, 4);
	assert_int_equal(f->fb.nr_sent, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 4);
	tx_good(f);
}

static void test_tx_zero_and_sizes(void **state)
{
	struct nfix *f = *state;
	struct seg s;
	struct virtio_net_stats st;

	net_open(f, 0, 0);
	/* the header alone: no frame */
	put_txhdr(f, TXBUF_GPA, 0, 0);
	s = (struct seg){ TXBUF_GPA, 12, false };
	tx_chain(f, &s, 1);
	/* shorter than an Ethernet header */
	s = (struct seg){ TXBUF_GPA, 12 + 5, false };
	tx_chain(f, &s, 1);
	/* larger than any frame (128 KiB of header and data) */
	s = (struct seg){ TXBUF_GPA, 128 * 1024, false };
	tx_chain(f, &s, 1);
	st = net_stats(f);
	assert_int_equal(st.tx_zero, 1);
	assert_int_equal(st.tx_too_big, 2);
	assert_int_equal(f->fb.nr_sent, 0);
	tx_good(f);
}

/* Writable buffers in a TX chain: dropped (the device never writes). */
static void test_tx_writable(void **state)
{
	struct nfix *f = *state;
	struct seg s[2] = { { TXBUF_GPA, 12 + 60, false },
			    { TXBUF_GPA + 0x100, 64, true } };

	net_open(f, 0, 0);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	memset(gpa_host(&f->vm, TXBUF_GPA + 0x100), 0xcc, 64);
	tx_chain(f, s, 2);
	assert_int_equal(net_stats(f).tx_bad_hdr, 1);
	assert_int_equal(f->fb.nr_sent, 0);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 0).len, 0);
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, TXBUF_GPA + 0x100),
			 0xcc);
	tx_good(f);
}

/* A descriptor outside RAM breaks the queue: NEEDS_RESET, nothing sent,
 * nothing read from outside guest memory (ASan would tell). */
static void test_tx_outside_ram(void **state)
{
	struct nfix *f = *state;
	struct seg s[2] = { { TXBUF_GPA, 12, false },
			    { HOLE_GPA, 60, false } };

	net_open(f, 0, 0);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	tx_chain(f, s, 2);
	assert_true(needs_reset(f));
	assert_int_equal(f->fb.nr_sent, 0);
	/* the end of RAM crossed */
	virtio_dev_reset_sync(f->d);
	tv_clear_rings(&f->vm);
	tv_bring_up(f->d, 3, 0);
	f->tq = (struct tv_queue){ .q = TXQ };
	s[1] = (struct seg){ RAM2_GPA + RAM2_SIZE - 10, 60, false };
	tx_chain(f, s, 2);
	assert_true(needs_reset(f));
	assert_int_equal(f->fb.nr_sent, 0);
}

/* A chain that loops (longer than the queue) breaks the queue. */
static void test_tx_loop(void **state)
{
	struct nfix *f = *state;
	uint16_t *avail = gpa_host(&f->vm, RING_AVAIL + TXQ * QUEUE_STRIDE);

	net_open(f, 0, 0);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	tv_desc(&f->vm, &f->tq, 0, TXBUF_GPA, 12, VIRTQ_DESC_F_NEXT, 1);
	tv_desc(&f->vm, &f->tq, 1, TXBUF_GPA, 60, VIRTQ_DESC_F_NEXT, 0);
	avail[2] = 0;
	avail[1] = htole16(1);
	virtio_queue_notify(f->d, TXQ);
	assert_true(needs_reset(f));
	assert_int_equal(f->fb.nr_sent, 0);
}

/* A full ring in one kick: every chain handled and given back in one
 * round (NET_TX_BUDGET covers a ring of this size, so no requeue). */
static void test_tx_full_ring(void **state)
{
	struct nfix *f = *state;
	struct seg s = { TXBUF_GPA, 12 + 60, false };

	net_open(f, 0, 0);
	assert_true(NET_TX_BUDGET >= TEST_QSIZE);
	tv_attach_requeue(f->d, &f->irqs);
	put_txhdr(f, TXBUF_GPA, 0, 0);
	make_frame(gpa_host(&f->vm, TXBUF_GPA + 12), 60, test_mac, 1);
	for (unsigned i = 0; i < TEST_QSIZE; i++)
		tv_chain(&f->vm, &f->tq, &s, 1);
	virtio_queue_notify(f->d, TXQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), TEST_QSIZE);
	assert_int_equal(f->fb.nr_sent, TEST_QSIZE);
	assert_int_equal(f->irqs.requeues, 0);
}

/* RX chains with device-readable buffers are given back unused; the
 * frame goes to the next good buffer. */
static void test_rx_readable_chain(void **state)
{
	struct nfix *f = *state;
	struct seg bad[2] = { { RXBUF_GPA, 64, false },
			      { RXBUF_GPA + 0x100, 1526, true } };
	uint8_t fr[100];

	net_open(f, 0, 0);
	memset(gpa_host(&f->vm, RXBUF_GPA + 0x100), 0xcc, 1526);
	tv_chain(&f->vm, &f->rq, bad, 2);
	post_rx(f, RXBUF_GPA + 0x1000, 1526);
	make_frame(fr, sizeof(fr), test_mac, 1);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 2);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 0).len, 0);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 1).len, 112);
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, RXBUF_GPA + 0x100),
			 0xcc);
	assert_memory_equal(gpa_host(&f->vm, RXBUF_GPA + 0x1000 + 12), fr,
			    sizeof(fr));
	assert_int_equal(net_stats(f).rx_bad_chain, 1);
}

/* Malformed chains cost a frame at most NET_RX_BAD_CHAINS of them: a
 * guest reposting them from another vCPU kept the loop inside one frame
 * (here the 20 come first; the frame took all 20 and the good one). */
static void test_rx_bad_chains_bounded(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[100];

	net_open(f, 0, 0);
	for (unsigned i = 0; i < 20; i++)
		post_rx(f, RXBUF_GPA + i * 0x10, 4);
	post_rx(f, RXBUF_GPA + 0x1000, 1526);
	make_frame(fr, sizeof(fr), test_mac, 1);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(net_stats(f).rx_bad_chain, NET_RX_BAD_CHAINS);
	assert_int_equal(net_stats(f).rx_frames, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), NET_RX_BAD_CHAINS);
	/* the next frame takes the other 4 and the good buffer */
	make_frame(fr, sizeof(fr), test_mac, 2);
	assert_true(backend_rx(f, fr, sizeof(fr)));
	assert_int_equal(net_stats(f).rx_bad_chain, 20);
	assert_int_equal(net_stats(f).rx_frames, 1);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 21);
	assert_memory_equal(gpa_host(&f->vm, RXBUF_GPA + 0x1000 + 12), fr,
			    sizeof(fr));
}

/* A first buffer too small for the header is not used for a frame. */
static void test_rx_tiny_first(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[100];

	net_open(f, 0, 0);
	post_rx(f, RXBUF_GPA, 4);
	post_rx(f, RXBUF_GPA + 0x1000, 1526);
	make_frame(fr, sizeof(fr), test_mac, 1);
	backend_rx(f, fr, sizeof(fr));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 2);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 0).len, 0);
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, RXBUF_GPA), 0xcc);
	assert_memory_equal(gpa_host(&f->vm, RXBUF_GPA + 0x1000 + 12), fr,
			    sizeof(fr));
}

/* An RX descriptor in ROM or outside RAM breaks the queue; the frame is
 * dropped, ROM untouched. */
static void test_rx_rom(void **state)
{
	struct nfix *f = *state;
	struct seg s = { ROM_GPA, 1526, true };
	uint8_t fr[100];

	net_open(f, 0, 0);
	memset(f->vm.rom, 0x5a, 2048);
	tv_chain(&f->vm, &f->rq, &s, 1);
	make_frame(fr, sizeof(fr), test_mac, 1);
	backend_rx(f, fr, sizeof(fr));
	assert_true(needs_reset(f));
	assert_int_equal(f->vm.rom[0], 0x5a);
	assert_int_equal(f->vm.rom[12], 0x5a);
	/* later frames are dropped without touching the broken queue */
	backend_rx(f, fr, sizeof(fr));
	assert_int_equal(net_stats(f).rx_frames, 0);
}

/* Frames from the backend that no Ethernet frame can be. */
static void test_rx_bad_sizes(void **state)
{
	struct nfix *f = *state;
	static uint8_t fr[NET_MAX_FRAME + 1];

	net_open(f, 0, 0);
	post_rx(f, RXBUF_GPA, 1526);
	backend_rx(f, fr, 10);
	backend_rx(f, fr, sizeof(fr));
	assert_int_equal(net_stats(f).rx_too_big, 2);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, net_setup, net_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tx_bad_headers),
		T(test_tx_zero_and_sizes),
		T(test_tx_writable),
		T(test_tx_outside_ram),
		T(test_tx_loop),
		T(test_tx_full_ring),
		T(test_rx_readable_chain),
		T(test_rx_tiny_first),
		T(test_rx_bad_chains_bounded),
		T(test_rx_rom),
		T(test_rx_bad_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
