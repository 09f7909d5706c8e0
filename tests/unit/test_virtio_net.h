/* virtio-net unit tests: the device driven through the virtio core API on
 * fake guest memory, with a fake network backend the test controls. */
#ifndef CVISOR_TESTS_VIRTIO_NET_H
#define CVISOR_TESTS_VIRTIO_NET_H

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "test_vdev_helpers.h"
#include "virtio/net.h"
#include "virtio/net_priv.h"

#define RXQ		0
#define TXQ		1
#define CTRLQ		2
#define TXBUF_GPA	(BUF_GPA)              /* frames the guest sends */
#define RXBUF_GPA	(BUF_GPA + 0x80000)    /* buffers it posts */
#define CTRL_GPA	(TABLE_GPA + 0x8000)   /* control commands */

static const uint8_t test_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

struct sent {
	uint8_t data[2048];
	size_t len;
};

struct fake_be {
	struct net_backend be;
	struct sent sent[16];
	unsigned nr_sent;
	unsigned resumed;
	int send_rc;
	/* offloads and multiqueue */
	struct virtio_net_hdr last_hdr;   /* of the last frame sent */
	unsigned last_qp;
	unsigned offloads;                /* last set_offloads */
	unsigned nr_set_offloads;
	unsigned queues;                  /* last set_queues */
	unsigned resumed_qp[NET_MAX_QUEUE_PAIRS];
	/* called after each frame sent, as the device's round runs */
	void (*on_send)(void *ctx);
	void *ctx;
	/* tx_flush: frames sent before the last one; the next one reports
	 * flush_lost of them dropped (60 bytes each); on_flush (with ctx)
	 * runs first */
	unsigned nr_flushed, flush_lost;
	void (*on_flush)(void *ctx);
};

static int fake_send(struct net_backend *be, const void *hdr,
		     const struct iovec *iov, unsigned cnt, size_t len)
{
	struct fake_be *f = (struct fake_be *)be;
	struct sent *s = &f->sent[f->nr_sent % 16];

	if (f->send_rc)
		return f->send_rc;
	s->len = 0;
	for (unsigned i = 0; i < cnt; i++) {
		size_t n = iov[i].iov_len;

		if (s->len + n > sizeof(s->data))
			n = sizeof(s->data) - s->len;
		memcpy(s->data + s->len, iov[i].iov_base, n);
		s->len += n;
	}
	assert_int_equal(s->len, MIN(len, sizeof(s->data)));
	f->nr_sent++;
	if (f->on_send)
		f->on_send(f->ctx);
	return 0;
}

static void fake_resume(struct net_backend *be)
{
	((struct fake_be *)be)->resumed++;
}

static int fake_send_qp(struct net_backend *be, unsigned qp, const void *hdr,
			const struct iovec *iov, unsigned cnt, size_t len)
{
	struct fake_be *f = (struct fake_be *)be;

	if (!f->send_rc) {
		f->last_qp = qp;
		memcpy(&f->last_hdr, hdr, sizeof(f->last_hdr));
	}
	return fake_send(be, hdr, iov, cnt, len);
}

static void fake_resume_qp(struct net_backend *be, unsigned qp)
{
	struct fake_be *f = (struct fake_be *)be;

	f->resumed++;
	if (qp < NET_MAX_QUEUE_PAIRS)
		f->resumed_qp[qp]++;
}

static void fake_set_offloads(struct net_backend *be, unsigned off)
{
	struct fake_be *f = (struct fake_be *)be;

	f->offloads = off;
	f->nr_set_offloads++;
}

static void fake_set_queues(struct net_backend *be, unsigned n)
{
	((struct fake_be *)be)->queues = n;
}

static void fake_free(struct net_backend *be)
{
}

static unsigned fake_tx_flush(struct net_backend *be, unsigned qp,
			      uint64_t *bytes)
{
	struct fake_be *f = (struct fake_be *)be;
	unsigned lost = f->flush_lost;

	if (f->on_flush)
		f->on_flush(f->ctx);
	f->nr_flushed = f->nr_sent;
	f->flush_lost = 0;
	*bytes = 60ull * lost;
	return lost;
}

static const struct net_backend_ops fake_ops = {
	.send = fake_send, .rx_resume = fake_resume, .free = fake_free,
	.send_qp = fake_send_qp, .rx_resume_qp = fake_resume_qp,
	.set_offloads = fake_set_offloads, .set_queues = fake_set_queues,
	.tx_flush = fake_tx_flush,
};

struct nfix {
	struct fake_vm vm;
	struct fake_be fb;
	struct virtio_net *n;
	struct virtio_dev *d;
	struct irq_count irqs;
	struct tv_queue rq, tq, cq;
};

static inline void net_open(struct nfix *f, unsigned caps, uint64_t without)
{
	struct virtio_net_params p = { .has_mac = true, .mtu = 1500 };

	memcpy(p.mac, test_mac, 6);
	f->fb.be = (struct net_backend){ .ops = &fake_ops, .kind = "fake",
					 .caps = caps, .link_up = true };
	f->n = virtio_net_new(&p, &f->fb.be, &f->vm.mem);
	assert_non_null(f->n);
	f->d = virtio_net_vdev(f->n);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, 3, without);
	assert_true(virtio_dev_running(f->d));
	f->rq = (struct tv_queue){ .q = RXQ };
	f->tq = (struct tv_queue){ .q = TXQ };
	f->cq = (struct tv_queue){ .q = CTRLQ };
}

static int net_setup(void **state)
{
	struct nfix *f = calloc(1, sizeof(*f));

	fake_vm_init(&f->vm, TEST_QSIZE);
	*state = f;
	return 0;
}

static int net_teardown(void **state)
{
	struct nfix *f = *state;

	virtio_net_free(f->n);
	fake_vm_free(&f->vm);
	free(f);
	return 0;
}

/* A frame to dst from the gateway, with seq in its payload. */
static inline size_t make_frame(uint8_t *b, size_t len, const uint8_t *dst,
				unsigned seq)
{
	static const uint8_t src[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08;
	b[13] = 0x00;
	for (size_t i = 14; i < len; i++)
		b[i] = (uint8_t)(seq * 7 + i);
	return len;
}

/* The same with the backend's virtio_net_hdr, for queue pair qp. */
static inline bool backend_rx_hdr(struct nfix *f, unsigned qp,
				  const struct virtio_net_hdr *h,
				  const uint8_t *b, size_t len)
{
	struct iovec iov = { (void *)b, len };

	return f->fb.be.client.rx_hdr(f->fb.be.client.opaque, qp, h, &iov, 1,
				      len);
}

/* The backend delivers a frame (as the loop thread would). */
static inline bool backend_rx(struct nfix *f, const uint8_t *b, size_t len)
{
	struct iovec iov = { (void *)b, len };

	return f->fb.be.client.rx(f->fb.be.client.opaque, &iov, 1, len);
}

static inline void post_rx(struct nfix *f, uint64_t gpa, uint32_t len)
{
	struct seg s = { gpa, len, true };

	memset(gpa_host(&f->vm, gpa), 0xcc, len);
	tv_chain(&f->vm, &f->rq, &s, 1);
}

static inline void put_txhdr(struct nfix *f, uint64_t gpa, uint8_t flags,
			     uint8_t gso)
{
	struct virtio_net_hdr h = { .flags = flags, .gso_type = gso };

	memcpy(gpa_host(&f->vm, gpa), &h, sizeof(h));
}

static inline struct virtio_net_stats net_stats(struct nfix *f)
{
	struct virtio_net_stats s;

	virtio_net_get_stats(f->n, &s);
	return s;
}

static inline bool needs_reset(struct nfix *f)
{
	return virtio_dev_status(f->d) & VIRTIO_STATUS_NEEDS_RESET;
}

#endif
