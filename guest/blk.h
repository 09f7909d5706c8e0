/* The test guest's virtio-blk driver, shared by the workloads in blk.c
 * (blk-verify, blk-bench) and blk_crash.c (blk-crash, blk-fault): one
 * request queue, polled, each request on its own slot (header, status
 * byte, data buffer, optional indirect table).
 */
#ifndef TESTGUEST_BLK_H
#define TESTGUEST_BLK_H

#include "virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX (1ull << 1)
#define VIRTIO_BLK_F_SEG_MAX  (1ull << 2)
#define VIRTIO_BLK_F_RO       (1ull << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1ull << 6)
#define VIRTIO_BLK_F_FLUSH    (1ull << 9)

#define BLK_T_IN     0
#define BLK_T_OUT    1
#define BLK_T_FLUSH  4
#define BLK_T_GET_ID 8

#define BLK_S_OK     0
#define BLK_S_IOERR  1
#define BLK_S_UNSUPP 2
#define BLK_S_NONE   0xff   /* what we preset: the device never wrote it */

#define MAX_SEGS 64          /* data segments per request */

struct blk_hdr {
	u32 type, reserved;
	u64 sector;
};

struct blk_slot {
	struct blk_hdr hdr;
	u8 status;
	bool busy;
	struct virtq_desc *table;   /* indirect table, if used */
	u64 buf;                    /* this slot's data buffer */
	u64 t0;                     /* TSC at submission */
};

struct blk {
	struct vdev d;
	struct virtq q;
	u64 capacity;               /* 512-byte sectors */
	u32 size_max, seg_max, blk_size;
	bool indirect;
	u32 chain;                  /* descriptors per request, at most */
	u32 nslots;
	struct blk_slot *slot;
};

/* blk-verify's on-disk pattern (tests/integration/blk_check.py checks it):
 * 64-bit little-endian word i (0..63) of sector s is s ^ seed ^ i * GOLDEN. */
#define GOLDEN 0x9E3779B97F4A7C15ull
#define VERIFY_SECTORS 8   /* one 4 KiB block per position */

/* Finds, negotiates and starts the device (queue 0); prints the blk: line. */
int blk_open(struct blk *b);
/* Slots for up to qd requests of up to bs data bytes; the count, 0 = no. */
u32 blk_slots(struct blk *b, u32 qd, u32 bs);
/* Queues request `type` on slot s (not kicked). len 0 = no data. */
void blk_submit(struct blk *b, u32 s, u32 type, u64 sector, u64 buf,
		u32 len);
/* Takes one completion; its slot, or -1 if none. */
int blk_reap(struct blk *b);
/* One synchronous request on slot 0: the status byte, or -1 on timeout. */
int blk_io(struct blk *b, u32 type, u64 sector, u64 buf, u32 len);
void fill_pattern(u64 *w, u64 sector, u64 seed, u32 nsec);
/* Position i of n: 4 KiB blocks spread from the first to the last. */
u64 verify_pos(u64 capacity, u64 i, u64 n);

#endif
