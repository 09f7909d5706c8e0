/* virtio-net offloads (a backend with NET_CAP_CSUM | NET_CAP_GSO, as tap):
 * what is offered, spec 5.1.3.1's feature dependencies, the TX header
 * checked against the negotiated features and the frame (each bad claim
 * dropped and counted, the header of a good one passed on as written),
 * the receive offloads handed to the backend on DRIVER_OK and taken back
 * on reset, and received frames: a 64 KiB TSO frame over 43 merged
 * buffers, a GSO frame for a driver that did not accept it dropped. */
#include <errno.h>

#include "test_virtio_net.h"

#define CAPS	(NET_CAP_CSUM | NET_CAP_GSO)
#define B(x)	VIRTIO_BIT(VIRTIO_NET_F_##x)

static uint64_t offered(struct nfix *f)
{
	return (uint64_t)virtio_dev_device_features(f->d, 1) << 32 |
	       virtio_dev_device_features(f->d, 0);
}

static void test_offered(void **state)
{
	struct nfix *f = *state;
	uint64_t all = B(CSUM) | B(GUEST_CSUM) | B(GUEST_TSO4) |
		       B(GUEST_TSO6) | B(GUEST_ECN) | B(GUEST_UFO) |
		       B(HOST_TSO4) | B(HOST_TSO6) | B(HOST_ECN) | B(HOST_UFO);

	net_open(f, CAPS, 0);
	assert_int_equal(offered(f) & all, all);
	assert_false(offered(f) & B(MQ));
	/* the driver accepted them all: the backend may send them all */
	assert_int_equal(f->fb.offloads, NET_OFF_CSUM | NET_OFF_TSO4 |
			 NET_OFF_TSO6 | NET_OFF_ECN | NET_OFF_UFO);
	/* reset: back to none */
	virtio_dev_set_status(f->d, 0);
	assert_int_equal(f->fb.offloads, 0);
}

static void test_offered_csum_only(void **state)
{
	struct nfix *f = *state;

	net_open(f, NET_CAP_CSUM, B(GUEST_CSUM));
	assert_true(offered(f) & B(CSUM));
	assert_false(offered(f) & (B(HOST_TSO4) | B(GUEST_TSO4) |
				   B(HOST_UFO)));
	assert_int_equal(f->fb.offloads, 0);   /* GUEST_CSUM declined */
}

static void test_feature_dependencies(void **state)
{
	uint64_t base = B(MAC) | VIRTIO_BIT(VIRTIO_F_VERSION_1);

	assert_int_equal(virtio_net_check_features(base), 0);
	assert_int_equal(virtio_net_check_features(base | B(CSUM) |
		B(HOST_TSO4) | B(HOST_ECN) | B(GUEST_CSUM) | B(GUEST_TSO6) |
		B(GUEST_ECN) | B(GUEST_UFO) | B(HOST_UFO)), 0);
	/* each offload without what it needs */
	assert_int_equal(virtio_net_check_features(base | B(GUEST_TSO4)),
			 -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(GUEST_TSO6)),
			 -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(GUEST_UFO)),
			 -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(GUEST_CSUM) |
						   B(GUEST_ECN)), -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(HOST_TSO4)),
			 -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(HOST_TSO6)),
			 -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(HOST_UFO)),
			 -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(CSUM) |
						   B(HOST_ECN)), -EINVAL);
	/* the control-queue features */
	assert_int_equal(virtio_net_check_features(base | B(MQ)), -EINVAL);
	assert_int_equal(virtio_net_check_features(base | B(MQ) |
						   B(CTRL_VQ)), 0);
	assert_int_equal(virtio_net_check_features(base | B(CTRL_RX)),
			 -EINVAL);
	(void)state;
}

/* Through the device: FEATURES_OK does not stick. */
static void test_features_ok_refused(void **state)
{
	struct nfix *f = *state;
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint64_t feat = B(GUEST_TSO4) | VIRTIO_BIT(VIRTIO_F_VERSION_1);

	net_open(f, CAPS, 0);
	virtio_dev_set_status(f->d, 0);
	virtio_dev_set_status(f->d, s);
	virtio_dev_set_driver_features(f->d, 0, (uint32_t)feat);
	virtio_dev_set_driver_features(f->d, 1, (uint32_t)(feat >> 32));
	virtio_dev_set_status(f->d, s | VIRTIO_STATUS_FEATURES_OK);
	assert_false(virtio_dev_status(f->d) & VIRTIO_STATUS_FEATURES_OK);
}

/* One TX chain: header h and a len-byte frame; whether it was sent. */
static bool tx_hdr(struct nfix *f, const struct virtio_net_hdr *h,
		   size_t len)
{
	uint64_t gpa = TXBUF_GPA + 0x10000 * (f->tq.avail_idx % 4);
	struct seg s[2] = { { gpa, 12, false }, { gpa + 0x100, (uint32_t)len,
						  false } };
	unsigned before = f->fb.nr_sent;

	memcpy(gpa_host(&f->vm, gpa), h, sizeof(*h));
	make_frame(gpa_host(&f->vm, gpa + 0x100), len, test_mac, 3);
	tv_chain(&f->vm, &f->tq, s, 2);
	virtio_queue_notify(f->d, TXQ);
	assert_false(needs_reset(f));
	return f->fb.nr_sent == before + 1;
}

static struct virtio_net_hdr tso(uint8_t type, uint16_t mss)
{
	return (struct virtio_net_hdr){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = type,
		.hdr_len = htole16(54), .gso_size = htole16(mss),
		.csum_start = htole16(34), .csum_offset = htole16(16) };
}

static void test_tx_gso_good(void **state)
{
	struct nfix *f = *state;
	struct virtio_net_hdr h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	struct virtio_net_hdr c = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .csum_start = htole16(34),
				    .csum_offset = htole16(6) };

	net_open(f, CAPS, 0);
	assert_true(tx_hdr(f, &h, 30000));
	/* the header goes to the backend as the guest wrote it */
	assert_memory_equal(&f->fb.last_hdr, &h, 10);
	assert_int_equal(f->fb.last_qp, 0);
	h = tso(VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 1428);
	assert_true(tx_hdr(f, &h, 60000));
	h = tso(VIRTIO_NET_HDR_GSO_UDP, 1472);
	assert_true(tx_hdr(f, &h, 8000));
	/* a checksum alone; its field is the frame's last two bytes */
	assert_true(tx_hdr(f, &c, 42));
	assert_int_equal(net_stats(f).tx_bad_hdr, 0);
	assert_int_equal(net_stats(f).tx_frames, 4);
}

static void test_tx_gso_bad(void **state)
{
	struct nfix *f = *state;
	struct virtio_net_hdr h;
	unsigned bad = 0;

	/* HOST_TSO6 and HOST_ECN not negotiated */
	net_open(f, CAPS, B(HOST_TSO6) | B(HOST_ECN));
	h = tso(VIRTIO_NET_HDR_GSO_TCPV6, 1448);             /* no TSO6 */
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448);
	assert_false(tx_hdr(f, &h, 3000)), bad++;            /* no ECN */
	h = tso(2, 1448);                                    /* no such type */
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	h = tso(VIRTIO_NET_HDR_GSO_NONE | VIRTIO_NET_HDR_GSO_ECN, 0);
	assert_false(tx_hdr(f, &h, 3000)), bad++;            /* ECN alone */
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 0);                /* no MSS */
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	h.flags = 0;                                         /* GSO, no csum */
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	h.hdr_len = htole16(3001);                           /* past the end */
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	h.csum_start = htole16(2990);                        /* 2990+16+2 */
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	h.csum_start = htole16(0xffff);                      /* no overflow */
	h.csum_offset = htole16(0xffff);
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	h.flags |= VIRTIO_NET_HDR_F_DATA_VALID;              /* RX only */
	assert_false(tx_hdr(f, &h, 3000)), bad++;
	assert_int_equal(net_stats(f).tx_bad_hdr, bad);
	assert_int_equal(f->fb.nr_sent, 0);
	/* what was negotiated still goes */
	h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	assert_true(tx_hdr(f, &h, 3000));
}

/* Without CSUM nothing but a plain header passes. */
static void test_tx_no_offloads(void **state)
{
	struct nfix *f = *state;
	struct virtio_net_hdr h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	struct virtio_net_hdr none = { 0 };

	net_open(f, CAPS, B(CSUM) | B(HOST_TSO4) | B(HOST_TSO6) |
		 B(HOST_ECN) | B(HOST_UFO));
	assert_false(tx_hdr(f, &h, 3000));
	h.gso_type = 0;
	h.gso_size = 0;
	assert_false(tx_hdr(f, &h, 3000));      /* NEEDS_CSUM */
	assert_true(tx_hdr(f, &none, 3000));
}

#define NBUF	48
#define BUFSZ	1536

static void post_many(struct nfix *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		post_rx(f, RXBUF_GPA + (uint64_t)i * 0x800, BUFSZ);
}

/* A 64 KiB TSO frame from the backend: 43 merged buffers, the header as
 * the backend gave it but num_buffers, every byte in place. */
static void test_rx_gso_64k(void **state)
{
	struct nfix *f = *state;
	size_t len = 14 + 65000, need = 12 + len, off = 0;
	uint8_t *fr = malloc(len);
	struct virtio_net_hdr h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448), got;
	unsigned nb = (unsigned)((need + BUFSZ - 1) / BUFSZ);

	assert_int_equal(nb, 43);
	net_open(f, CAPS, 0);
	post_many(f, NBUF);
	make_frame(fr, len, test_mac, 9);
	assert_true(backend_rx_hdr(f, 0, &h, fr, len));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), nb);
	memcpy(&got, gpa_host(&f->vm, RXBUF_GPA), sizeof(got));
	assert_int_equal(le16toh(got.num_buffers), nb);
	got.num_buffers = 0;
	assert_memory_equal(&got, &h, sizeof(h));
	for (unsigned i = 0; i < nb; i++) {
		struct virtq_used_elem e = tv_used_elem(&f->vm, &f->rq, i);
		const uint8_t *b = gpa_host(&f->vm, RXBUF_GPA + (uint64_t)i *
					    0x800);
		size_t skip = i ? 0 : 12;

		assert_int_equal(e.id, i);
		assert_int_equal(e.len, MIN(BUFSZ, need - off));
		assert_memory_equal(b + skip, fr + off + skip - 12,
				    e.len - skip);
		off += e.len;
	}
	assert_int_equal(off, need);
	assert_int_equal(net_stats(f).rx_frames, 1);
	free(fr);
}

/* Offloads the driver did not accept: dropped, counted, never written;
 * what it accepted still arrives. */
static void test_rx_hdr_refused(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[3000];
	struct virtio_net_hdr h = tso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	struct virtio_net_hdr csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(34),
				       .csum_offset = htole16(16) };
	struct virtio_net_hdr valid = {
		.flags = VIRTIO_NET_HDR_F_DATA_VALID };

	net_open(f, CAPS, B(GUEST_TSO4) | B(GUEST_ECN) | B(GUEST_UFO));
	post_many(f, 8);
	make_frame(fr, sizeof(fr), test_mac, 1);
	assert_true(backend_rx_hdr(f, 0, &h, fr, sizeof(fr)));
	h = tso(VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 1448);
	assert_true(backend_rx_hdr(f, 0, &h, fr, sizeof(fr)));
	h = tso(VIRTIO_NET_HDR_GSO_UDP, 1448);
	assert_true(backend_rx_hdr(f, 0, &h, fr, sizeof(fr)));
	csum.csum_start = htole16(2990);        /* field past the end */
	assert_true(backend_rx_hdr(f, 0, &csum, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 0);
	assert_int_equal(net_stats(f).rx_bad_hdr, 4);
	/* GUEST_CSUM and GUEST_TSO6 were accepted */
	csum.csum_start = htole16(34);
	assert_true(backend_rx_hdr(f, 0, &csum, fr, sizeof(fr)));
	assert_true(backend_rx_hdr(f, 0, &valid, fr, sizeof(fr)));
	h = tso(VIRTIO_NET_HDR_GSO_TCPV6, 1448);
	assert_true(backend_rx_hdr(f, 0, &h, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 2 * 3);
	assert_int_equal(net_stats(f).rx_frames, 3);
}

/* No GUEST_CSUM: a frame whose checksum a NIC checked (DATA_VALID, as a
 * bridged tap gives it) arrives with flags zero (5.1.6.4.1: the device
 * sets them so); one that needs its checksum filled is refused. It was
 * dropped before. */
static void test_rx_hdr_no_csum(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[100];
	struct virtio_net_hdr valid = {
		.flags = VIRTIO_NET_HDR_F_DATA_VALID };
	struct virtio_net_hdr csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(34),
				       .csum_offset = htole16(6) };
	const struct virtio_net_hdr *got = gpa_host(&f->vm, RXBUF_GPA);

	net_open(f, CAPS, B(GUEST_CSUM) | B(GUEST_TSO4) | B(GUEST_TSO6) |
		 B(GUEST_ECN) | B(GUEST_UFO));
	post_many(f, 2);
	make_frame(fr, sizeof(fr), test_mac, 1);
	assert_true(backend_rx_hdr(f, 0, &valid, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 1);
	assert_int_equal(tv_used_elem(&f->vm, &f->rq, 0).len, 12 + 100);
	assert_int_equal(got->flags, 0);
	assert_memory_equal(got + 1, fr, sizeof(fr));
	backend_rx_hdr(f, 0, &csum, fr, sizeof(fr));
	assert_int_equal(net_stats(f).rx_bad_hdr, 1);
	backend_rx_hdr(f, 0, NULL, fr, sizeof(fr));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 2);
	assert_int_equal(net_stats(f).rx_bad_hdr, 1);
}

/* A batching backend (tap): a burst's frames are written at once but
 * published, with one interrupt, when it says the burst is over. */
static void test_rx_batch(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[100];
	unsigned irqs;

	net_open(f, CAPS | NET_CAP_RX_BATCH, 0);
	post_many(f, 4);
	make_frame(fr, sizeof(fr), test_mac, 1);
	irqs = f->irqs.used;
	assert_true(backend_rx_hdr(f, 0, NULL, fr, sizeof(fr)));
	assert_true(backend_rx_hdr(f, 0, NULL, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 0);
	assert_int_equal(f->irqs.used, irqs);
	f->fb.be.client.rx_flush(f->fb.be.client.opaque, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 2);
	assert_int_equal(f->irqs.used, irqs + 1);
	/* nothing more to publish: no interrupt */
	f->fb.be.client.rx_flush(f->fb.be.client.opaque, 0);
	assert_int_equal(f->irqs.used, irqs + 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, net_setup, net_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_offered),
		T(test_offered_csum_only),
		T(test_feature_dependencies),
		T(test_features_ok_refused),
		T(test_tx_gso_good),
		T(test_tx_gso_bad),
		T(test_tx_no_offloads),
		T(test_rx_gso_64k),
		T(test_rx_hdr_refused),
		T(test_rx_hdr_no_csum),
		T(test_rx_batch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
