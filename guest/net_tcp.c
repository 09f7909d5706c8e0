/* net-tcp: a minimal TCP client on the tiny IP stack, one connection.
 *   net-tcp port=P [dst=A] [bytes=N] [dir=tx|rx] [sport=S] [mss=M]
 *           [rwnd=W] [rto_ms=R] [timeout_ms=T]
 * Active open to dst:port (default the gateway: 10.0.2.2 under slirp is
 * the host's loopback), then
 *   dir=tx (default)  sends bytes= (default 16 MiB) of the stream pattern
 *                     below, then FIN, and waits for the peer's FIN;
 *   dir=rx            receives until the peer's FIN, checking every byte
 *                     against the pattern, then closes its side.
 * It prints the stream's CRC-32 (zlib's) and length, which the test
 * compares with what its host-side server computed.
 *
 * What a correct sender needs and nothing more: a sliding window bounded
 * by the receiver's advertised window (no window scaling: we offer none,
 * so the peer uses none), go-back-N retransmission from the oldest
 * unacknowledged byte on a timeout (doubling, reset by progress) or on
 * three duplicate ACKs, a one-segment probe when the window is closed.
 * The receiver takes in-order data only (anything else is answered with
 * an ACK of what it has: the peer retransmits) and offers a fixed
 * window, since it consumes each segment as it arrives. No congestion
 * control: the link is a virtual one. The pattern is regenerated for a
 * retransmission, so nothing is buffered.
 */
#include "net.h"

#define IP_PROTO_TCP 6
#define TCP_HLEN     20
#define TCP_MSS_MAX  1460   /* 1500 - IPv4 - TCP headers */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* The stream: little-endian 64-bit words PAT_BASE + k * PAT_MUL for
 * k = 0, 1, ... Every 8-byte position differs (no period below 2^32
 * words), so a lost, duplicated or misplaced segment changes the
 * stream; the host side builds the same words in bulk. */
#define PAT_BASE 0x5a5a5a5a5a5a5a5aull
#define PAT_MUL  0x9e3779b1ull
#define TCP_MAX_BYTES (1ull << 31)

static void pat_fill(u8 *b, u64 off, u32 len)
{
	u64 w = PAT_BASE + (off >> 3) * PAT_MUL;
	for (u32 i = 0; i < len; i++, off++) {
		if (!(off & 7) && i)
			w += PAT_MUL;
		b[i] = (u8)(w >> ((off & 7) * 8));
	}
}

/* CRC-32 as zlib's crc32() (reflected 0xedb88320, inverted in and out). */
static u32 crc_table[256];

static void crc_init(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static u32 crc32_update(u32 crc, const u8 *p, u32 len)
{
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 255] ^ (crc >> 8);
	return ~crc;
}

/* Sequence-space comparisons, modulo 2^32. */
static bool seq_lt(u32 a, u32 b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_le(u32 a, u32 b)
{
	return (int32_t)(a - b) <= 0;
}

struct tcb {
	struct netif *nif;
	u32 dst;
	u16 sport, dport;
	u32 iss, snd_una, snd_nxt, snd_max, snd_wnd;
	u32 irs, rcv_nxt, rcv_wnd, acked_rcv;   /* acked_rcv: last rcv_nxt ACKed */
	u32 mss;
	bool peer_fin, fin_sent;
	bool ack_now;       /* a gap or old data: ACK at once */
	u64 rto_base, rto, timer;   /* TSC ticks; timer 0 = off */
	u64 deadline;
	/* the stream */
	u64 len;            /* bytes to send (tx) */
	u64 got;            /* bytes received in order (rx) */
	u32 crc;
	u64 bad, first_bad;
	/* counters */
	u64 segs_out, segs_in, rexmit, timeouts, dupacks, fast_rexmit, ooo,
	    bad_segs, probes;
	u32 dup_run;
	u64 mismatch;       /* rx: bytes not matching the pattern */
	u64 loss, loss_ctr, lost;   /* loss=N: drop every Nth new data segment */
	u32 rcv_high;       /* rx: highest sequence number seen */
	u64 rx_expect;      /* rx: bytes= (for the simulated loss) */
	bool rx;            /* dir=rx */
	bool reset;
};

static struct tcb tcb;
static struct net the_net;
static struct netif the_nif;
static u8 seg[TCP_HLEN + 4 + TCP_MSS_MAX];

static u32 pseudo_sum(u32 src, u32 dst, u32 len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       IP_PROTO_TCP + len;
}

/* Stream offset of sequence number s (data starts at iss + 1). */
static u64 seq_off(const struct tcb *t, u32 s)
{
	return (u32)(s - t->iss - 1);
}

/* Sends one segment: seq, flags, and for data the pattern at seq. */
static int tcp_output(struct tcb *t, u32 seq, u8 flags, u32 dlen)
{
	u32 hlen = TCP_HLEN + (flags & TH_SYN ? 4 : 0);
	put16(seg, t->sport);
	put16(seg + 2, t->dport);
	put32(seg + 4, seq);
	put32(seg + 8, flags & TH_ACK ? t->rcv_nxt : 0);
	seg[12] = (u8)(hlen / 4 << 4);
	seg[13] = flags;
	put16(seg + 14, (u16)t->rcv_wnd);
	put16(seg + 16, 0);
	put16(seg + 18, 0);
	if (flags & TH_SYN) {   /* MSS option */
		seg[20] = 2;
		seg[21] = 4;
		put16(seg + 22, (u16)t->mss);
	}
	if (dlen)
		pat_fill(seg + hlen, seq_off(t, seq), dlen);
	u32 tot = hlen + dlen;
	put16(seg + 16, ip_csum(seg, tot, pseudo_sum(t->nif->ip, t->dst, tot)));
	/* Simulated loss (tx): the segment counts as sent, but is not. Only
	 * first transmissions, as on the rx side: a counter that dropped
	 * retransmissions too could lock onto the hole (a go-back-N round
	 * of a multiple of N segments drops the same first one every time)
	 * and stall the stream for good; it did, once, on a loaded host. */
	if (dlen && t->loss && !t->rx && !seq_lt(seq, t->snd_max) &&
	    ++t->loss_ctr % t->loss == 0) {
		t->lost++;
		return 0;
	}
	if (flags & TH_ACK) {
		t->acked_rcv = t->rcv_nxt;
		t->ack_now = false;
	}
	t->segs_out++;
	return ip_send(t->nif, t->dst, IP_PROTO_TCP, seg, tot, t->deadline);
}

static void timer_restart(struct tcb *t)
{
	t->timer = rdtsc() + t->rto;
}

/* A received TCP segment, checked. */
struct tcp_seg {
	u32 seq, ack;
	u16 wnd;
	u8 flags;
	const u8 *data;
	u32 len;
	u32 mss;            /* SYN's MSS option, 0 if none */
};

static bool parse_opts(const u8 *o, u32 len, u32 *mss)
{
	while (len) {
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			o++;
			len--;
			continue;
		}
		if (len < 2 || o[1] < 2 || o[1] > len)
			return false;
		if (o[0] == 2 && o[1] == 4)
			*mss = get16(o + 2);
		len -= o[1];
		o += o[1];
	}
	return true;
}

/* Polls for one frame: true with s filled when a valid segment of our
 * connection arrived. */
static bool tcp_input(struct tcb *t, struct tcp_seg *s)
{
	struct ip_pkt p;
	if (!ip_recv(t->nif, IP_PROTO_TCP, 0, &p, 0))
		return false;
	const u8 *h = p.data;
	if (p.len < TCP_HLEN || p.src != t->dst) {
		t->bad_segs++;
		return false;
	}
	u32 doff = (h[12] >> 4) * 4u;
	if (doff < TCP_HLEN || doff > p.len ||
	    ip_csum(h, p.len, pseudo_sum(p.src, p.dst, p.len)) ||
	    get16(h) != t->dport || get16(h + 2) != t->sport) {
		t->bad_segs++;
		return false;
	}
	s->seq = get32(h + 4);
	s->ack = get32(h + 8);
	s->flags = h[13];
	s->wnd = get16(h + 14);
	s->mss = 0;
	if (!parse_opts(h + TCP_HLEN, doff - TCP_HLEN, &s->mss)) {
		t->bad_segs++;
		return false;
	}
	s->data = h + doff;
	s->len = p.len - doff;
	t->segs_in++;
	if (s->flags & TH_RST) {
		/* In window (or the answer to our SYN): the peer aborted. */
		t->reset = true;
		return false;
	}
	return true;
}

/* The ACK field of an established-state segment. */
static void ack_input(struct tcb *t, const struct tcp_seg *s)
{
	if (!(s->flags & TH_ACK))
		return;
	if (seq_lt(t->snd_una, s->ack) && seq_le(s->ack, t->snd_max)) {
		t->snd_una = s->ack;
		if (seq_lt(t->snd_nxt, t->snd_una))
			t->snd_nxt = t->snd_una;
		t->snd_wnd = s->wnd;
		t->dup_run = 0;
		t->rto = t->rto_base;
		if (t->snd_una == t->snd_max)
			t->timer = 0;
		else
			timer_restart(t);
	} else if (s->ack == t->snd_una) {
		bool dup = !s->len && !(s->flags & (TH_SYN | TH_FIN)) &&
			   s->wnd == t->snd_wnd && t->snd_una != t->snd_max;
		t->snd_wnd = s->wnd;   /* a window update */
		if (dup) {
			t->dupacks++;
			if (++t->dup_run == 3) {
				/* The segment at snd_una is lost: go back. */
				t->fast_rexmit++;
				t->snd_nxt = t->snd_una;
			}
		}
	}
	/* Older ACKs (reordered) and ACKs of what was never sent: ignored. */
}

/* rx: the next in-order bytes of the stream. */
static void consume(struct tcb *t, const u8 *d, u32 len, bool check)
{
	if (check) {
		static u8 want[TCP_MSS_MAX];
		for (u32 done = 0; done < len;) {
			u32 n = len - done < TCP_MSS_MAX ? len - done : TCP_MSS_MAX;
			pat_fill(want, t->got + done, n);
			for (u32 i = 0; i < n; i++) {
				if (d[done + i] != want[i]) {
					if (!t->mismatch)
						t->first_bad = t->got + done + i;
					t->mismatch++;
				}
			}
			done += n;
		}
	}
	t->crc = crc32_update(t->crc, d, len);
	t->got += len;
	t->rcv_nxt += len;
}

/* Out-of-order segments wait here until the gap before them fills: one
 * retransmission then completes the window (no SACK: the sender only
 * learns of the gap from duplicate ACKs). Enough slots for our window. */
#define OOO_SLOTS 48
struct ooo_seg {
	u32 seq, len;
	bool used, fin;
	u8 data[TCP_MSS_MAX];
};
static struct ooo_seg *ooo_q;

static void ooo_store(struct tcb *t, u32 seq, const u8 *d, u32 len, bool fin)
{
	struct ooo_seg *free_slot = NULL;
	if (!ooo_q || len > TCP_MSS_MAX ||
	    seq_le(t->rcv_nxt + t->rcv_wnd, seq))
		return;   /* beyond the window we offered: dropped */
	for (u32 i = 0; i < OOO_SLOTS; i++) {
		if (!ooo_q[i].used)
			free_slot = free_slot ? free_slot : &ooo_q[i];
		else if (ooo_q[i].seq == seq && ooo_q[i].len >= len)
			return;   /* have it */
	}
	if (!free_slot)
		return;
	free_slot->used = true;
	free_slot->seq = seq;
	free_slot->len = len;
	free_slot->fin = fin;
	memcpy(free_slot->data, d, len);
}

/* Consumes stored segments that the in-order data has reached. */
static void ooo_drain(struct tcb *t, bool check)
{
	for (bool again = true; again;) {
		again = false;
		for (u32 i = 0; ooo_q && i < OOO_SLOTS; i++) {
			struct ooo_seg *o = &ooo_q[i];
			if (!o->used || seq_lt(t->rcv_nxt, o->seq))
				continue;
			o->used = false;
			if (seq_lt(t->rcv_nxt, o->seq + o->len)) {
				u32 skip = t->rcv_nxt - o->seq;
				consume(t, o->data + skip, o->len - skip, check);
				again = true;
			}
			if (o->fin && o->seq + o->len == t->rcv_nxt &&
			    !t->peer_fin) {
				t->peer_fin = true;
				t->rcv_nxt++;
			}
		}
	}
}

/* Simulated loss (loss=N, rx): every Nth first transmission of a data
 * segment is ignored, as if the frame never came. A retransmission is
 * never dropped, nor anything in the last 64 KiB of bytes=: a lost tail
 * is only recovered by the sender's timeout (no duplicate ACKs follow
 * it), which this case is not about. */
static bool rx_lose(struct tcb *t, u32 seq, u32 len)
{
	if (!t->rx || !t->loss || !len || seq_le(seq + len, t->rcv_high))
		return false;
	t->rcv_high = seq + len;
	if ((u64)(u32)(seq + len - t->irs - 1) + 65536 > t->rx_expect ||
	    ++t->loss_ctr % t->loss)
		return false;
	t->lost++;
	return true;
}

/* The data and FIN of a segment. */
static void data_input(struct tcb *t, const struct tcp_seg *s, bool check)
{
	u32 seq = s->seq, len = s->len;
	const u8 *d = s->data;
	bool fin = s->flags & TH_FIN;
	if (rx_lose(t, seq, len))
		return;
	if (seq_lt(seq, t->rcv_nxt) && seq_lt(t->rcv_nxt, seq + len)) {
		u32 skip = t->rcv_nxt - seq;   /* partly old: keep the new */
		d += skip;
		len -= skip;
		seq = t->rcv_nxt;
	}
	if (len && seq == t->rcv_nxt) {
		consume(t, d, len, check);
	} else if (len || (fin && seq != t->rcv_nxt)) {
		/* A gap before it, or all old: a duplicate ACK at once, so
		 * that the sender retransmits after three. */
		t->ooo++;
		if (seq_lt(t->rcv_nxt, seq))
			ooo_store(t, seq, d, len, fin);
		tcp_output(t, t->snd_nxt, TH_ACK, 0);
		return;
	}
	if (fin && seq + len == t->rcv_nxt && !t->peer_fin) {
		t->peer_fin = true;
		t->rcv_nxt++;
	}
	ooo_drain(t, check);
}

/* Takes every segment waiting (up to a ring's worth); true if any. */
static bool drain(struct tcb *t, bool check)
{
	struct tcp_seg s;
	bool any = false;
	for (int i = 0; i < VIRTQ_MAX_SIZE; i++) {
		if (!tcp_input(t, &s)) {
			if (t->reset)
				return any;
			/* Not ours or nothing: stop when the ring is empty. */
			if (t->nif->n->rx.used->idx == t->nif->n->rx.last_used)
				break;
			continue;
		}
		any = true;
		ack_input(t, &s);
		data_input(t, &s, check);
	}
	return any;
}

static bool timed_out(struct tcb *t)
{
	return rdtsc() >= t->deadline;
}

/* SYN, SYN-ACK, ACK; retransmits the SYN on the timer. 0 or -1. */
static int tcp_connect(struct tcb *t)
{
	struct tcp_seg s;
	t->iss = (u32)(rdtsc() >> 4);
	t->snd_una = t->iss;
	t->snd_nxt = t->snd_max = t->iss + 1;
	for (;;) {
		if (tcp_output(t, t->iss, TH_SYN, 0) < 0)
			return -1;
		timer_restart(t);
		while (rdtsc() < t->timer) {
			if (timed_out(t))
				return -1;
			if (!tcp_input(t, &s)) {
				if (t->reset)
					return -1;
				cpu_relax();
				continue;
			}
			if ((s.flags & (TH_SYN | TH_ACK)) != (TH_SYN | TH_ACK) ||
			    s.ack != t->iss + 1)
				continue;
			t->rcv_nxt = s.seq + 1;
			t->rcv_high = t->rcv_nxt;
			t->irs = s.seq;
			t->snd_una = s.ack;
			t->snd_wnd = s.wnd;
			if (s.mss && s.mss < t->mss)
				t->mss = s.mss;
			t->rto = t->rto_base;
			t->timer = 0;
			return tcp_output(t, t->snd_nxt, TH_ACK, 0);
		}
		t->timeouts++;
		t->rto = t->rto * 2 > ms_to_tsc(2000) ? ms_to_tsc(2000) : t->rto * 2;
	}
}

/* On the timer: go back to the oldest unacknowledged byte. */
static void on_timeout(struct tcb *t)
{
	t->timeouts++;
	t->snd_nxt = t->snd_una;
	t->rto = t->rto * 2 > ms_to_tsc(2000) ? ms_to_tsc(2000) : t->rto * 2;
	t->dup_run = 0;
	timer_restart(t);
}

/* Sends what the window allows; a closed window gets one probe
 * segment per timeout. Returns -1 on a send failure. */
static int tx_push(struct tcb *t, u32 end_seq, bool probe)
{
	struct net *n = t->nif->n;
	n->batch = true;
	while (seq_lt(t->snd_nxt, end_seq)) {
		u32 inflight = t->snd_nxt - t->snd_una;
		u32 room = t->snd_wnd > inflight ? t->snd_wnd - inflight : 0;
		u32 left = end_seq - t->snd_nxt;
		u32 len = left < t->mss ? left : t->mss;
		if (room < len) {
			/* A window smaller than a segment: send into it only
			 * when nothing is in flight (no ACK would come to
			 * open it further), or as the timeout's probe, one
			 * byte if it is closed. */
			if (!probe && !(room && !inflight))
				break;
			len = room ? room : 1;
			if (!room)
				t->probes++;
		}
		probe = false;
		if (seq_lt(t->snd_nxt, t->snd_max))
			t->rexmit++;
		if (tcp_output(t, t->snd_nxt, TH_ACK | TH_PSH, len) < 0) {
			n->batch = false;
			return -1;
		}
		t->snd_nxt += len;
		if (seq_lt(t->snd_max, t->snd_nxt))
			t->snd_max = t->snd_nxt;
		if (!t->timer)
			timer_restart(t);
		/* Kick a quarter of the ring at a time: the device works
		 * while we build the next ones. */
		if (n->tx.unkicked >= n->tx.size / 4)
			net_flush(n);
	}
	n->batch = false;
	if (n->tx.unkicked)
		net_flush(n);
	return 0;
}

/* FIN (ours) until ACKed and theirs received; rx: after theirs. */
static int tcp_close(struct tcb *t, bool check)
{
	u32 fin_seq = t->snd_una;   /* every data byte is acknowledged */
	t->snd_nxt = fin_seq;
	while (!timed_out(t) && !t->reset) {
		if (t->snd_nxt == fin_seq) {
			if (tcp_output(t, fin_seq, TH_FIN | TH_ACK, 0) < 0)
				return -1;
			t->snd_nxt = t->snd_max = fin_seq + 1;
			t->fin_sent = true;
			timer_restart(t);
		}
		bool any = drain(t, check);
		if (t->acked_rcv != t->rcv_nxt || t->ack_now)
			tcp_output(t, t->snd_nxt, TH_ACK, 0);
		if (t->snd_una == fin_seq + 1 && t->peer_fin)
			return 0;
		if (t->timer && rdtsc() >= t->timer && t->snd_una != t->snd_max) {
			on_timeout(t);   /* snd_nxt back to fin_seq: resend */
		}
		if (!any)
			cpu_relax();
	}
	return -1;
}

static int tcp_send_stream(struct tcb *t)
{
	u32 end_seq = t->iss + 1 + (u32)t->len;
	bool probe = false;
	while (t->snd_una != end_seq) {
		if (timed_out(t) || t->reset)
			return -1;
		if (tx_push(t, end_seq, probe) < 0)
			return -1;
		probe = false;
		bool any = drain(t, false);
		if (t->acked_rcv != t->rcv_nxt || t->ack_now)   /* data for us */
			tcp_output(t, t->snd_nxt, TH_ACK, 0);
		if (t->timer && rdtsc() >= t->timer) {
			on_timeout(t);
			probe = true;
		}
		if (!any)
			cpu_relax();
	}
	return tcp_close(t, false);
}

static int tcp_recv_stream(struct tcb *t)
{
	u32 since_ack = 0;
	while (!t->peer_fin) {
		if (timed_out(t) || t->reset)
			return -1;
		u32 before = t->rcv_nxt;
		bool any = drain(t, true);
		since_ack += t->rcv_nxt - before;
		/* ACK once the queue is drained, or every 8 segments while
		 * it keeps coming; a gap is answered at once. */
		if (t->ack_now || (t->acked_rcv != t->rcv_nxt &&
		    (!any || since_ack >= 8 * t->mss || t->peer_fin))) {
			tcp_output(t, t->snd_nxt, TH_ACK, 0);
			since_ack = 0;
		}
		if (!any)
			cpu_relax();
	}
	return tcp_close(t, true);
}

static int setup(struct tcb *t, u64 deadline)
{
	struct netif *nif = &the_nif;
	if (net_open(&the_net) < 0)
		return -1;
	netif_init(nif, &the_net);
	if (param_u64("dhcp", 0)) {
		if (dhcp_run(nif, deadline) < 0)
			return -1;
	} else {
		nif->ip = net_param_ip("net-tcp", "ip", IP4(10, 0, 2, 15));
		nif->gw = net_param_ip("net-tcp", "gw", IP4(10, 0, 2, 2));
		nif->mask = net_param_ip("net-tcp", "mask", IP4(255, 255, 255, 0));
	}
	t->nif = nif;
	t->dst = net_param_ip("net-tcp", "dst", nif->gw);
	u8 mac[6];
	if (!arp_resolve(nif, t->dst, mac, deadline)) {
		char a[16];
		printf("net-tcp: no ARP reply for %s\n", net_ip_str(t->dst, a));
		return -1;
	}
	return 0;
}

int wl_net_tcp(void)
{
	struct tcb *t = &tcb;
	const char *dir = param("dir");
	bool rx = dir && !strcmp(dir, "rx");
	u64 port = param_u64("port", 0);
	u64 bytes = param_u64("bytes", 16ull << 20);
	u64 mss = param_u64("mss", TCP_MSS_MAX);
	u64 rwnd = param_u64("rwnd", 65535);
	u64 rto_ms = param_u64("rto_ms", 200);
	if ((dir && !rx && strcmp(dir, "tx")) || !port || port > 65535 ||
	    bytes > TCP_MAX_BYTES || mss < 64 || mss > TCP_MSS_MAX ||
	    rwnd < mss || rwnd > 65535 || !rto_ms || rto_ms > 60000) {
		printf("net-tcp: want dir=tx|rx port=1..65535 bytes=0..2^31 "
		       "mss=64..1460 rwnd=mss..65535 rto_ms=1..60000\n");
		return 2;
	}
	memset(t, 0, sizeof(*t));
	crc_init();
	t->deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 600000));
	t->sport = (u16)param_u64("sport", 40000 + (rdtsc() & 0x3fff));
	t->dport = (u16)port;
	t->mss = (u32)mss;
	t->rcv_wnd = (u32)rwnd;
	t->rto_base = t->rto = ms_to_tsc(rto_ms);
	t->loss = param_u64("loss", 0);
	t->len = rx ? 0 : bytes;
	t->rx = rx;
	t->rx_expect = bytes;
	if (rx && !ooo_q)
		ooo_q = heap_alloc(sizeof(*ooo_q) * OOO_SLOTS, 8);
	if (setup(t, t->deadline) < 0)
		return 1;
	if (t->mss > the_net.mtu - 40u)
		t->mss = the_net.mtu - 40u;
	if (!rx)   /* the sender's CRC: of the pattern it sends */
		for (u64 off = 0; off < bytes; off += TCP_MSS_MAX) {
			static u8 b[TCP_MSS_MAX];
			u32 n = bytes - off < TCP_MSS_MAX ? (u32)(bytes - off)
							  : TCP_MSS_MAX;
			pat_fill(b, off, n);
			t->crc = crc32_update(t->crc, b, n);
		}
	char a[16];
	u64 t0 = rdtsc();
	int rc = tcp_connect(t);
	if (rc == 0)
		rc = rx ? tcp_recv_stream(t) : tcp_send_stream(t);
	u64 ns = (rdtsc() - t0) * 1000000 / (tsc_khz(NULL) ?: 1);
	u64 moved = t->got;
	if (!rx && seq_lt(t->iss, t->snd_una)) {   /* data bytes ACKed */
		moved = seq_off(t, t->snd_una);
		if (moved > t->len)
			moved = t->len;   /* the FIN's sequence number */
	}
	if (rc < 0)
		printf("net-tcp: %s after %lu bytes (snd_una=%u rcv_nxt=%u "
		       "peer_fin=%d)\n", t->reset ? "connection reset" :
		       "timed out", moved, t->snd_una - t->iss,
		       t->rcv_nxt, t->peer_fin);
	printf("net-tcp: dst=%s port=%lu dir=%s mss=%u segs_out=%lu segs_in=%lu "
	       "rexmit=%lu timeouts=%lu dupacks=%lu fast_rexmit=%lu ooo=%lu "
	       "probes=%lu bad_segs=%lu lost=%lu ns=%lu\n", net_ip_str(t->dst, a),
	       port, rx ? "rx" : "tx", t->mss, t->segs_out, t->segs_in,
	       t->rexmit, t->timeouts, t->dupacks, t->fast_rexmit, t->ooo,
	       t->probes, t->bad_segs, t->lost, ns);
	printf("net-tcp: frames rx=%lu tx=%lu rx_bad=%lu merged_bufs=%lu "
	       "dropped=%lu bad_csum=%lu kicks_rx=%lu kicks_tx=%lu\n",
	       the_net.rx_frames, the_net.tx_frames, the_net.rx_bad,
	       the_net.rx_merged, the_nif.dropped, the_nif.bad_csum,
	       the_net.rx.kicks, the_net.tx.kicks);
	if (rx && t->mismatch)
		printf("net-tcp: %lu bytes differ from the pattern, the first "
		       "at offset %lu\n", t->mismatch, t->first_bad);
	printf("RESULT net-tcp dir=%s bytes=%lu crc32=%08x pattern_ok=%d "
	       "ok=%d mbps=%lu\n", rx ? "rx" : "tx", moved, t->crc,
	       !t->mismatch, rc == 0, ns ? moved * 8000 / ns : 0);
	net_close(&the_net);
	return rc == 0 && !t->mismatch ? 0 : 1;
}
