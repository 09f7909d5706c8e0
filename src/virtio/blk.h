/* virtio-blk (virtio 1.2 section 5.2): a disk on a block backend.
 *
 * The vdev type (`vdev virtio-blk hostdev [<]path threads N dio ...`) is
 * virtio_blk_type; the functions below build a device without a transport,
 * which is what the transport glue and the unit tests need.
 */
#ifndef CVISOR_VIRTIO_BLK_H
#define CVISOR_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/block.h"
#include "virtio/virtio.h"

struct event_loop;

/* Feature bits (spec 5.2.3) */
#define VIRTIO_BLK_F_SIZE_MAX		1
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_GEOMETRY		4
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_TOPOLOGY		10
#define VIRTIO_BLK_F_CONFIG_WCE		11
#define VIRTIO_BLK_F_MQ			12
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* Request types and status (spec 5.2.6) */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13

#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

#define VIRTIO_BLK_WZ_F_UNMAP		1
#define VIRTIO_BLK_ID_BYTES		20

/* Limits cvisor advertises. */
#define VIRTIO_BLK_MAX_QUEUES		32      /* QNX's `threads` limit */
/* `poll-us`: the polling budget (blk_poll.c), its default and bound */
#define VIRTIO_BLK_DEFAULT_POLL_US	32
#define VIRTIO_BLK_MAX_POLL_US		1000
#define VIRTIO_BLK_QUEUE_SIZE		BLK_MAX_INFLIGHT_PER_QUEUE
#define VIRTIO_BLK_SEG_MAX		(VIRTIO_BLK_QUEUE_SIZE - 2)
#define VIRTIO_BLK_SIZE_MAX		(1u << 20)
#define VIRTIO_BLK_MAX_DWZ_SEG		16      /* discard/zeroes segments */
#define VIRTIO_BLK_MAX_DWZ_SECTORS	(1u << 22)  /* 2 GiB per segment */
#define VIRTIO_BLK_MAX_REQ_BYTES	(64u << 20)

/* Device configuration layout (spec 5.2.4), little-endian. */
struct virtio_blk_config {
	uint64_t capacity;            /* 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;         /* in blk_size units */
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
} __attribute__((packed));

struct virtio_blk_params {
	const char *path;
	bool read_only;
	bool direct;                  /* O_DIRECT */
	unsigned nr_queues;           /* 1..VIRTIO_BLK_MAX_QUEUES */
	const char *serial;           /* GET_ID; NULL: derived from the file */
	unsigned poll_us;             /* polling budget (blk_poll.c); 0: off */
	/* The image kept open across guest resets (core/persist.h); NULL:
	 * open path, owned by this device alone. */
	struct blk_kept *kept;
};

struct virtio_blk;

/* NULL with a logged message (or, for the file itself, errno set and
 * nothing logged: the caller knows the config position). */
struct virtio_blk *virtio_blk_new(const struct virtio_blk_params *p,
				  struct guest_mem *mem,
				  struct event_loop *loop);
struct virtio_dev *virtio_blk_vdev(struct virtio_blk *blk);
/* Waits for in-flight I/O, then frees. */
void virtio_blk_free(struct virtio_blk *blk);
void virtio_blk_release(struct virtio_dev *d);

extern const struct vdev_type virtio_blk_type;

#endif
