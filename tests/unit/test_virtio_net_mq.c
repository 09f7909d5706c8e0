/* virtio-net multiqueue (queues 2): MQ and max_virtqueue_pairs offered,
 * the control queue at 2N, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (range, length,
 * feature) telling the backend, each pair's frames on its own queues
 * (RX for pair 1 into queue 2, TX from queue 3 to the backend's pair 1),
 * flow control per pair, and a reset back to one pair. */
#include "test_virtio_net.h"

#define PAIRS	2
#define MQ_CTRLQ (2 * PAIRS)
#define ACK_GPA	(CTRL_GPA + 0x1000)

/* Queue 4's rings (RING_* + 4 * QUEUE_STRIDE) overlap queue 0's: this
 * driver leaves queue 0 alone and uses pair 1, pair 0's TX and the
 * control queue. */
static void mq_open(struct nfix *f, uint64_t without)
{
	struct virtio_net_params p = { .has_mac = true, .mtu = 1500,
				       .queues = PAIRS };
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint64_t feat;

	memcpy(p.mac, test_mac, 6);
	f->fb.be = (struct net_backend){ .ops = &fake_ops, .kind = "fake",
					 .link_up = true };
	f->n = virtio_net_new(&p, &f->fb.be, &f->vm.mem);
	assert_non_null(f->n);
	f->d = virtio_net_vdev(f->n);
	tv_attach(f->d, &f->irqs);
	feat = ((uint64_t)virtio_dev_device_features(f->d, 1) << 32 |
		virtio_dev_device_features(f->d, 0)) & ~without;
	virtio_dev_set_status(f->d, s);
	virtio_dev_set_driver_features(f->d, 0, (uint32_t)feat);
	virtio_dev_set_driver_features(f->d, 1, (uint32_t)(feat >> 32));
	virtio_dev_set_status(f->d, s | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 1; q <= MQ_CTRLQ; q++) {
		uint64_t o = q * QUEUE_STRIDE;

		virtio_queue_write(f->d, q, VIRTIO_QUEUE_SIZE, TEST_QSIZE);
		virtio_queue_write(f->d, q, VIRTIO_QUEUE_DESC, RING_DESC + o);
		virtio_queue_write(f->d, q, VIRTIO_QUEUE_AVAIL,
				   RING_AVAIL + o);
		virtio_queue_write(f->d, q, VIRTIO_QUEUE_USED, RING_USED + o);
		virtio_queue_write(f->d, q, VIRTIO_QUEUE_READY, 1);
	}
	virtio_dev_set_status(f->d, s | VIRTIO_STATUS_FEATURES_OK |
			      VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_dev_running(f->d));
	f->rq = (struct tv_queue){ .q = 2 };   /* pair 1's RX */
	f->tq = (struct tv_queue){ .q = 3 };   /* pair 1's TX */
	f->cq = (struct tv_queue){ .q = MQ_CTRLQ };
}

static uint8_t ctrl(struct nfix *f, uint8_t class, uint8_t cmd,
		    const void *data, uint32_t len)
{
	uint8_t *p = gpa_host(&f->vm, CTRL_GPA);
	struct seg s[2] = { { CTRL_GPA, 2 + len, false },
			    { ACK_GPA, 1, true } };

	p[0] = class;
	p[1] = cmd;
	memcpy(p + 2, data, len);
	*(uint8_t *)gpa_host(&f->vm, ACK_GPA) = 0xee;
	tv_chain(&f->vm, &f->cq, s, 2);
	virtio_queue_notify(f->d, MQ_CTRLQ);
	return *(uint8_t *)gpa_host(&f->vm, ACK_GPA);
}

static uint8_t pairs_set(struct nfix *f, uint16_t n)
{
	uint16_t v = htole16(n);

	return ctrl(f, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
		    &v, 2);
}

static void test_mq_config(void **state)
{
	struct nfix *f = *state;

	mq_open(f, 0);
	assert_true(virtio_dev_has_feature(f->d, VIRTIO_NET_F_MQ));
	assert_int_equal(virtio_dev_config_read(f->d, 8, 2), PAIRS);
	assert_int_equal(f->d->nr_queues, 2 * PAIRS + 1);
}

static void test_mq_pairs_set(void **state)
{
	struct nfix *f = *state;
	uint8_t three[3] = { 2, 0, 0 };

	mq_open(f, 0);
	assert_int_equal(pairs_set(f, 2), VIRTIO_NET_OK);
	assert_int_equal(f->fb.queues, 2);
	assert_int_equal(pairs_set(f, 1), VIRTIO_NET_OK);
	assert_int_equal(f->fb.queues, 1);
	/* out of range, wrong length, unknown command: refused, unchanged */
	assert_int_equal(pairs_set(f, 0), VIRTIO_NET_ERR);
	assert_int_equal(pairs_set(f, PAIRS + 1), VIRTIO_NET_ERR);
	assert_int_equal(pairs_set(f, 0x8000), VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MQ,
			      VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, three, 3),
			 VIRTIO_NET_ERR);
	assert_int_equal(ctrl(f, VIRTIO_NET_CTRL_MQ, 1, three, 2),
			 VIRTIO_NET_ERR);
	assert_int_equal(f->fb.queues, 1);
	assert_int_equal(net_stats(f).ctrl_err, 5);
	/* a reset goes back to one pair */
	assert_int_equal(pairs_set(f, 2), VIRTIO_NET_OK);
	virtio_dev_set_status(f->d, 0);
	assert_int_equal(f->fb.queues, 1);
}

/* Without MQ negotiated the command is refused. */
static void test_mq_not_negotiated(void **state)
{
	struct nfix *f = *state;

	mq_open(f, VIRTIO_BIT(VIRTIO_NET_F_MQ));
	assert_int_equal(pairs_set(f, 2), VIRTIO_NET_ERR);
	assert_int_equal(f->fb.queues, 0);
}

/* Each pair's frames stay on its queues. */
static void test_mq_pair_selection(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[80];
	struct seg s = { TXBUF_GPA, 12 + 60, false };
	struct tv_queue tx0 = { .q = 1 };

	mq_open(f, 0);
	assert_int_equal(pairs_set(f, 2), VIRTIO_NET_OK);
	post_rx(f, RXBUF_GPA, 1526);
	make_frame(fr, sizeof(fr), test_mac, 4);
	assert_true(backend_rx_hdr(f, 1, NULL, fr, sizeof(fr)));
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 1);
	assert_memory_equal(gpa_host(&f->vm, RXBUF_GPA + 12), fr, sizeof(fr));
	/* pair 1 transmits through the backend's pair 1 */
	put_txhdr(f, TXBUF_GPA, 0, 0);
	make_frame(gpa_host(&f->vm, TXBUF_GPA + 12), 60, test_mac, 5);
	tv_chain(&f->vm, &f->tq, &s, 1);
	virtio_queue_notify(f->d, 3);
	assert_int_equal(f->fb.nr_sent, 1);
	assert_int_equal(f->fb.last_qp, 1);
	/* and pair 0 through pair 0 */
	tv_chain(&f->vm, &tx0, &s, 1);
	virtio_queue_notify(f->d, 1);
	assert_int_equal(f->fb.nr_sent, 2);
	assert_int_equal(f->fb.last_qp, 0);
	/* pair 0's RX queue is not ready: its frame is not delivered, and
	 * pair 1's queue got nothing more */
	backend_rx_hdr(f, 0, NULL, fr, sizeof(fr));
	assert_int_equal(net_stats(f).rx_not_ready, 1);
	assert_int_equal(tv_used_idx(&f->vm, &f->rq), 1);
}

/* Flow control per pair: pair 1's backlog pauses and resumes pair 1. */
static void test_mq_flow_per_pair(void **state)
{
	struct nfix *f = *state;
	uint8_t fr[64];
	bool more = true;
	unsigned n = 0;

	mq_open(f, 0);
	make_frame(fr, sizeof(fr), test_mac, 1);
	while (more && n < NET_BACKLOG_FRAMES)
		more = backend_rx_hdr(f, 1, NULL, fr, sizeof(fr)), n++;
	assert_false(more);
	assert_int_equal(n, NET_BACKLOG_FRAMES / 2);
	assert_int_equal(virtio_net_backlog(f->n), n);
	/* the guest drains it in rounds of 60 buffers (the ring has 64) */
	for (unsigned done = 0; done < n; done += 60) {
		/* resumed once below a quarter of the bound, not before */
		assert_int_equal(f->fb.resumed_qp[1],
				 n - done < NET_BACKLOG_FRAMES / 4);
		for (unsigned i = 0; i < 60; i++)
			post_rx(f, RXBUF_GPA + (uint64_t)i * 0x800, 1526);
		virtio_queue_notify(f->d, 2);
	}
	assert_int_equal(virtio_net_backlog(f->n), 0);
	assert_int_equal(f->fb.resumed_qp[1], 1);
	assert_int_equal(f->fb.resumed_qp[0], 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, net_setup, net_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mq_config),
		T(test_mq_pairs_set),
		T(test_mq_not_negotiated),
		T(test_mq_pair_selection),
		T(test_mq_flow_per_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
