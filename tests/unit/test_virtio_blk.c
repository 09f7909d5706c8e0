/* virtio-blk through the virtio core API: every request type against a
 * temporary image on both block engines (the file is checked on the host
 * after FLUSH), read-only disks, multiqueue config, reset with I/O in
 * flight, and the malformed requests a hostile guest can send. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "test_vdev_helpers.h"
#include "backends/block.h"
#include "virtio/blk.h"
#include "virtio/blk_priv.h"      /* the backend, the budget */

#define DISK_SIZE	(1024 * 1024)
#define HDR_GPA		(BUF_GPA)              /* 16-byte headers */
#define STATUS_GPA	(BUF_GPA + 0x1000)     /* status bytes */
#define SEG_GPA		(BUF_GPA + 0x2000)     /* discard segments */
#define DATA_GPA	(BUF_GPA + 0x10000)    /* 64 KiB per slot */

struct fix {
	struct fake_vm vm;
	struct event_loop *loop;
	struct virtio_blk *blk;
	struct virtio_dev *d;
	struct irq_count irqs;
	struct tv_queue tq;
	char path[64];
	int fd;
	unsigned slot;
};

static const char *engine;

static void make_disk(struct fix *f, const char *dir)
{
	snprintf(f->path, sizeof(f->path), "%s/cvisor-blk-XXXXXX", dir);
	f->fd = mkstemp(f->path);
	assert_true(f->fd >= 0);
	assert_int_equal(ftruncate(f->fd, DISK_SIZE), 0);
}

static void open_dev(struct fix *f, bool ro, bool direct, unsigned nq,
		     const char *serial)
{
	struct virtio_blk_params p = { .path = f->path, .read_only = ro,
				       .direct = direct, .nr_queues = nq,
				       .serial = serial };

	f->blk = virtio_blk_new(&p, &f->vm.mem, f->loop);
	assert_non_null(f->blk);
	f->d = virtio_blk_vdev(f->blk);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, nq, 0);
	assert_true(virtio_dev_running(f->d));
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	setenv("CVISOR_BLOCK_ENGINE", engine, 1);
	fake_vm_init(&f->vm, TEST_QSIZE);
	f->loop = event_loop_new();
	make_disk(f, "/tmp");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	virtio_blk_free(f->blk);
	event_loop_free(f->loop);
	fake_vm_free(&f->vm);
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

static uint64_t data_gpa(unsigned slot)
{
	return DATA_GPA + (uint64_t)(slot % 8) * 0x10000;
}

static void put_hdr(struct fix *f, unsigned slot, uint32_t type,
		    uint64_t sector)
{
	uint8_t *h = gpa_host(&f->vm, HDR_GPA + 16 * slot);
	uint32_t t = htole32(type), z = 0;
	uint64_t s = htole64(sector);

	memcpy(h, &t, 4);
	memcpy(h + 4, &z, 4);
	memcpy(h + 8, &s, 8);
}

static uint8_t *status_of(struct fix *f, unsigned slot)
{
	return gpa_host(&f->vm, STATUS_GPA + slot);
}

/* Submit one request: header, optional data, status; wait; return status
 * (0xee when the device never wrote one). */
static uint8_t run_req(struct fix *f, uint32_t type, uint64_t sector,
		       uint64_t dgpa, uint32_t dlen, bool dwrite)
{
	unsigned slot = f->slot++ % 16;
	struct seg s[3];
	unsigned n = 0;
	uint16_t head;

	put_hdr(f, slot, type, sector);
	*status_of(f, slot) = 0xee;
	s[n++] = (struct seg){ HDR_GPA + 16 * slot, 16, false };
	if (dlen)
		s[n++] = (struct seg){ dgpa, dlen, dwrite };
	s[n++] = (struct seg){ STATUS_GPA + slot, 1, true };
	head = tv_chain(&f->vm, &f->tq, s, n);
	virtio_queue_notify(f->d, f->tq.q);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->tq, f->tq.avail_idx));
	assert_int_equal(tv_used_elem(&f->vm, &f->tq,
				      (uint16_t)(f->tq.avail_idx - 1)).id,
			 head);
	return *status_of(f, slot);
}

static uint8_t blk_write(struct fix *f, uint64_t sector, const void *buf,
			 uint32_t len)
{
	memcpy(gpa_host(&f->vm, data_gpa(f->slot)), buf, len);
	return run_req(f, VIRTIO_BLK_T_OUT, sector, data_gpa(f->slot), len,
		       false);
}

static uint8_t blk_read(struct fix *f, uint64_t sector, void *buf,
			uint32_t len)
{
	uint64_t g = data_gpa(f->slot);
	uint8_t st;

	memset(gpa_host(&f->vm, g), 0x5a, len);
	st = run_req(f, VIRTIO_BLK_T_IN, sector, g, len, true);
	memcpy(buf, gpa_host(&f->vm, g), len);
	return st;
}

static void pattern(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

static void assert_file(struct fix *f, uint64_t off, const void *want,
			size_t len)
{
	uint8_t *got = malloc(len);

	assert_int_equal(pread(f->fd, got, len, (off_t)off), (ssize_t)len);
	assert_memory_equal(got, want, len);
	free(got);
}

static uint32_t cfg32(struct fix *f, size_t off)
{
	return (uint32_t)virtio_dev_config_read(f->d, off, 4);
}

/* --- round trips --- */

static void test_config(void **state)
{
	struct fix *f = *state;
	uint32_t lo;

	open_dev(f, false, false, 1, NULL);
	lo = virtio_dev_device_features(f->d, 0);
	assert_true(lo & (1u << VIRTIO_BLK_F_FLUSH));
	assert_true(lo & (1u << VIRTIO_BLK_F_DISCARD));
	assert_true(lo & (1u << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_true(lo & (1u << VIRTIO_BLK_F_SEG_MAX));
	assert_false(lo & (1u << VIRTIO_BLK_F_RO));
	assert_int_equal(virtio_dev_config_read(f->d, 0, 8), DISK_SIZE / 512);
	assert_int_equal(cfg32(f, offsetof(struct virtio_blk_config, blk_size)),
			 512);
	assert_true(cfg32(f, offsetof(struct virtio_blk_config, seg_max)) <=
		    VIRTIO_BLK_QUEUE_SIZE - 2);
	assert_int_equal(cfg32(f, offsetof(struct virtio_blk_config,
					   max_discard_seg)),
			 VIRTIO_BLK_MAX_DWZ_SEG);
	assert_int_equal(virtio_dev_config_read(f->d,
			 offsetof(struct virtio_blk_config, num_queues), 2), 1);
	/* read-only config: writes are dropped */
	virtio_dev_config_write(f->d, 0, 8, 5);
	assert_int_equal(virtio_dev_config_read(f->d, 0, 8), DISK_SIZE / 512);
}

static void test_write_read_flush(void **state)
{
	struct fix *f = *state;
	uint8_t w[8192], r[8192];

	open_dev(f, false, false, 1, NULL);
	pattern(w, sizeof(w), 1);
	assert_int_equal(blk_write(f, 10, w, sizeof(w)), VIRTIO_BLK_S_OK);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false),
			 VIRTIO_BLK_S_OK);
	assert_file(f, 10 * 512, w, sizeof(w));
	assert_int_equal(blk_read(f, 10, r, sizeof(r)), VIRTIO_BLK_S_OK);
	assert_memory_equal(r, w, sizeof(w));
	/* used length covers the data and the status byte */
	assert_int_equal(tv_used_elem(&f->vm, &f->tq,
				      (uint16_t)(f->tq.avail_idx - 1)).len,
			 sizeof(r) + 1);
	/* the last sector, exactly */
	assert_int_equal(blk_write(f, DISK_SIZE / 512 - 1, w, 512),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(blk_read(f, DISK_SIZE / 512 - 1, r, 512),
			 VIRTIO_BLK_S_OK);
	assert_memory_equal(r, w, 512);
	assert_true(f->irqs.used > 0);
}

/* Data split over many descriptors, crossing into the second RAM region. */
static void test_scatter_gather(void **state)
{
	struct fix *f = *state;
	uint8_t w[4096];
	struct seg s[6];
	uint16_t k = 0;

	open_dev(f, false, false, 1, NULL);
	pattern(w, sizeof(w), 7);
	memcpy(gpa_host(&f->vm, RAM2_GPA - 1024), w, 1024);
	memcpy(gpa_host(&f->vm, RAM2_GPA), w + 1024, 1024);
	memcpy(gpa_host(&f->vm, DATA_GPA), w + 2048, 2048);
	put_hdr(f, 0, VIRTIO_BLK_T_OUT, 3);
	s[k++] = (struct seg){ HDR_GPA, 8, false };       /* header split */
	s[k++] = (struct seg){ HDR_GPA + 8, 8, false };
	s[k++] = (struct seg){ RAM2_GPA - 1024, 2048, false };
	s[k++] = (struct seg){ DATA_GPA, 1000, false };
	s[k++] = (struct seg){ DATA_GPA + 1000, 1048, false };
	s[k++] = (struct seg){ STATUS_GPA, 1, true };
	tv_chain(&f->vm, &f->tq, s, k);
	virtio_queue_notify(f->d, 0);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->tq, 1));
	assert_int_equal(*status_of(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), 0);
	assert_file(f, 3 * 512, w, sizeof(w));
}

static void test_get_id(void **state)
{
	struct fix *f = *state;
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint64_t g = data_gpa(0);

	open_dev(f, false, false, 1, "disk-one");
	memset(gpa_host(&f->vm, g), 0x77, sizeof(id));
	assert_int_equal(run_req(f, VIRTIO_BLK_T_GET_ID, 0, g, sizeof(id),
				 true), VIRTIO_BLK_S_OK);
	memcpy(id, gpa_host(&f->vm, g), sizeof(id));
	assert_string_equal((char *)id, "disk-one");
	assert_int_equal(id[19], 0);
}

static void test_get_id_stable(void **state)
{
	struct fix *f = *state;
	char a[VIRTIO_BLK_ID_BYTES + 1] = { 0 }, b[sizeof(a)] = { 0 };
	uint64_t g = data_gpa(0);

	open_dev(f, false, false, 1, NULL);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_GET_ID, 0, g, 20, true), 0);
	memcpy(a, gpa_host(&f->vm, g), 20);
	virtio_blk_free(f->blk);
	tv_clear_rings(&f->vm);
	f->tq = (struct tv_queue){ 0 };
	open_dev(f, false, false, 1, NULL);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_GET_ID, 0, g, 20, true), 0);
	memcpy(b, gpa_host(&f->vm, g), 20);
	assert_true(strlen(a) > 0);
	assert_string_equal(a, b);
}

static uint8_t dwz(struct fix *f, uint32_t type, unsigned nseg,
		   uint64_t sector, uint32_t nr, uint32_t flags)
{
	unsigned slot = f->slot++ % 16;
	uint8_t *p = gpa_host(&f->vm, SEG_GPA);
	struct seg s[3];

	for (unsigned i = 0; i < nseg; i++) {
		uint64_t sec = htole64(sector + (uint64_t)i * nr);
		uint32_t n = htole32(nr), fl = htole32(flags);

		memcpy(p + 16 * i, &sec, 8);
		memcpy(p + 16 * i + 8, &n, 4);
		memcpy(p + 16 * i + 12, &fl, 4);
	}
	put_hdr(f, slot, type, 0);
	*status_of(f, slot) = 0xee;
	s[0] = (struct seg){ HDR_GPA + 16 * slot, 16, false };
	s[1] = (struct seg){ SEG_GPA, 16 * nseg, false };
	s[2] = (struct seg){ STATUS_GPA + slot, 1, true };
	tv_chain(&f->vm, &f->tq, s, 3);
	virtio_queue_notify(f->d, 0);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->tq, f->tq.avail_idx));
	return *status_of(f, slot);
}

static void test_write_zeroes(void **state)
{
	struct fix *f = *state;
	uint8_t w[8192], r[8192], z[8192] = { 0 };

	open_dev(f, false, false, 1, NULL);
	pattern(w, sizeof(w), 3);
	assert_int_equal(blk_write(f, 0, w, sizeof(w)), 0);
	/* zero sectors 2..5 (2 KiB), keep the rest */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 2, 4, 0), 0);
	/* and with unmap, two segments: sectors 8..9 and 10..11 */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 2, 8, 2,
			     VIRTIO_BLK_WZ_F_UNMAP), 0);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), 0);
	memcpy(z, w, sizeof(z));
	memset(z + 2 * 512, 0, 4 * 512);
	memset(z + 8 * 512, 0, 4 * 512);
	assert_file(f, 0, z, sizeof(z));
	assert_int_equal(blk_read(f, 0, r, sizeof(r)), 0);
	assert_memory_equal(r, z, sizeof(z));
}

/* Discard may be a no-op on the host file system: only check what the
 * host guarantees (status, and zeros where punching holes works). */
static void test_discard(void **state)
{
	struct fix *f = *state;
	uint8_t w[8192], r[4096], z[4096] = { 0 };
	bool holes;

	open_dev(f, false, false, 1, NULL);
	pattern(w, sizeof(w), 5);
	assert_int_equal(blk_write(f, 256, w, sizeof(w)), 0);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 1, 256, 8, 0), 0);
	holes = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  DISK_SIZE - 4096, 4096) == 0;
	assert_int_equal(blk_read(f, 256, r, sizeof(r)), 0);
	if (holes)
		assert_memory_equal(r, z, sizeof(r));
	assert_int_equal(blk_read(f, 264, r, sizeof(r)), 0);
	assert_memory_equal(r, w + 4096, sizeof(r));
}

static void test_read_only(void **state)
{
	struct fix *f = *state;
	uint8_t w[512], r[512];

	pattern(w, sizeof(w), 9);
	assert_int_equal(pwrite(f->fd, w, sizeof(w), 0), (ssize_t)sizeof(w));
	open_dev(f, true, false, 1, NULL);
	assert_true(virtio_dev_device_features(f->d, 0) &
		    (1u << VIRTIO_BLK_F_RO));
	assert_false(virtio_dev_device_features(f->d, 0) &
		     (1u << VIRTIO_BLK_F_DISCARD));
	memset(r, 0, sizeof(r));
	assert_int_equal(blk_write(f, 0, r, sizeof(r)), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 1, 0),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(blk_read(f, 0, r, sizeof(r)), VIRTIO_BLK_S_OK);
	assert_memory_equal(r, w, sizeof(w));
	assert_file(f, 0, w, sizeof(w));
}

static void test_multiqueue(void **state)
{
	struct fix *f = *state;
	uint8_t w[1024], r[1024];

	open_dev(f, false, false, 4, NULL);
	assert_true(virtio_dev_device_features(f->d, 0) &
		    (1u << VIRTIO_BLK_F_MQ));
	assert_int_equal(virtio_dev_config_read(f->d,
			 offsetof(struct virtio_blk_config, num_queues), 2), 4);
	assert_int_equal(virtio_queue_read(f->d, 3, VIRTIO_QUEUE_MAX_SIZE),
			 VIRTIO_BLK_QUEUE_SIZE);
	assert_int_equal(virtio_queue_read(f->d, 4, VIRTIO_QUEUE_MAX_SIZE), 0);
	pattern(w, sizeof(w), 11);
	f->tq.q = 3;
	assert_int_equal(blk_write(f, 40, w, sizeof(w)), 0);
	f->tq = (struct tv_queue){ .q = 1 };
	assert_int_equal(blk_read(f, 40, r, sizeof(r)), 0);
	assert_memory_equal(r, w, sizeof(w));
}

static void test_threads_limit(void **state)
{
	struct fix *f = *state;
	struct virtio_blk_params p = { .path = f->path, .nr_queues = 33 };

	assert_null(virtio_blk_new(&p, &f->vm.mem, f->loop));
	p.path = "/nonexistent/cvisor-disk";
	p.nr_queues = 1;
	errno = 0;
	assert_null(virtio_blk_new(&p, &f->vm.mem, f->loop));
	assert_int_equal(errno, ENOENT);
}

/* n 64 KiB writes in flight on queue 0. Their completions reach the
 * device only when the test runs the loop (the backend hands them back
 * through it): the test is the slow disk. */
static void submit_writes(struct fix *f, unsigned n)
{
	struct seg s[3];

	for (unsigned i = 0; i < n; i++) {
		put_hdr(f, i, VIRTIO_BLK_T_OUT, i * 128);
		*status_of(f, i) = 0xee;
		s[0] = (struct seg){ HDR_GPA + 16 * i, 16, false };
		s[1] = (struct seg){ data_gpa(i), 65536, false };
		s[2] = (struct seg){ STATUS_GPA + i, 1, true };
		tv_chain(&f->vm, &f->tq, s, 3);
	}
	virtio_queue_notify(f->d, 0);
	assert_int_equal(blk_backend_inflight(f->blk->be), n);
}

/* Run the loop until the backend holds nothing; at most ~5 s. */
static void deliver_all(struct fix *f)
{
	for (int i = 0; i < 500 && blk_backend_inflight(f->blk->be); i++)
		event_loop_poll(f->loop, 10);
	assert_int_equal(blk_backend_inflight(f->blk->be), 0);
}

static void assert_untouched(struct fix *f, unsigned n)
{
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(*status_of(f, i), 0xee);
}

/* Reset with requests in flight: the driver's status write returns at
 * once, without waiting for the disk (it used to drain the backend on
 * the vCPU thread, under the transport lock); the status reads non-zero
 * until the last request is back, then 0; nothing reaches the forgotten
 * ring or the status bytes; the device works afterwards. */
static void test_reset_async(void **state)
{
	struct fix *f = *state;
	uint8_t up = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		     VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;

	open_dev(f, false, false, 1, NULL);
	submit_writes(f, 8);
	virtio_dev_set_status(f->d, 0);
	/* Returned with the disk still holding every request. */
	assert_int_equal(blk_backend_inflight(f->blk->be), 8);
	assert_true(virtio_dev_reset_pending(f->d));
	assert_int_equal(virtio_dev_status(f->d), up);
	/* The rest of the device is reset already and answers. */
	assert_false(virtio_dev_running(f->d));
	assert_int_equal(virtio_queue_read(f->d, 0, VIRTIO_QUEUE_READY), 0);
	assert_int_equal(virtio_dev_driver_features(f->d, 1), 0);
	assert_int_equal(virtio_dev_config_read(f->d, 0, 8), DISK_SIZE / 512);
	virtio_dev_set_status(f->d, 0);          /* again: still pending */
	assert_int_equal(virtio_dev_status(f->d), up);
	deliver_all(f);
	assert_false(virtio_dev_reset_pending(f->d));
	assert_int_equal(virtio_dev_status(f->d), 0);
	assert_untouched(f, 8);
	assert_int_equal(f->irqs.used, 0);
	/* Back up again: the device works after the reset. */
	tv_clear_rings(&f->vm);
	f->tq = (struct tv_queue){ 0 };
	tv_bring_up(f->d, 1, 0);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), 0);
}

/* Without anything in flight the reset is complete when the write
 * returns, as before. */
static void test_reset_idle(void **state)
{
	struct fix *f = *state;

	open_dev(f, false, false, 1, NULL);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), 0);
	virtio_dev_set_status(f->d, 0);
	assert_false(virtio_dev_reset_pending(f->d));
	assert_int_equal(virtio_dev_status(f->d), 0);
}

/* Teardown with requests in flight: the synchronous reset completes them
 * on the calling thread (the loop is not run). */
static void test_reset_sync_drains(void **state)
{
	struct fix *f = *state;

	open_dev(f, false, false, 1, NULL);
	submit_writes(f, 4);
	virtio_dev_reset_sync(f->d);
	assert_int_equal(blk_backend_inflight(f->blk->be), 0);
	assert_int_equal(virtio_dev_status(f->d), 0);
	assert_untouched(f, 4);
}

/* QueueReady 0 then 1 (a new ring) with requests in flight: their
 * completions are stale and never touch the new ring (they used to be
 * pushed into it, which broke it: "pushed more than popped"). */
static void test_queue_reenable_inflight(void **state)
{
	struct fix *f = *state;

	open_dev(f, false, false, 1, NULL);
	submit_writes(f, 8);
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_READY, 0);
	assert_int_equal(virtio_queue_read(f->d, 0, VIRTIO_QUEUE_READY), 0);
	tv_clear_rings(&f->vm);
	f->tq = (struct tv_queue){ 0 };
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_READY, 1);
	assert_int_equal(virtio_queue_read(f->d, 0, VIRTIO_QUEUE_READY), 1);
	deliver_all(f);
	assert_untouched(f, 8);
	assert_false(virtio_dev_vq(f->d, 0)->broken);
	assert_false(virtio_dev_status(f->d) & VIRTIO_STATUS_NEEDS_RESET);
	/* The new ring works. */
	assert_int_equal(run_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 1);
}

/* A transport that counts requeue requests and says yes; the test plays
 * the event loop by calling notify again. */
static unsigned requeues;

static bool count_requeue(struct virtio_dev *d, unsigned q)
{
	requeues++;
	return true;
}

#define BIG_QSIZE	256

/* Queue 0 with 256 entries (tv_bring_up makes 64), indirect tables. */
static void big_queue_up(struct fix *f)
{
	struct virtio_transport t = { .notify_used = tv_used,
				      .notify_config = tv_config,
				      .requeue = count_requeue,
				      .ctx = &f->irqs };
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	struct virtio_blk_params p = { .path = f->path, .nr_queues = 1 };

	f->blk = virtio_blk_new(&p, &f->vm.mem, f->loop);
	assert_non_null(f->blk);
	f->d = virtio_blk_vdev(f->blk);
	virtio_dev_attach(f->d, &t);
	virtio_dev_set_status(f->d, s);
	virtio_dev_set_driver_features(f->d, 0,
				       VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC));
	virtio_dev_set_driver_features(f->d, 1, 1);         /* VERSION_1 */
	virtio_dev_set_status(f->d, s | VIRTIO_STATUS_FEATURES_OK);
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_SIZE, BIG_QSIZE);
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_DESC, RING_DESC);
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_AVAIL, RING_AVAIL);
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_USED, RING_USED);
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_READY, 1);
	virtio_dev_set_status(f->d, s | VIRTIO_STATUS_FEATURES_OK |
			      VIRTIO_STATUS_DRIVER_OK);
	assert_true(virtio_dev_running(f->d));
}

/* n GET_ID requests (completed without the backend), each a header and
 * a 21-byte writable buffer (20 bytes of id, the status). */
static void post_get_ids(struct fix *f, unsigned n)
{
	struct fake_vm *vm = &f->vm;

	vm->size = BIG_QSIZE;
	put_hdr(f, 0, VIRTIO_BLK_T_GET_ID, 0);
	for (unsigned i = 0; i < n; i++) {
		set_desc(vm, 2 * i, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 2 * i + 1);
		set_desc(vm, 2 * i + 1, DATA_GPA + 32 * i, 21,
			 VIRTQ_DESC_F_WRITE, 0);
		avail_add(vm, (uint16_t)(2 * i));
	}
}

/* A guest that keeps its queue full cannot hold the event loop: a kick
 * handles BLK_NOTIFY_BUDGET chains, then asks to be run again; every
 * chain is completed in the end. */
static void test_notify_budget(void **state)
{
	struct fix *f = *state;
	unsigned rounds = 1, n = 3 * BLK_NOTIFY_BUDGET + 5;

	big_queue_up(f);
	post_get_ids(f, n);
	requeues = 0;
	virtio_queue_notify(f->d, 0);
	assert_int_equal(get_used_idx(&f->vm), BLK_NOTIFY_BUDGET);
	assert_int_equal(requeues, 1);
	while (requeues == rounds && rounds < 10) {
		rounds++;
		virtio_queue_notify(f->d, 0);
	}
	assert_int_equal(rounds, 4);
	assert_int_equal(requeues, 3);
	assert_int_equal(get_used_idx(&f->vm), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(get_used(&f->vm, i).id, 2 * i);
		assert_string_equal((char *)gpa_host(&f->vm,
						     DATA_GPA + 32 * i),
				    f->blk->serial);
		assert_int_equal(*(uint8_t *)gpa_host(&f->vm, DATA_GPA +
						      32 * i + 20),
				 VIRTIO_BLK_S_OK);
	}
}

/* A round in which the device stops running (NEEDS_RESET, or a reset from
 * a vCPU) with chains still on the ring ends: it used to go round for
 * ever, holding the queue lock the reset then waited for (found by
 * tests/fuzz, target devices). alarm() turns the old hang into a failure. */
static void test_notify_stops_when_not_running(void **state)
{
	struct fix *f = *state;

	big_queue_up(f);
	post_get_ids(f, 3);
	virtio_dev_needs_reset(f->d, 0);
	assert_false(virtio_dev_running(f->d));
	alarm(20);
	blk_queue_notify(f->d, 0);
	alarm(0);
	assert_int_equal(get_used_idx(&f->vm), 0);
}

/* The same for a pause (the control socket's, virtio/quiesce.c) that
 * comes while a round runs: pop takes nothing once the flag is set, the
 * chains stay on the ring, and the pause waits for the queue lock the
 * round holds. Resuming runs the queue as if kicked. */
static void test_notify_stops_when_paused(void **state)
{
	struct fix *f = *state;

	big_queue_up(f);
	post_get_ids(f, 3);
	__atomic_store_n(&f->d->quiesced, true, __ATOMIC_SEQ_CST);
	alarm(20);
	blk_queue_notify(f->d, 0);
	alarm(0);
	assert_int_equal(get_used_idx(&f->vm), 0);
	__atomic_store_n(&f->d->quiesced, false, __ATOMIC_SEQ_CST);
	blk_queue_notify(f->d, 0);
	assert_int_equal(get_used_idx(&f->vm), 3);
}

/* Without FLUSH negotiated the disk is write-through (FUA writes). */
/* The flags of the write-zeroes request the backend got (its slot keeps
 * them once done; the slot is marked read, so that the next call finds
 * the next one). */
static unsigned last_dwz_flags(struct fix *f)
{
	struct blk_queue *q = &f->blk->queues[0];

	for (unsigned i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		if (q->reqs[i].io.op == BLK_OP_WRITE_ZEROES) {
			q->reqs[i].io.op = BLK_OP_READ;
			return q->reqs[i].io.flags;
		}
	fail_msg("no write-zeroes request");
	return 0;
}

static void test_no_flush_feature(void **state)
{
	struct fix *f = *state;
	struct virtio_blk_params p = { .path = f->path, .nr_queues = 1 };
	uint8_t w[512];

	f->blk = virtio_blk_new(&p, &f->vm.mem, f->loop);
	f->d = virtio_blk_vdev(f->blk);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, 1, VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	assert_false(virtio_dev_has_feature(f->d, VIRTIO_BLK_F_FLUSH));
	pattern(w, sizeof(w), 13);
	assert_int_equal(blk_write(f, 1, w, sizeof(w)), 0);
	assert_file(f, 512, w, sizeof(w));
	/* write-zeroes goes to the backend as FUA too (its final sync),
	 * with or without unmap (the segments' flag wiped it before) */
	for (unsigned unmap = 0; unmap < 2; unmap++) {
		assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 8, 2,
				     unmap ? VIRTIO_BLK_WZ_F_UNMAP : 0), 0);
		assert_true(last_dwz_flags(f) & BLK_IO_FUA);
	}
}

/* O_DIRECT when the host file system allows it; a misaligned guest
 * buffer goes through a bounce buffer. */
static void test_direct_io(void **state)
{
	struct fix *f = *state;
	struct virtio_blk_params p = { .path = f->path, .direct = true,
				       .nr_queues = 1 };
	uint8_t w[4096], r[4096];
	uint32_t bs;
	int fd = open(f->path, O_RDWR | O_DIRECT);

	if (fd < 0) {
		/* e.g. tmpfs without O_DIRECT */
		print_message("SKIP: %s cannot be opened with O_DIRECT: %s\n",
			      f->path, strerror(errno));
		skip();
		return;
	}
	close(fd);
	f->blk = virtio_blk_new(&p, &f->vm.mem, f->loop);
	assert_non_null(f->blk);
	f->d = virtio_blk_vdev(f->blk);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, 1, 0);
	bs = cfg32(f, offsetof(struct virtio_blk_config, blk_size));
	assert_true(bs == 512 || bs == 4096);
	pattern(w, sizeof(w), 17);
	memcpy(gpa_host(&f->vm, DATA_GPA + 3), w, sizeof(w));
	assert_int_equal(run_req(f, VIRTIO_BLK_T_OUT, 8, DATA_GPA + 3,
				 sizeof(w), false), 0);
	assert_int_equal(run_req(f, VIRTIO_BLK_T_IN, 8, DATA_GPA + 0x8001,
				 sizeof(r), true), 0);
	memcpy(r, gpa_host(&f->vm, DATA_GPA + 0x8001), sizeof(r));
	assert_memory_equal(r, w, sizeof(w));
	assert_file(f, 8 * 512, w, sizeof(w));
}

static void test_engine_used(void **state)
{
	struct fix *f = *state;

	open_dev(f, false, false, 1, NULL);
	/* The forced engine is the one in use (uring may be unavailable
	 * only if the kernel refuses it; then open_dev would have failed). */
	assert_int_equal(run_req(f, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false), 0);
}

/* Play the event loop for the requeue transport: run the handler again
 * for each requeue asked since *handled. */
static void run_requeued(struct fix *f, unsigned *handled)
{
	while (*handled < requeues) {
		(*handled)++;
		virtio_queue_notify(f->d, 0);
	}
}

/* Every request slot busy (8 stale requests still out after QueueReady
 * 0/1, 248 new ones): the chain after them waits on the ring, and is
 * taken as soon as a slot comes back, with no new kick from the guest. */
static void test_slots_exhausted(void **state)
{
	struct fix *f = *state;
	struct fake_vm *vm = &f->vm;
	unsigned handled = 0, nw = VIRTIO_BLK_QUEUE_SIZE - 8;
	uint64_t wtable = TABLE_GPA, gtable = TABLE_GPA + 0x100;

	big_queue_up(f);
	requeues = 0;
	/* 8 writes in flight on the first ring, then a fresh ring */
	f->tq.q = 0;
	vm->size = BIG_QSIZE;
	for (unsigned i = 0; i < 8; i++) {
		put_hdr(f, i, VIRTIO_BLK_T_OUT, i);
		set_desc(vm, 3 * i, HDR_GPA + 16 * i, 16, VIRTQ_DESC_F_NEXT,
			 3 * i + 1);
		set_desc(vm, 3 * i + 1, data_gpa(i), 512, VIRTQ_DESC_F_NEXT,
			 3 * i + 2);
		set_desc(vm, 3 * i + 2, STATUS_GPA + i, 1, VIRTQ_DESC_F_WRITE,
			 0);
		avail_add(vm, (uint16_t)(3 * i));
	}
	virtio_queue_notify(f->d, 0);
	assert_int_equal(blk_backend_inflight(f->blk->be), 8);
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_READY, 0);
	tv_clear_rings(vm);
	vm->avail_idx = 0;
	virtio_queue_write(f->d, 0, VIRTIO_QUEUE_READY, 1);
	/* 248 writes and a GET_ID, each one indirect descriptor */
	put_hdr(f, 8, VIRTIO_BLK_T_OUT, 100);
	put_desc(vm, wtable, 0, HDR_GPA + 16 * 8, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(vm, wtable, 1, data_gpa(8), 512, VIRTQ_DESC_F_NEXT, 2);
	put_desc(vm, wtable, 2, STATUS_GPA + 8, 1, VIRTQ_DESC_F_WRITE, 0);
	put_hdr(f, 9, VIRTIO_BLK_T_GET_ID, 0);
	put_desc(vm, gtable, 0, HDR_GPA + 16 * 9, 16, VIRTQ_DESC_F_NEXT, 1);
	put_desc(vm, gtable, 1, DATA_GPA, 21, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i <= nw; i++) {
		set_desc(vm, i, i < nw ? wtable : gtable, 16 * (i < nw ? 3 : 2),
			 VIRTQ_DESC_F_INDIRECT, 0);
		avail_add(vm, (uint16_t)i);
	}
	virtio_queue_notify(f->d, 0);
	run_requeued(f, &handled);
	assert_int_equal(blk_backend_inflight(f->blk->be),
			 VIRTIO_BLK_QUEUE_SIZE);
	assert_int_equal(virtio_dev_vq(f->d, 0)->last_avail_idx, nw);
	assert_int_equal(get_used_idx(vm), 0);
	/* slots come back: the handler is requeued and takes the GET_ID */
	deliver_all(f);
	assert_true(requeues > handled);
	run_requeued(f, &handled);
	assert_int_equal(get_used_idx(vm), nw + 1);
	assert_int_equal(get_used(vm, nw).id, nw);
	assert_string_equal((char *)gpa_host(vm, DATA_GPA), f->blk->serial);
	assert_false(virtio_dev_vq(f->d, 0)->broken);
}

/* --- polling (poll-us) --- */

/* The device asks for kicks (VIRTQ_USED_F_NO_NOTIFY clear, or with
 * EVENT_IDX an avail_event at the current index). */
static bool kicks_wanted(struct fix *f)
{
	return virtio_dev_vq(f->d, f->tq.q)->notify_enabled;
}

/* One GET_ID chain for slot, published on the ring, not kicked. */
static void post_get_id(struct fix *f, unsigned slot)
{
	struct seg s[3] = {
		{ HDR_GPA + 16 * slot, 16, false },
		{ data_gpa(slot), 20, true },
		{ STATUS_GPA + slot, 1, true },
	};

	put_hdr(f, slot, VIRTIO_BLK_T_GET_ID, 0);
	*status_of(f, slot) = 0xee;
	tv_chain(&f->vm, &f->tq, s, 3);
}

/* With poll-us, a kick leaves notifications off (the guest then queues
 * without a VM exit) while the event loop polls; a chain queued without a
 * kick meanwhile is served, and notifications are back on when polling
 * stops. Without polling, such a chain waits for a kick. */
static void test_poll(void **state)
{
	struct fix *f = *state;
	struct virtio_blk_params p = { .path = f->path, .nr_queues = 1,
				       .poll_us = 200 };
	uint8_t buf[4096];

	f->blk = virtio_blk_new(&p, &f->vm.mem, f->loop);
	assert_non_null(f->blk);
	f->d = virtio_blk_vdev(f->blk);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, 1, 0);
	/* a write through the eventfd path and the poll */
	pattern(buf, sizeof(buf), 3);
	assert_int_equal(blk_write(f, 8, buf, sizeof(buf)), VIRTIO_BLK_S_OK);
	post_get_id(f, 1);
	virtio_queue_notify(f->d, 0);
	/* a poll is scheduled: notifications stay off */
	assert_false(kicks_wanted(f));
	post_get_id(f, 2);        /* the guest saw NO_NOTIFY: no kick */
	assert_true(tv_wait_used(f->loop, &f->vm, &f->tq, f->tq.avail_idx));
	assert_int_equal(*status_of(f, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(*status_of(f, 2), VIRTIO_BLK_S_OK);
	/* polling ends when nothing comes for poll-us: run the loop until
	 * no call is left (bounded), then notifications are on again */
	for (int i = 0; i < 100 && (f->blk->poll_pending || f->blk->in_poll);
	     i++)
		event_loop_poll(f->loop, 10);
	assert_false(f->blk->poll_pending);
	assert_true(kicks_wanted(f));
	assert_file(f, 8 * 512, buf, sizeof(buf));
}

static void test_no_poll(void **state)
{
	struct fix *f = *state;
	uint16_t before;

	open_dev(f, false, false, 1, NULL);
	assert_int_equal(f->blk->poll_ns, 0);
	post_get_id(f, 1);
	virtio_queue_notify(f->d, 0);
	assert_true(kicks_wanted(f));
	before = f->tq.avail_idx;
	post_get_id(f, 2);        /* not kicked: stays on the ring */
	for (int i = 0; i < 5; i++)
		event_loop_poll(f->loop, 10);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), before);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), f->tq.avail_idx);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_config),
	T(test_write_read_flush),
	T(test_scatter_gather),
	T(test_get_id),
	T(test_get_id_stable),
	T(test_write_zeroes),
	T(test_discard),
	T(test_read_only),
	T(test_multiqueue),
	T(test_threads_limit),
	T(test_reset_async),
	T(test_reset_idle),
	T(test_reset_sync_drains),
	T(test_queue_reenable_inflight),
	T(test_notify_budget),
	T(test_notify_stops_when_not_running),
	T(test_notify_stops_when_paused),
	T(test_slots_exhausted),
	T(test_no_flush_feature),
	T(test_direct_io),
	T(test_engine_used),
	T(test_poll),
	T(test_no_poll),
};

/* io_uring may be refused by the kernel (seccomp, io_uring_disabled) or
 * missing from the link: then only the sync engine can be tested. */
static bool uring_works(void)
{
	char path[] = "/tmp/cvisor-blk-probe-XXXXXX";
	int fd = mkstemp(path);
	struct blk_backend *b;

	if (fd < 0 || ftruncate(fd, 4096))
		return false;
	setenv("CVISOR_BLOCK_ENGINE", "uring", 1);
	b = blk_backend_open(path, false, false, 1, NULL);
	blk_backend_close(b);
	close(fd);
	unlink(path);
	return b != NULL;
}

int main(void)
{
	int rc;

	engine = "sync";
	rc = cmocka_run_group_tests_name("virtio_blk_sync", tests, NULL, NULL);
	if (!uring_works()) {
		printf("io_uring engine unavailable: its tests are skipped\n");
		return rc;
	}
	engine = "uring";
	rc |= cmocka_run_group_tests_name("virtio_blk_uring", tests, NULL,
					  NULL);
	return rc;
}
