/* rng workload: fill bytes= (default 4096) from a virtio-rng (entropy)
 * device and check the result is neither all zero nor one repeated
 * byte. The device may return fewer bytes than asked; we ask again. */
#include "virtio.h"

int wl_rng(void)
{
	u64 want = param_u64("bytes", 4096);
	struct vdev d;
	struct virtq q;

	if (!want || want > 16 * 1048576) {
		printf("rng: bytes=%lu: want 1..16777216\n", want);
		return 2;
	}
	u8 *buf = heap_alloc(want, 4096);
	if (!buf) {
		printf("rng: no memory for %lu bytes\n", want);
		return 2;
	}
	if (virtio_find(&d, VIRTIO_ID_RNG) < 0 || virtio_negotiate(&d, 0) < 0)
		return 1;
	if (virtio_queue_setup(&d, &q, 0, 4) < 0) {
		printf("rng: queue setup failed\n");
		return 1;
	}
	virtio_driver_ok(&d);

	u64 got = 0, requests = 0;
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 10000));
	while (got < want) {
		struct vbuf v = { (u64)(buf + got), (u32)(want - got), true };
		virtq_add(&q, 0, &v, 1, NULL);
		virtq_kick(&q);
		u32 id, len;
		if (!virtq_wait(&q, &id, &len, deadline)) {
			printf("rng: timed out after %lu bytes\n", got);
			return 1;
		}
		requests++;
		if (len > want - got) {
			printf("rng: device claims %u bytes, asked %lu\n", len,
			       want - got);
			return 1;
		}
		got += len;
	}
	bool nonzero = false, varies = false;
	for (u64 i = 0; i < want; i++) {
		nonzero |= buf[i] != 0;
		varies |= buf[i] != buf[0];
	}
	bool ok = nonzero && (varies || want == 1);
	printf("rng: requests=%lu first=%02x%02x%02x%02x nonzero=%d varies=%d\n",
	       requests, buf[0], want > 1 ? buf[1] : 0, want > 2 ? buf[2] : 0,
	       want > 3 ? buf[3] : 0, nonzero, varies);
	printf("RESULT rng bytes=%lu ok=%d\n", got, ok);
	virtio_reset(&d);
	return ok ? 0 : 1;
}
