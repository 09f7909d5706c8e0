/* The `hostile` workload: attacks on every device cvisor emulates, each
 * followed by a check that the device (and its neighbours) still work.
 * hostile.c runs the table; the attacks live in hostile_<target>.c.
 */
#ifndef TESTGUEST_HOSTILE_H
#define TESTGUEST_HOSTILE_H

#include "virtio.h"

/* An attack returns 0 when the device survived and behaved, else
 * hfail(...), which records why. */
int hfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A detail line ("hostile: <attack>: ...") that goes with the result. */
void hnote(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Port I/O through the ring-0 services. */
static inline u8 hinb(u16 port)
{
	return (u8)svc(SVC_INB, port, 0, 0);
}

static inline void houtb(u16 port, u8 v)
{
	svc(SVC_OUTB, port, v, 0);
}

/* PCI configuration mechanism #1 (CF8/CFC) through the ring-0 services. */
static inline u32 cfg_rd(u32 bdf, u32 reg, u32 size)
{
	return (u32)svc(SVC_PCI_READ, bdf | reg, size, 0);
}

static inline void cfg_wr(u32 bdf, u32 reg, u32 size, u32 v)
{
	svc(SVC_PCI_WRITE, bdf | reg, size, v);
}

/* ---- virtio harness (hostile_virtio.c) ---- */

/* Scratch layout of a device's 64 KiB block: rings, a request header,
 * a status byte, a data page and room for an indirect table of up to
 * 2048 entries. */
#define HV_DESC     0x0000
#define HV_AVAIL    0x1000
#define HV_USED     0x2000
#define HV_HDR      0x3000
#define HV_STATUS   0x3100
#define HV_DATA     0x4000
#define HV_TABLE    0x8000
#define HV_MEM_SIZE 0x10000
#define HV_QSIZE    16      /* the ring size the attacks use */

struct hdev {
	struct vdev d;
	const char *name;       /* "blk-pci", "blk-ro-mmio", ... */
	bool ro;                /* blk: VIRTIO_BLK_F_RO offered */
	u64 offered;
	u8 *mem;                /* HV_MEM_SIZE bytes, 4 KiB aligned */
	/* the queue under attack */
	u16 qi, size;
	u16 avail_idx, used_seen;
	u64 notify;             /* notify address of queue qi */
};

enum hv_outcome { HV_USED_ENTRY, HV_NEEDS_RESET, HV_TIMEOUT };

struct virtq_desc *hv_desc(struct hdev *h);
struct virtq_avail *hv_avail(struct hdev *h);
volatile struct virtq_used *hv_used(struct hdev *h);
u64 hv_pa(struct hdev *h, u32 off);   /* guest-physical of mem + off */

struct hdev *hv_get(u32 id, u32 transport, bool ro);
u8 hv_status(struct hdev *h);
void hv_set_status(struct hdev *h, u8 s);
void hv_reset(struct hdev *h);
u32 hv_dev_features(struct hdev *h, u32 sel);
void hv_drv_features(struct hdev *h, u32 sel, u32 v);
/* Reset, ACK, DRIVER, VERSION_1 | (offered & wanted), FEATURES_OK;
 * true when FEATURES_OK stuck. */
bool hv_negotiate(struct hdev *h, u64 wanted);
u16 hv_queue_max(struct hdev *h, u16 qi);
u16 hv_virtio_num_queues(struct hdev *h);
/* Programs queue qi raw (no checks of our own) and asks for it to be
 * enabled; returns what QueueReady / queue_enable reads back. */
bool hv_queue_raw(struct hdev *h, u16 qi, u32 size, u64 desc, u64 avail,
		  u64 used);
/* The well-formed queue in h->mem, HV_QSIZE entries. */
bool hv_queue(struct hdev *h, u16 qi);
void hv_driver_ok(struct hdev *h);
/* negotiate(VERSION_1 | INDIRECT) + queue qi + DRIVER_OK. */
int hv_start(struct hdev *h, u16 qi);
/* Publishes head in the avail ring (no notify). */
void hv_publish(struct hdev *h, u16 head);
void hv_kick(struct hdev *h);
/* Waits up to 5 s for a used entry or NEEDS_RESET. */
enum hv_outcome hv_wait(struct hdev *h, u32 *id, u32 *len);
const char *hv_outcome_name(enum hv_outcome o);
/* Sets descriptor i. */
void hv_set_desc(struct virtq_desc *t, u16 i, u64 addr, u32 len, u16 flags,
		 u16 next);
/* Resets the device and checks that a well-formed request works again
 * (blk: read sector 0; console: transmit; rng: fill a buffer). */
int hv_check(struct hdev *h);
/* Expects the attack published on h to end in NEEDS_RESET, then checks. */
int hv_expect_needs_reset(struct hdev *h);
/* blk request on the started queue: a 3-descriptor chain; returns the
 * status byte, or -1 (timeout / NEEDS_RESET, in *out). */
int hv_blk_rw(struct hdev *h, u32 type, u64 sector, u64 buf, u32 len,
	      enum hv_outcome *out);
u32 hv_cfg_read(struct hdev *h, u32 off, u32 size);
u64 hv_ram_top(void);

#define BLK_T_IN     0
#define BLK_T_OUT    1
#define BLK_T_FLUSH  4
#define BLK_T_GET_ID 8
#define BLK_T_DISCARD 11
#define BLK_S_OK     0
#define BLK_S_IOERR  1
#define BLK_S_UNSUPP 2

/* ---- attacks: one function each, name in hostile.c's table ---- */
#define HOSTILE_ATTACKS(X) \
	X(vq_loop) X(vq_long_chain) X(vq_next_range) X(vq_head_range) \
	X(vq_indirect_outside) X(vq_indirect_mmio) X(vq_indirect_nested) \
	X(vq_indirect_len) X(vq_end_of_ram) X(vq_beyond_ram) X(vq_huge_len) \
	X(vq_avail_jump) X(vq_used_outside) X(vq_bad_sizes) \
	X(vq_notify_disabled) X(vq_ready_toggle) X(vq_order) \
	X(vq_event_idx_edge) X(vq_across_hole) X(vq_ready_reprogram) \
	X(vq_many_segments) X(vq_dma_into_ring) X(vq_rom) X(vq_reset_inflight) \
	X(blk_multiqueue) \
	X(blk_huge_request) \
	X(feat_no_features_ok) X(feat_change_late) X(feat_unoffered) \
	X(cfg_range) X(mmio_regs) X(pci_common) X(pci_notify) \
	X(blk_past_end) X(blk_bad_header) X(blk_data_len) X(blk_no_status) \
	X(blk_write_ro) X(blk_unknown_type) X(blk_discard_bad) \
	X(blk_get_id_short) X(console_bad_bufs) X(console_rx_bad) \
	X(rng_bad_bufs) \
	X(net_tx_bad_hdr) X(net_tx_gso_64k) X(net_tx_zero_len) \
	X(net_tx_ring_abuse) X(net_rx_small) X(net_rx_small_dropped) \
	X(net_rx_bad_chain) \
	X(net_rx_no_buffers) X(net_notify_storm) X(net_ctrl_malformed) \
	X(net_feat_deps) \
	X(msix_odd_access) X(msix_vector_range) X(msix_pba_write) \
	X(msix_mask_storm) X(msix_control) X(pci_cfg_window) \
	X(pci_bar_sizing) X(pci_bar_over_ram) X(pci_bar_overlap) \
	X(pci_bar_over_devices) X(pci_cfg_range) X(pci_unaligned) \
	X(pci_absent) X(pci_command) X(pci_bar_wrap) \
	X(uart_registers) X(uart_fifo_overflow) X(uart_divisor) X(uart_com1) \
	X(pl011_registers) X(pl011_fifo_overflow) X(pl011_baud) \
	X(cmos_index) X(cmos_bad_time) X(cmos_registers) X(cmos_alarm) \
	X(kbd_garbage) X(kbd_missing_data) X(kbd_obuf_overflow) \
	X(acpi_pm)

#define HOSTILE_DECL(n) int hostile_##n(void);
HOSTILE_ATTACKS(HOSTILE_DECL)
#undef HOSTILE_DECL

#endif
