/* console-echo workload: a virtio-console without MULTIPORT (port 0 =
 * receiveq 0 / transmitq 1). Reads what the host sends and writes it back
 * until '.', count= bytes or timeout_ms=; the result goes to COM1. */
#include "virtio.h"

#define RXBUFS 8
#define RXLEN  64

int wl_console_echo(void)
{
	u64 count = param_u64("count", 0);
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 10000));
	struct vdev d;
	struct virtq rx, tx;

	if (virtio_find(&d, VIRTIO_ID_CONSOLE) < 0 || virtio_negotiate(&d, 0) < 0)
		return 1;
	if (virtio_queue_setup(&d, &rx, 0, RXBUFS) < 0 ||
	    virtio_queue_setup(&d, &tx, 1, 2) < 0) {
		printf("console-echo: queue setup failed\n");
		return 1;
	}
	u8 *rxbuf = heap_alloc(RXBUFS * RXLEN, 64), *txbuf = heap_alloc(RXLEN, 64);
	if (!rxbuf || !txbuf)
		return 1;
	virtio_driver_ok(&d);
	/* Post every receive buffer: descriptor i = buffer i. */
	for (u16 i = 0; i < rx.size && i < RXBUFS; i++) {
		struct vbuf v = { (u64)(rxbuf + i * RXLEN), RXLEN, true };
		virtq_add(&rx, i, &v, 1, NULL);
	}
	virtq_kick(&rx);

	u64 bytes = 0;
	bool done = false;
	u32 id, len;
	while (!done && rdtsc() < deadline) {
		if (!virtq_get(&rx, &id, &len)) {
			cpu_relax();
			continue;
		}
		if (id >= RXBUFS || len > RXLEN) {
			printf("console-echo: bad used entry id=%u len=%u\n", id, len);
			return 1;
		}
		/* Echo up to the terminator or the count, not past it. */
		u32 n = 0;
		while (n < len && !done) {
			u8 c = rxbuf[id * RXLEN + n++];
			bytes++;
			done = c == '.' || (count && bytes >= count);
		}
		memcpy(txbuf, rxbuf + id * RXLEN, n);
		struct vbuf t = { (u64)txbuf, n, false };
		virtq_add(&tx, 0, &t, 1, NULL);
		virtq_kick(&tx);
		u32 tid, tlen;
		if (!virtq_wait(&tx, &tid, &tlen, rdtsc() + ms_to_tsc(5000))) {
			printf("console-echo: transmit timed out\n");
			return 1;
		}
		/* Give the receive buffer back. */
		struct vbuf v = { (u64)(rxbuf + id * RXLEN), RXLEN, true };
		virtq_add(&rx, (u16)id, &v, 1, NULL);
		virtq_kick(&rx);
	}
	printf("RESULT console-echo bytes=%lu\n", bytes);
	virtio_reset(&d);
	return done ? 0 : 1;
}

/* console-flood: writes total= bytes (default 1 MiB, 0 = until stopped)
 * to the virtio-console in 4 KiB chains, up to 8 in flight, while it keeps
 * a virtio-rng busy; after every 16 entropy requests it prints
 * `tick N sent=S rng=R` on COM1. When the host side of the console stops
 * reading, `sent` stands still while the ticks go on: the vCPU runs and
 * the event loop (which serves the rng) is not stuck behind the console. */
#define FLOOD_SLOTS 8
#define FLOOD_LEN   4096

static int flood_setup(struct vdev *c, struct virtq *rx, struct virtq *tx,
		       struct vdev *r, struct virtq *rq)
{
	if (virtio_find(c, VIRTIO_ID_CONSOLE) < 0 || virtio_negotiate(c, 0) < 0 ||
	    virtio_queue_setup(c, rx, 0, 1) < 0 ||
	    virtio_queue_setup(c, tx, 1, FLOOD_SLOTS) < 0)
		return -1;
	virtio_driver_ok(c);
	if (virtio_find(r, VIRTIO_ID_RNG) < 0 || virtio_negotiate(r, 0) < 0 ||
	    virtio_queue_setup(r, rq, 0, 2) < 0)
		return -1;
	virtio_driver_ok(r);
	return 0;
}

int wl_console_flood(void)
{
	u64 total = param_u64("total", 1 << 20);
	u64 queued = 0, sent = 0, rngs = 0, ticks = 0;
	struct vdev c, r;
	struct virtq rx, tx, rq;
	u8 *buf = heap_alloc(FLOOD_SLOTS * FLOOD_LEN, 4096);
	u8 *ent = heap_alloc(64, 64);
	u32 free_slots = (1u << FLOOD_SLOTS) - 1, id, len;

	if (!buf || !ent || flood_setup(&c, &rx, &tx, &r, &rq) < 0) {
		printf("console-flood: no console and rng\n");
		return 1;
	}
	for (u32 i = 0; i < FLOOD_SLOTS * FLOOD_LEN; i++)
		buf[i] = (u8)('a' + i % 26);
	struct vbuf e = { (u64)ent, 64, true };
	virtq_add(&rq, 0, &e, 1, NULL);
	virtq_kick(&rq);
	while (!total || sent < total) {
		while (free_slots && (!total || queued < total)) {
			u16 s = (u16)__builtin_ctz(free_slots);
			struct vbuf v = { (u64)(buf + s * FLOOD_LEN), FLOOD_LEN,
					  false };

			free_slots &= ~(1u << s);
			virtq_add(&tx, s, &v, 1, NULL);
			virtq_kick(&tx);
			queued += FLOOD_LEN;
		}
		if (virtq_get(&tx, &id, &len) && id < FLOOD_SLOTS) {
			free_slots |= 1u << id;
			sent += FLOOD_LEN;
		}
		if (virtq_get(&rq, &id, &len)) {
			if (++rngs % 16 == 0)
				printf("tick %lu sent=%lu rng=%lu\n", ++ticks, sent,
				       rngs);
			virtq_add(&rq, 0, &e, 1, NULL);
			virtq_kick(&rq);
		}
		cpu_relax();
	}
	printf("RESULT console-flood sent=%lu rng=%lu\n", sent, rngs);
	return 0;
}
