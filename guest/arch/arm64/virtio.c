/* virtio-mmio (version 2) from the AArch64 test guest: the first
 * virtio,mmio node of the tree whose device is an entropy source gets one
 * split queue of 4 entries in guest RAM; one device-writable buffer of 64
 * bytes, a notify, then the used ring is polled (no interrupt needed).
 * With the MMU off every access is aligned and uncached, so the rings need
 * no barriers beyond the device's own ordering of MMIO. */
#include "a64.h"

#define VM_MAGIC        0x000
#define VM_VERSION      0x004
#define VM_DEVICE_ID    0x008
#define VM_DEV_FEAT     0x010
#define VM_DEV_FEAT_SEL 0x014
#define VM_DRV_FEAT     0x020
#define VM_DRV_FEAT_SEL 0x024
#define VM_QUEUE_SEL    0x030
#define VM_QUEUE_MAX    0x034
#define VM_QUEUE_NUM    0x038
#define VM_QUEUE_READY  0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_STATUS       0x070
#define VM_DESC_LO      0x080
#define VM_DESC_HI      0x084
#define VM_AVAIL_LO     0x090
#define VM_AVAIL_HI     0x094
#define VM_USED_LO      0x0a0
#define VM_USED_HI      0x0a4

#define QSZ 4

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static struct {
	struct desc d[QSZ];
	uint16_t avail[2 + QSZ + 1];
	uint32_t pad;
	uint32_t used[1 + 2 * QSZ + 1];      /* flags|idx, then id, len pairs */
	uint8_t buf[64];
} q __attribute__((aligned(4096)));

static uint64_t find_rng(void)
{
	for (unsigned i = 0; i < dt_nr_virtio; i++)
		if (mmio_read32(dt_virtio[i] + VM_MAGIC) == 0x74726976 &&
		    mmio_read32(dt_virtio[i] + VM_DEVICE_ID) == 4)
			return dt_virtio[i];
	return 0;
}

void wl_rng(void)
{
	uint64_t m = find_rng(), a = (uint64_t)&q;
	unsigned nonzero = 0, used_idx = 0;
	uint32_t ver = 0;

	if (!m) {
		result("rng", 0, "found=%lu version=%lu", 0, 0);
		return;
	}
	ver = mmio_read32(m + VM_VERSION);
	mmio_write32(m + VM_STATUS, 0);
	mmio_write32(m + VM_STATUS, 1 | 2);                  /* ACK, DRIVER */
	mmio_write32(m + VM_DRV_FEAT_SEL, 1);
	mmio_write32(m + VM_DRV_FEAT, 1);                    /* VERSION_1 */
	mmio_write32(m + VM_DRV_FEAT_SEL, 0);
	mmio_write32(m + VM_DRV_FEAT, 0);
	mmio_write32(m + VM_STATUS, 1 | 2 | 8);              /* FEATURES_OK */
	mmio_write32(m + VM_QUEUE_SEL, 0);
	if (!(mmio_read32(m + VM_STATUS) & 8) ||
	    mmio_read32(m + VM_QUEUE_MAX) < QSZ) {
		result("rng", 0, "found=%lu version=%lu", 1, ver);
		return;
	}
	mmio_write32(m + VM_QUEUE_NUM, QSZ);
	mmio_write32(m + VM_DESC_LO, (uint32_t)a);
	mmio_write32(m + VM_DESC_HI, (uint32_t)(a >> 32));
	a = (uint64_t)q.avail;
	mmio_write32(m + VM_AVAIL_LO, (uint32_t)a);
	mmio_write32(m + VM_AVAIL_HI, (uint32_t)(a >> 32));
	a = (uint64_t)q.used;
	mmio_write32(m + VM_USED_LO, (uint32_t)a);
	mmio_write32(m + VM_USED_HI, (uint32_t)(a >> 32));
	mmio_write32(m + VM_QUEUE_READY, 1);
	mmio_write32(m + VM_STATUS, 1 | 2 | 8 | 4);          /* DRIVER_OK */

	q.d[0] = (struct desc){ (uint64_t)q.buf, sizeof(q.buf), 2, 0 };
	q.avail[2] = 0;                      /* ring[0] = descriptor 0 */
	q.avail[1] = 1;                      /* idx */
	mmio_write32(m + VM_QUEUE_NOTIFY, 0);
	for (unsigned long spin = 0; spin < 400000000; spin++) {
		used_idx = *(volatile uint32_t *)&q.used[0] >> 16;
		if (used_idx)
			break;
	}
	__asm__ volatile("" ::: "memory");   /* the device wrote them */
	for (unsigned i = 0; i < sizeof(q.buf); i++)
		nonzero += q.buf[i] != 0;
	/* 64 random bytes with fewer than 32 non-zero: a 1 in 10^40 event */
	result("rng", used_idx == 1 && q.used[2] == sizeof(q.buf) &&
	       nonzero >= 32, "len=%lu nonzero=%lu", q.used[2], nonzero);
	mmio_write32(m + VM_STATUS, 0);
}
