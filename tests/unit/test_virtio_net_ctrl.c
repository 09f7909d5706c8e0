/* virtio-net control queue: RX mode (promiscuous, all-multicast), the
 * MAC filter table and MAC_ADDR_SET change which frames reach the guest;
 * malformed and unknown commands are answered VIRTIO_NET_ERR. */
#include "test_virtio_net.h"

#define ACK_GPA		(CTRL_GPA + 0x1000)

static const uint8_t other[6] = { 0x02, 0x99, 0x99, 0x99, 0x99, 0x99 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t mcast2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

/* Send class/cmd/data (data split in two descriptors when long) and an
 * ack byte; returns the ack (0xee: untouched). */
static uint8_t ctrl(struct nfix *f, uint8_t class, uint8_t cmd,
		    const void *data, uint32_t len)
{
	uint8_t *p = gpa_host(&f->vm, CTRL_GPA);
	struct seg s[4];
	unsigned n = 0;
	uint16_t want = (uint16_t)(f->cq.avail_idx + 1);

	p[0] = class;
	p[1] = cmd;
	if (len)
		memcpy(p + 16, data, len);
	*(uint8_t *)gpa_host(&f->vm, ACK_GPA) = 0xee;
	s[n++] = (struct seg){ CTRL_GPA, 2, false };
	if (len > 8) {
		s[n++] = (struct seg){ CTRL_GPA + 16, 8, false };
		s[n++] = (struct seg){ CTRL_GPA + 24, len - 8, false };
	} else if (len) {
		s[n++] = (struct seg){ CTRL_GPA + 16, len, false };
	}
	s[n++] = (struct seg){ ACK_GPA, 1, true };
	tv_chain(&f->vm, &f->cq, s, n);
	virtio_queue_notify(f->d, CTRLQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->cq), want);
	return *(uint8_t *)gpa_host(&f->vm, ACK_GPA);
}

static uint8_t set_rx(struct nfix *f, uint8_t cmd, uint8_t on)
{
	return ctrl(f, VIRTIO_NET_CTRL_RX, cmd, &on, 1);
}

/* Whether a frame to dst reaches the guest (a buffer is posted). */
static bool reaches(struct nfix *f, const uint8_t *dst)
{
	uint8_t fr[64];
	uint16_t before = tv_used_idx(&f->vm, &f->rq);

	post_rx(f, RXBUF_GPA + 0x800 * (f->rq.avail_idx % 32), 1526);
	make_frame(fr, sizeof(fr), dst, 0);
	backend_rx(f, fr, sizeof(fr));
	if (tv_used_idx(&f->vm, &f->rq) != before)
		return true;
	/* take the unused buffer back off the ring for the next try */
	f->rq.avail_idx--;
	{
		uint16_t *avail = gpa_host(&f->vm, RING_AVAIL + RXQ *
					   QUEUE_STRIDE);

		avail[1] = htole16(f->rq.avail_idx);
	}
	f->rq.next_desc = (uint16_t)((f->rq.next_desc + TEST_QSIZE - 1) %
				     TEST_QSIZE);
	return false;
}

static void test_default_promisc(void **state)
{
	struct nfix *f = *state;

	net_open(f, 0, 0);
	/* promiscuous until the driver says otherwise (as QEMU) */
	assert_true(reaches(f, other));
	assert_true(reaches(f, test_mac));
}

static void test_rx_mode(void **state)
{
	struct nfix *f = *state;

	net_open(f, 0, 0);
	assert_int_equal(set_rx(f, VIRTIO_NET_CTRL_RX_PROMISC, 0),
			 VIRTIO_NET_OK);
	assert_false(reaches(f, other));
	assert_true(reaches(f, test_mac));
	assert_true(reaches(f, bcast));
	assert_false(reaches(f, mcast));
	assert_int_equal(net_stats(f).rx_filtered, 2);
	assert_int_equal(set_rx(f, VIRTIO_NET_CTRL_RX_ALLMULTI, 1),
			 VIRTIO_NET_OK);
	assert_true(reaches(f, mcast));
	assert_false(reaches(f, other));
	assert_int_equal(set_rx(f, VIRTIO_NET_CTRL_RX_PROMISC, 1),
			 VIRTIO_NET_OK);
	assert_true(reaches(f, other));
}

static void test_mac_table(void **state)
{
	struct nfix *f = *state;
	uint8_t t[4 + 6 + 4 + 6];
	uint32_t one = htole32(1);

	net_open(f, 0, 0);
	memcpy(t, &one, 4);
	memcpy(t + 4, other, 6);
	memcpy(t + 10, &one, 4);
	memcpy(t + 14, mcast, 6);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_TABLE_SET, t, sizeof(t)),
			 VIRTIO_NET_OK);
	assert_int_equal(set_rx(f, VIRTIO_NET_CTRL_RX_PROMISC, 0),
			 VIRTIO_NET_OK);
	assert_true(reaches(f, other));      /* listed unicast */
	assert_true(reaches(f, test_mac));   /* our own, always */
	assert_true(reaches(f, mcast));      /* listed multicast */
	assert_false(reaches(f, mcast2));
}

/* More entries than the table holds: that class is accepted whole. */
static void test_mac_table_overflow(void **state)
{
	struct nfix *f = *state;
	static uint8_t t[4 + 6 * 40 + 4];
	uint32_t many = htole32(40), none = 0;

	net_open(f, 0, 0);
	memcpy(t, &none, 4);
	memcpy(t + 4, &many, 4);
	for (unsigned i = 0; i < 40; i++)
		memcpy(t + 8 + 6 * i, mcast, 6);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 8 + 6 * 40),
			 VIRTIO_NET_OK);
	set_rx(f, VIRTIO_NET_CTRL_RX_PROMISC, 0);
	assert_true(reaches(f, mcast2));
	assert_false(reaches(f, other));
}

static void test_mac_addr_set(void **state)
{
	struct nfix *f = *state;

	net_open(f, 0, 0);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_ADDR_SET, other, 6),
			 VIRTIO_NET_OK);
	assert_int_equal(virtio_dev_config_read(f->d, 1, 1), other[1]);
	set_rx(f, VIRTIO_NET_CTRL_RX_PROMISC, 0);
	assert_true(reaches(f, other));
	assert_false(reaches(f, test_mac));
	/* a multicast address is refused */
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_ADDR_SET, mcast, 6),
			 VIRTIO_NET_ERR);
	/* a reset goes back to the configured one */
	virtio_dev_reset_sync(f->d);
	tv_clear_rings(&f->vm);
	tv_bring_up(f->d, 3, 0);
	f->rq = (struct tv_queue){ .q = RXQ };
	f->cq = (struct tv_queue){ .q = CTRLQ };
	set_rx(f, VIRTIO_NET_CTRL_RX_PROMISC, 0);
	assert_true(reaches(f, test_mac));
	assert_false(reaches(f, other));
}

static void test_bad_commands(void **state)
{
	struct nfix *f = *state;
	uint8_t two[2] = { 1, 1 }, big = 2;
	uint8_t t[4 + 6 + 4];
	uint32_t lie = htole32(1000), one = htole32(1), zero = 0;
	unsigned errs;

	net_open(f, 0, 0);
	assert_int_equal(ctrl(f, 9, 0, NULL, 0), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX, 7, &big, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX,
			      VIRTIO_NET_CTRL_RX_PROMISC, two, 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX,
			      VIRTIO_NET_CTRL_RX_PROMISC, &big, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_RX,
			      VIRTIO_NET_CTRL_RX_PROMISC, NULL, 0),
			 VIRTIO_NET_ERR);
	/* a table claiming more entries than it carries */
	memcpy(t, &lie, 4);
	memset(t + 4, 0, 10);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 8),
			 VIRTIO_NET_ERR);
	/* the multicast table missing */
	memcpy(t, &one, 4);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 10),
			 VIRTIO_NET_ERR);
	/* bytes after the tables */
	memcpy(t, &zero, 4);
	memcpy(t + 4, &zero, 4);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MAC,
			      VIRTIO_NET_CTRL_MAC_TABLE_SET, t, 9),
			 VIRTIO_NET_ERR);
	errs = (unsigned)f->n->ctrl_err;
	assert_int_equal(errs, 8);
	/* the filters were not changed by any of it */
	assert_true(reaches(f, other));
	assert_false(needs_reset(f));
}

/* A command with no writable byte gets no ack and used length 0; one
 * with only the ack (no class) gets ERR. */
static void test_no_ack(void **state)
{
	struct nfix *f = *state;
	struct seg s[2] = { { CTRL_GPA, 3, false }, { ACK_GPA, 1, true } };

	net_open(f, 0, 0);
	tv_chain(&f->vm, &f->cq, s, 1);
	virtio_queue_notify(f->d, CTRLQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->cq), 1);
	assert_int_equal(tv_used_elem(&f->vm, &f->cq, 0).len, 0);
	*(uint8_t *)gpa_host(&f->vm, ACK_GPA) = 0xee;
	tv_chain(&f->vm, &f->cq, s + 1, 1);
	virtio_queue_notify(f->d, CTRLQ);
	assert_int_equal(tv_used_idx(&f->vm, &f->cq), 2);
	assert_int_equal(tv_used_elem(&f->vm, &f->cq, 1).len, 1);
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, ACK_GPA),
			 VIRTIO_NET_ERR);
}

/* Without CTRL_RX negotiated the RX commands are refused. */
static void test_ctrl_rx_not_negotiated(void **state)
{
	struct nfix *f = *state;

	net_open(f, 0, VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX));
	assert_int_equal(set_rx(f, VIRTIO_NET_CTRL_RX_PROMISC, 0),
			 VIRTIO_NET_ERR);
	assert_true(reaches(f, other));
}

/* CTRL_RX without CTRL_VQ is refused at FEATURES_OK (spec 5.1.3.1). */
static void test_feature_dependency(void **state)
{
	struct nfix *f = *state;
	struct virtio_net_params p = { .has_mac = true };
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	f->fb.be = (struct net_backend){ .ops = &fake_ops, .link_up = true };
	f->n = virtio_net_new(&p, &f->fb.be, &f->vm.mem);
	f->d = virtio_net_vdev(f->n);
	tv_attach(f->d, &f->irqs);
	virtio_dev_set_status(f->d, s);
	virtio_dev_set_driver_features(f->d, 0,
				       1u << VIRTIO_NET_F_CTRL_RX);
	virtio_dev_set_driver_features(f->d, 1, 1);
	virtio_dev_set_status(f->d, s | VIRTIO_STATUS_FEATURES_OK);
	assert_false(virtio_dev_status(f->d) & VIRTIO_STATUS_FEATURES_OK);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, net_setup, net_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_default_promisc),
		T(test_rx_mode),
		T(test_mac_table),
		T(test_mac_table_overflow),
		T(test_mac_addr_set),
		T(test_bad_commands),
		T(test_no_ack),
		T(test_ctrl_rx_not_negotiated),
		T(test_feature_dependency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
