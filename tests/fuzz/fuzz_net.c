/* virtio-net's three queues and the DNS forwarder of user networking,
 * against a fake guest memory (tests/unit/test_virtq_helpers.h) and a
 * fake network backend that delivers frames the input describes, without
 * KVM or a transport. Two devices: "user" (no offloads, one queue pair)
 * and "tap" (CSUM, GSO and batched RX, two pairs, the control queue at
 * 4). One input drives one device:
 *
 *   byte 0   device: bit 0 (0 user, 1 tap)
 *   byte 1   features the driver refuses: bit 0 MRG_RXBUF, 1
 *            INDIRECT_DESC, 2 EVENT_IDX, 3 CTRL_VQ (the features that
 *            need it stay: FEATURES_OK fails), 4 CSUM and GUEST_CSUM, 5
 *            the GUEST_ offloads, 6 the HOST_ offloads; bit 7: the next
 *            8 bytes are XORed into what is accepted
 *   byte 2   queue size: 1 << (b % 9), which may exceed the maximum
 *   then     operations, one opcode byte and its arguments:
 *     0 q i addr len flags next   a descriptor of queue q's table
 *     1 q head                    publish a chain in the avail ring
 *     2 q idx                     set the avail index to any value
 *     3 x off n bytes...          write into the data window (BUF_GPA)
 *     4 q                         kick queue q, run the event loop
 *     5 x i addr len flags next   an indirect table entry (TABLE_GPA)
 *     6 q flags used_event        avail flags and used_event
 *     7 x pair kind len [hdr] n bytes...   the backend delivers a frame:
 *            kind bit 0 with a virtio_net_hdr (rx_hdr), bits 1-2 the
 *            destination (the NIC, broadcast, multicast, from the
 *            input), bit 3 in three pieces; len a byte * 8, or (>= 0xf0)
 *            a u32 up to past NET_MAX_FRAME
 *     8 x status | cfg op         status write, config read or write
 *     9 x up                      the backend's link goes up or down
 *    10 x pair                    rx_flush (the end of a batch)
 *    11 x count                   the backend delivers count small frames
 *                                 (the backlog's bounds, flow control)
 *    12 x kind n bytes...         a guest frame to net_dns_intercept: raw,
 *                                 or IPv4 / IPv6 UDP to the virtual DNS
 *                                 server with fields from the input
 *    13 x flags stray len n bytes...  the resolver answers the last query
 *            it received (the forwarder's answer goes to the device)
 * Addresses are an edge of a fake region plus a small offset, or raw.
 * Afterwards the batches are flushed, every queue is kicked, the backlog
 * is checked against its bound and the device is reset, so no input
 * leaves work to the next. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "test_vdev_helpers.h"
#include "backends/net_dns.h"
#include "core/util.h"
#include "virtio/net.h"
#include "virtio/net_priv.h"

#define NR_DEVS  2
#define QSTRIDE  0x1000ULL     /* rings of queue q at RING_* + q * QSTRIDE */
#define MAX_LEN  (NET_MAX_FRAME + 64)

static const uint8_t nic_mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };

struct fbe {
	struct net_backend be;
	unsigned pairs;
};

static struct fake_vm vm;
static struct event_loop *loop;
static struct fbe fbes[NR_DEVS];
static struct virtio_net *nets[NR_DEVS];
static struct virtio_dev *devs[NR_DEVS];
static struct irq_count irqs;
static uint8_t frame[MAX_LEN];
static uint8_t sink[MAX_LEN];
static int resolver = -1;           /* the fake DNS server's socket */
static struct sockaddr_in resolver_addr;
static struct net_dns *dns;
static struct fbe *cur;              /* the device of this input */

/* What the device hands the backend must be a frame it may send: its
 * length within bounds and equal to its pieces', every byte readable. */
static int fbe_send_qp(struct net_backend *be, unsigned qp, const void *hdr,
		       const struct iovec *iov, unsigned cnt, size_t len)
{
	struct fbe *f = (struct fbe *)be;
	size_t got = 0;

	const struct virtio_net_hdr *h = hdr;

	if (len < 14 || len > NET_MAX_FRAME || qp >= f->pairs || !h)
		abort();
	/* Spec 5.1.6.2.1, checked again here: no offload the backend does
	 * not carry, a checksum field inside the frame, GSO with an MSS. */
	if (!(be->caps & NET_CAP_CSUM) && (h->flags || h->gso_type))
		abort();
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 > len)
		abort();
	if ((h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) && !h->gso_size)
		abort();
	for (unsigned i = 0; i < cnt; i++) {
		if (got + iov[i].iov_len > sizeof(sink))
			abort();
		memcpy(sink + got, iov[i].iov_base, iov[i].iov_len);
		got += iov[i].iov_len;
	}
	if (got != len)
		abort();
	return sink[0] == 0xee ? -EIO : 0;   /* a backend error, now and then */
}

static int fbe_send(struct net_backend *be, const void *hdr,
		    const struct iovec *iov, unsigned cnt, size_t len)
{
	return fbe_send_qp(be, 0, hdr, iov, cnt, len);
}

static void fbe_nop(struct net_backend *be)
{
}

static void fbe_resume_qp(struct net_backend *be, unsigned qp)
{
	if (qp >= ((struct fbe *)be)->pairs)
		abort();
}

static void fbe_set_offloads(struct net_backend *be, unsigned off)
{
	if (off & ~0x1fu)
		abort();
}

static void fbe_set_queues(struct net_backend *be, unsigned n)
{
	if (!n || n > ((struct fbe *)be)->pairs)
		abort();
}

static const struct net_backend_ops fbe_ops = {
	.send = fbe_send, .rx_resume = fbe_nop, .free = fbe_nop,
	.send_qp = fbe_send_qp, .rx_resume_qp = fbe_resume_qp,
	.set_offloads = fbe_set_offloads, .set_queues = fbe_set_queues,
};

static void new_net(unsigned i, unsigned caps, unsigned pairs)
{
	struct virtio_net_params p = { .has_mac = true, .mtu = 1500,
				       .queues = pairs };

	memcpy(p.mac, nic_mac, 6);
	fbes[i] = (struct fbe){ .be = { .ops = &fbe_ops, .kind = "fuzz",
					.caps = caps, .link_up = true },
				.pairs = pairs };
	nets[i] = virtio_net_new(&p, &fbes[i].be, &vm.mem);
	if (!nets[i])
		abort();
	devs[i] = virtio_net_vdev(nets[i]);
	tv_attach(devs[i], &irqs);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	socklen_t len = sizeof(resolver_addr);

	fz_mkdir("net");
	fake_vm_init(&vm, TEST_QSIZE);
	loop = event_loop_new();
	new_net(0, 0, 1);
	new_net(1, NET_CAP_CSUM | NET_CAP_GSO | NET_CAP_RX_BATCH, 2);
	resolver = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	resolver_addr.sin_family = AF_INET;
	resolver_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!loop || resolver < 0 ||
	    bind(resolver, (struct sockaddr *)&resolver_addr, len) ||
	    getsockname(resolver, (struct sockaddr *)&resolver_addr, &len))
		abort();
	return 0;
}

static uint64_t pick_addr(struct fz_in *in)
{
	static const uint64_t edges[] = {
		BUF_GPA, TABLE_GPA, RING_DESC, RING_AVAIL, RING_USED,
		RAM_GPA + RAM_SIZE, RAM2_GPA + RAM2_SIZE, ROM_GPA, HOLE_GPA, 0,
	};
	uint8_t sel = fz_u8(in);

	if (sel >= 0xf0)
		return fz_u64(in);
	return edges[sel % ARRAY_SIZE(edges)] + (int16_t)fz_u16(in);
}

static uint32_t pick_len(struct fz_in *in)
{
	uint8_t sel = fz_u8(in);

	return sel >= 0xf0 ? fz_u32(in) : (uint32_t)sel * 8;
}

static void run_loop(void)
{
	for (int i = 0; i < 4; i++)
		if (event_loop_poll(loop, 0) <= 0)
			break;
}

static void settle(struct virtio_dev *d)
{
	for (int i = 0; i < 1000; i++) {
		if (!virtio_dev_reset_pending(d))
			return;
		event_loop_poll(loop, 10);
	}
	fprintf(stderr, "fuzz: %s: reset did not complete in 10 s\n", d->name);
	abort();
}

static void set_status(struct virtio_dev *d, uint8_t val)
{
	settle(d);
	virtio_dev_set_status(d, val);
	settle(d);
}

static uint16_t avail_idx[VIRTIO_MAX_QUEUES];

static void op_config(struct virtio_dev *d, struct fz_in *in)
{
	uint8_t kind = fz_u8(in), off = fz_u8(in);
	unsigned size = 1u << (fz_u8(in) % 4);

	switch (kind % 4) {
	case 0:
		set_status(d, fz_u8(in));
		break;
	case 1:
		(void)virtio_dev_config_read(d, off, size);
		break;
	case 2:
		virtio_dev_config_write(d, off, size, fz_u64(in));
		break;
	default:
		virtio_dev_isr_ack(d, virtio_dev_isr_take(d));
		break;
	}
}

/* Frame bytes: n from the input, then a pattern, up to len. */
static void fill(struct fz_in *in, uint8_t *b, size_t len)
{
	unsigned n = fz_u8(in) % 64;

	for (size_t k = 0; k < len; k++)
		b[k] = k < n ? fz_u8(in) : (uint8_t)(k * 13);
}

/* Through rx (as slirp) or rx_hdr (as tap, for a pair). */
static bool deliver(struct fbe *f, unsigned pair, const void *hdr,
		    uint8_t *b, size_t len, bool split)
{
	struct net_backend_client *c = &f->be.client;
	struct iovec iov[3] = { { b, len } };
	unsigned cnt = 1;

	if (split && len >= 3) {
		iov[0].iov_len = len / 3;
		iov[1] = (struct iovec){ b + len / 3, len / 3 };
		iov[2] = (struct iovec){ b + 2 * (len / 3), len - 2 * (len / 3) };
		cnt = 3;
	}
	if (!hdr && !(pair & 1))
		return c->rx(c->opaque, iov, cnt, len);
	return c->rx_hdr(c->opaque, pair % f->pairs, hdr, iov, cnt, len);
}

static void op_frame(struct fbe *f, struct fz_in *in)
{
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	unsigned pair = fz_u8(in);
	uint8_t kind = fz_u8(in), sel = fz_u8(in);
	size_t len = sel >= 0xf0 ? fz_u32(in) % MAX_LEN : (size_t)sel * 8;
	struct virtio_net_hdr h;
	bool with_hdr = kind & 1;

	if (with_hdr) {
		uint8_t raw[12];

		for (unsigned k = 0; k < 12; k++)
			raw[k] = fz_u8(in);
		memcpy(&h, raw, sizeof(h));
	}
	fill(in, frame, len);
	if (len >= 6) {
		switch ((kind >> 1) & 3) {
		case 0:
			memcpy(frame, nic_mac, 6);
			break;
		case 1:
			memset(frame, 0xff, 6);
			break;
		case 2:
			memcpy(frame, mcast, 6);
			break;
		}
	}
	deliver(f, pair, with_hdr ? &h : NULL, frame, len, kind & 8);
}

static void op_burst(struct fbe *f, struct fz_in *in)
{
	unsigned count = fz_u16(in) % 600;
	size_t len = 60 + fz_u8(in) * 4;

	memset(frame, 0x42, len);
	memcpy(frame, nic_mac, 6);
	for (unsigned k = 0; k < count; k++)
		deliver(f, 0, NULL, frame, len, false);
}

/* Answers from the forwarder go to the device, as slirp's would. */
static void dns_deliver(void *opaque, const void *fr, size_t len)
{
	struct iovec iov = { (void *)fr, len };

	/* An answer never exceeds the MTU (it is truncated first). */
	if (len < 14 + 20 + 8 + 12 || len > 14 + 1500)
		abort();
	cur->be.client.rx(cur->be.client.opaque, &iov, 1, len);
}

static void dns_open(void)
{
	if (dns)
		return;
	dns = net_dns_new(loop, (struct sockaddr *)&resolver_addr,
			  sizeof(resolver_addr), 1500, dns_deliver, NULL);
	if (!dns)
		abort();
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A UDP query to 10.0.2.3:53 or [fec0::3]:53; the IP and UDP lengths
 * and the fragment field come from the input as often as they are
 * right. */
static void op_dns_query(struct fz_in *in)
{
	uint8_t kind = fz_u8(in) % 3;
	uint8_t bad = fz_u8(in);
	size_t dl = 12 + fz_u8(in) % 128, len, ip;
	uint8_t *f = frame;

	dns_open();
	if (kind == 0) {
		len = fz_u16(in) % 2048;
		fill(in, f, len);
		net_dns_intercept(dns, f, len);
		return;
	}
	memcpy(f, nic_mac, 6);
	memcpy(f + 6, "\x52\x54\x00\x12\x34\x56", 6);
	ip = 14;
	if (kind == 1) {
		static const uint8_t v4[20] = { 0x45, 0, 0, 0, 0, 1, 0, 0, 64,
						17, 0, 0, 10, 0, 2, 15, 10, 0,
						2, 3 };
		put16(f + 12, 0x0800);
		memcpy(f + ip, v4, 20);
		put16(f + ip + 2, (uint16_t)(20 + 8 + dl));
		if (bad & 1)
			put16(f + ip + 2, fz_u16(in));
		if (bad & 2)
			f[ip] = 0x40 | (fz_u8(in) & 15);
		if (bad & 4)
			put16(f + ip + 6, fz_u16(in));
		ip += 20;
	} else {
		static const uint8_t v6[40] = { 0x60, 0, 0, 0, 0, 0, 17, 64,
			0xfe, 0xc0, [23] = 15, 0xfe, 0xc0, [39] = 3 };
		put16(f + 12, 0x86dd);
		memcpy(f + ip, v6, 40);
		put16(f + ip + 4, (uint16_t)(8 + dl));
		if (bad & 1)
			put16(f + ip + 4, fz_u16(in));
		ip += 40;
	}
	put16(f + ip, 5353);
	put16(f + ip + 2, 53);
	put16(f + ip + 4, (uint16_t)(8 + dl));
	if (bad & 8)
		put16(f + ip + 4, fz_u16(in));
	put16(f + ip + 6, 0);
	fill(in, f + ip + 8, dl);
	if (bad & 16)
		f[0] |= 1;
	len = ip + 8 + dl;
	if (bad & 32)
		len = fz_u16(in) % (len + 1);
	net_dns_intercept(dns, f, len);
}

/* The resolver answers the last query waiting in its socket (or with an
 * ID nobody asked for); then the forwarder reads it. */
static void op_dns_answer(struct fz_in *in)
{
	uint8_t q[2048], a[4096];
	uint8_t flags = fz_u8(in), stray = fz_u8(in);
	size_t len = 12 + fz_u16(in) % 3000;
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n, got = -1;

	dns_open();
	while ((n = recvfrom(resolver, q, sizeof(q), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl)) >= 0)
		got = n;
	if (got < 2)
		return;
	fill(in, a, len);
	memcpy(a, q, 2);
	if (stray & 1)
		a[1] ^= 0x5a;
	a[2] = flags | 0x80;
	/* the question the query asked, as a real answer has it */
	if ((stray & 2) && got > 12 && (size_t)got <= len)
		memcpy(a + 12, q + 12, (size_t)got - 12);
	if (sendto(resolver, a, len, 0, (struct sockaddr *)&from, fl) < 0)
		return;
	net_dns_poll(dns);
}

static void op(struct fbe *f, struct virtio_dev *d, unsigned nq,
	       uint16_t qsize, struct fz_in *in)
{
	uint8_t code = fz_u8(in);
	unsigned q = fz_u8(in) % nq;
	uint64_t o = q * QSTRIDE;

	switch (code % 14) {
	case 0: {
		uint16_t i = fz_u16(in) % qsize;
		uint64_t addr = pick_addr(in);
		uint32_t len = pick_len(in);
		uint16_t flags = fz_u16(in), next = fz_u16(in);

		put_desc(&vm, RING_DESC + o, i, addr, len, flags, next);
		break;
	}
	case 1: {
		uint16_t *avail = gpa_host(&vm, RING_AVAIL + o);

		avail[2 + avail_idx[q] % qsize] = htole16(fz_u16(in));
		avail_idx[q]++;
		avail[1] = htole16(avail_idx[q]);
		break;
	}
	case 2:
		avail_idx[q] = fz_u16(in);
		*(uint16_t *)gpa_host(&vm, RING_AVAIL + o + 2) =
			htole16(avail_idx[q]);
		break;
	case 3: {
		uint16_t off = fz_u16(in);
		unsigned n = fz_u8(in) % 64;
		uint8_t *p = gpa_host(&vm, BUF_GPA + off);

		for (unsigned k = 0; k < n; k++)
			p[k] = fz_u8(in);
		break;
	}
	case 4:
		virtio_queue_notify(d, q);
		run_loop();
		break;
	case 5: {
		uint16_t i = fz_u8(in) % 64;
		uint64_t addr = pick_addr(in);
		uint32_t len = pick_len(in);
		uint16_t flags = fz_u16(in), next = fz_u16(in);

		put_desc(&vm, TABLE_GPA, i, addr, len, flags, next);
		break;
	}
	case 6: {
		uint16_t *avail = gpa_host(&vm, RING_AVAIL + o);

		avail[0] = htole16(fz_u16(in));
		avail[2 + qsize] = htole16(fz_u16(in));
		break;
	}
	case 7:
		op_frame(f, in);
		break;
	case 8:
		op_config(d, in);
		break;
	case 9:
		f->be.link_up = fz_u8(in) & 1;
		f->be.client.link(f->be.client.opaque, f->be.link_up);
		break;
	case 10:
		f->be.client.rx_flush(f->be.client.opaque, fz_u8(in) % f->pairs);
		break;
	case 11:
		op_burst(f, in);
		break;
	case 12:
		op_dns_query(in);
		break;
	default:
		op_dns_answer(in);
		break;
	}
}

static void bring_up(struct virtio_dev *d, uint8_t refuse, struct fz_in *in,
		     uint16_t qsize)
{
	uint64_t f = (uint64_t)virtio_dev_device_features(d, 1) << 32 |
		     virtio_dev_device_features(d, 0);
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (refuse & 1)
		f &= ~VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (refuse & 2)
		f &= ~VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC);
	if (refuse & 4)
		f &= ~VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	if (refuse & 8)
		f &= ~VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ);
	if (refuse & 16)
		f &= ~(VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
		       VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM));
	if (refuse & 32)
		f &= ~0x780ULL;        /* GUEST_TSO4/TSO6/ECN/UFO */
	if (refuse & 64)
		f &= ~0x7800ULL;       /* HOST_TSO4/TSO6/ECN/UFO */
	if (refuse & 128)
		f ^= fz_u64(in);
	set_status(d, s);
	virtio_dev_set_driver_features(d, 0, (uint32_t)f);
	virtio_dev_set_driver_features(d, 1, (uint32_t)(f >> 32));
	set_status(d, s | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < d->nr_queues; q++) {
		uint64_t o = q * QSTRIDE;

		virtio_queue_write(d, q, VIRTIO_QUEUE_SIZE, qsize);
		virtio_queue_write(d, q, VIRTIO_QUEUE_DESC, RING_DESC + o);
		virtio_queue_write(d, q, VIRTIO_QUEUE_AVAIL, RING_AVAIL + o);
		virtio_queue_write(d, q, VIRTIO_QUEUE_USED, RING_USED + o);
		virtio_queue_write(d, q, VIRTIO_QUEUE_READY, 1);
	}
	set_status(d, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	unsigned which = fz_u8(&in) % NR_DEVS;
	struct virtio_dev *d = devs[which];
	uint8_t refuse = fz_u8(&in);
	uint16_t qsize = (uint16_t)(1u << (fz_u8(&in) % 9));
	unsigned ops = 0;

	cur = &fbes[which];
	memset(gpa_host(&vm, RING_DESC), 0, 8 * QSTRIDE);
	memset(gpa_host(&vm, RING_AVAIL), 0, 8 * QSTRIDE);
	memset(gpa_host(&vm, RING_USED), 0, 8 * QSTRIDE);
	memset(gpa_host(&vm, BUF_GPA), 0, 0x10000);
	memset(gpa_host(&vm, TABLE_GPA), 0, 0x1000);
	memset(avail_idx, 0, sizeof(avail_idx));
	cur->be.link_up = true;
	bring_up(d, refuse, &in, qsize);
	while (in.left && ops++ < 512)
		op(cur, d, d->nr_queues, qsize, &in);
	for (unsigned p = 0; p < cur->pairs; p++)
		cur->be.client.rx_flush(cur->be.client.opaque, p);
	for (unsigned q = 0; q < d->nr_queues; q++)
		virtio_queue_notify(d, q);
	run_loop();
	/* The backlog is bounded whatever the guest did. */
	if (virtio_net_backlog(nets[which]) > NET_BACKLOG_FRAMES * cur->pairs)
		abort();
	virtio_dev_reset(d);
	settle(d);
	if (virtio_net_backlog(nets[which]))
		abort();
	if (dns) {
		uint8_t q[2048];

		while (recv(resolver, q, sizeof(q), MSG_DONTWAIT) >= 0)
			;
		net_dns_free(dns);
		dns = NULL;
	}
	return 0;
}
