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
