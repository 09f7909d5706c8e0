/* The split virtqueue walker and every virtio device's request handling,
 * against a fake guest memory (tests/unit/test_virtq_helpers.h: 4 MiB +
 * 1 MiB of RAM, a hole, 64 KiB of ROM) and the virtio core API, without
 * KVM or a transport. One input drives one device:
 *
 *   byte 0   device: 0 virtio-blk (sync engine), 1 virtio-blk (io_uring),
 *            2 virtio-console, 3 virtio-entropy
 *   byte 1   features the driver refuses (bit 0 INDIRECT_DESC, bit 1
 *            EVENT_IDX, bit 2 the device's own low bits)
 *   byte 2   queue size: 1 << (b % 9), which may exceed the maximum
 *   then     operations, each one opcode byte and its arguments:
 *     0 q i addr len flags next   a descriptor of queue q's table
 *     1 q head                    publish a chain in the avail ring
 *     2 q idx                     set the avail index to any value
 *     3 off n bytes...            write into the data window (BUF_GPA)
 *     4 q                         kick queue q, run the event loop
 *     5 i addr len flags next     an indirect table entry (TABLE_GPA)
 *     6 q flags used_event        avail flags and used_event
 *     7 n bytes...                host input for the console
 *     8 status | cfg op           status write, config read or write
 * Addresses are an edge of a fake region plus a small offset, or raw.
 * Afterwards every queue is kicked once more and the device is reset, and
 * the event loop runs until the reset is complete (every block request
 * back), so no input leaves work to the next. */
#include <errno.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "test_vdev_helpers.h"
#include "backends/chardev.h"
#include "core/util.h"
#include "virtio/blk.h"

struct virtio_dev *virtio_console_new(struct guest_mem *mem,
				      struct chardev *cd);
struct virtio_dev *virtio_rng_new(struct guest_mem *mem);

#define NR_DEVS  4
#define DISK_SIZE (256 * 1024)

static struct fake_vm vm;
static struct event_loop *loop;
static struct virtio_dev *devs[NR_DEVS];
static struct irq_count irqs;
static int cons_in = -1;           /* write end of the console's FIFO */

static struct virtio_dev *new_blk(const char *engine, const char *disk)
{
	struct virtio_blk_params p = { .path = disk, .nr_queues = 2,
				       .serial = "fuzz" };
	struct virtio_blk *b;

	setenv("CVISOR_BLOCK_ENGINE", engine, 1);
	b = virtio_blk_new(&p, &vm.mem, loop);
	if (!b) {
		fprintf(stderr, "fuzz: virtio-blk (%s) on %s failed\n",
			engine, disk);
		abort();
	}
	return virtio_blk_vdev(b);
}

static struct virtio_dev *new_console(void)
{
	char in[128], out[128];
	struct cfg_hostdev hd[2];
	struct chardev *cd;

	fz_path(in, sizeof(in), "console-in");
	fz_path(out, sizeof(out), "console-out");
	if (mkfifo(in, 0600)) {
		perror("fuzz: mkfifo");
		abort();
	}
	cons_in = open(in, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	hd[0] = (struct cfg_hostdev){ .dir = HOSTDEV_IN, .path = in };
	hd[1] = (struct cfg_hostdev){ .dir = HOSTDEV_OUT, .path = out };
	cd = chardev_open(hd, 2, loop);
	if (cons_in < 0 || !cd)
		abort();
	return virtio_console_new(&vm.mem, cd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char zero[DISK_SIZE];
	char disk[128];

	fz_mkdir("virtq");
	fz_write("disk.img", zero, sizeof(zero));
	fz_path(disk, sizeof(disk), "disk.img");
	fake_vm_init(&vm, TEST_QSIZE);
	loop = event_loop_new();
	devs[0] = new_blk("sync", disk);
	devs[1] = new_blk("uring", disk);
	devs[2] = new_console();
	devs[3] = virtio_rng_new(&vm.mem);
	for (unsigned i = 0; i < NR_DEVS; i++) {
		if (!devs[i])
			abort();
		tv_attach(devs[i], &irqs);
	}
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

	return sel >= 0xf0 ? fz_u32(in) : (uint32_t)sel * 4;
}

static void run_loop(void)
{
	for (int i = 0; i < 4; i++)
		if (event_loop_poll(loop, 0) <= 0)
			break;
}

/* A reset ends when the backends have handed back every request, which
 * the event loop delivers: poll it as a polling driver waits for status
 * 0 (a status write during the reset would wait for a loop that this
 * thread runs). Ten seconds without the end is a hung reset. */
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

/* The driver's side of queue q: its avail index. */
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

static void op(struct virtio_dev *d, unsigned nq, uint16_t qsize,
	       struct fz_in *in)
{
	uint8_t code = fz_u8(in);
	unsigned q = fz_u8(in) % nq;
	uint64_t o = q * QUEUE_STRIDE;

	switch (code % 9) {
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
		unsigned n = fz_u8(in) % 32;
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
	case 7: {
		uint8_t buf[64];
		unsigned n = fz_u8(in) % sizeof(buf);

		for (unsigned k = 0; k < n; k++)
			buf[k] = fz_u8(in);
		if (n && write(cons_in, buf, n) < 0 && errno != EAGAIN)
			abort();
		run_loop();
		break;
	}
	default:
		op_config(d, in);
		break;
	}
}

/* Negotiate, leaving out what the input refuses, and set up every queue
 * with the chosen size (an invalid one leaves the queue not ready). */
static void bring_up(struct virtio_dev *d, uint8_t refuse, uint16_t qsize)
{
	uint64_t f = (uint64_t)virtio_dev_device_features(d, 1) << 32 |
		     virtio_dev_device_features(d, 0);
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	if (refuse & 1)
		f &= ~VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC);
	if (refuse & 2)
		f &= ~VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX);
	if (refuse & 4)
		f &= ~0xffffffULL;
	set_status(d, s);
	virtio_dev_set_driver_features(d, 0, (uint32_t)f);
	virtio_dev_set_driver_features(d, 1, (uint32_t)(f >> 32));
	set_status(d, s | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < d->nr_queues && q < 4; q++) {
		uint64_t o = q * QUEUE_STRIDE;

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
	struct virtio_dev *d = devs[fz_u8(&in) % NR_DEVS];
	uint8_t refuse = fz_u8(&in);
	uint16_t qsize = (uint16_t)(1u << (fz_u8(&in) % 9));
	unsigned nq = d->nr_queues < 4 ? d->nr_queues : 4;
	unsigned ops = 0;

	/* what an earlier input left in the windows the rings and buffers
	 * live in must not decide this one */
	memset(gpa_host(&vm, RING_DESC), 0, 4 * QUEUE_STRIDE);
	memset(gpa_host(&vm, RING_AVAIL), 0, 4 * QUEUE_STRIDE);
	memset(gpa_host(&vm, RING_USED), 0, 4 * QUEUE_STRIDE);
	memset(gpa_host(&vm, BUF_GPA), 0, 0x10000);
	memset(gpa_host(&vm, TABLE_GPA), 0, 0x1000);
	memset(avail_idx, 0, sizeof(avail_idx));
	bring_up(d, refuse, qsize);
	while (in.left && ops++ < 512)
		op(d, nq, qsize, &in);
	for (unsigned q = 0; q < nq; q++)
		virtio_queue_notify(d, q);
	run_loop();
	virtio_dev_reset(d);
	settle(d);
	return 0;
}
