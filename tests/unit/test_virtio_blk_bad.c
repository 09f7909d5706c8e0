/* virtio-blk against a hostile driver: every malformed request gets
 * IOERR (or UNSUPP where the spec says so), never a crash, and the queue
 * keeps working afterwards. Sync engine: parsing does not depend on it. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "test_vdev_helpers.h"
#include "virtio/blk.h"

#define DISK_SECTORS	2048
#define HDR		(BUF_GPA)
#define STATUS		(BUF_GPA + 0x1000)
#define DATA		(BUF_GPA + 0x10000)

struct fix {
	struct fake_vm vm;
	struct event_loop *loop;
	struct virtio_blk *blk;
	struct virtio_dev *d;
	struct irq_count irqs;
	struct tv_queue tq;
	char path[64];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct virtio_blk_params p = { .nr_queues = 1 };
	int fd;

	setenv("CVISOR_BLOCK_ENGINE", "sync", 1);
	fake_vm_init(&f->vm, TEST_QSIZE);
	f->loop = event_loop_new();
	snprintf(f->path, sizeof(f->path), "/tmp/cvisor-blkbad-XXXXXX");
	fd = mkstemp(f->path);
	assert_int_equal(ftruncate(fd, DISK_SECTORS * 512), 0);
	close(fd);
	p.path = f->path;
	f->blk = virtio_blk_new(&p, &f->vm.mem, f->loop);
	assert_non_null(f->blk);
	f->d = virtio_blk_vdev(f->blk);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, 1, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	/* whatever happened, the device never asked for a reset */
	assert_false(virtio_dev_status(f->d) & VIRTIO_STATUS_NEEDS_RESET);
	virtio_blk_free(f->blk);
	event_loop_free(f->loop);
	fake_vm_free(&f->vm);
	unlink(f->path);
	free(f);
	return 0;
}

static void hdr(struct fix *f, uint32_t type, uint64_t sector)
{
	uint8_t *h = gpa_host(&f->vm, HDR);
	uint32_t t = htole32(type), z = 0;
	uint64_t s = htole64(sector);

	memcpy(h, &t, 4);
	memcpy(h + 4, &z, 4);
	memcpy(h + 8, &s, 8);
}

/* Run one chain; returns the status byte (0xee: untouched). */
static uint8_t run(struct fix *f, const struct seg *s, unsigned n)
{
	*(uint8_t *)gpa_host(&f->vm, STATUS) = 0xee;
	tv_chain(&f->vm, &f->tq, s, n);
	virtio_queue_notify(f->d, 0);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->tq, f->tq.avail_idx));
	return *(uint8_t *)gpa_host(&f->vm, STATUS);
}

static uint8_t rw(struct fix *f, uint32_t type, uint64_t sector,
		  uint32_t len)
{
	struct seg s[3] = {
		{ HDR, 16, false },
		{ DATA, len, type == VIRTIO_BLK_T_IN },
		{ STATUS, 1, true },
	};

	hdr(f, type, sector);
	return run(f, s, 3);
}

static void still_works(struct fix *f)
{
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
}

static void test_short_header(void **state)
{
	struct fix *f = *state;
	struct seg s[2] = { { HDR, 8, false }, { STATUS, 1, true } };

	hdr(f, VIRTIO_BLK_T_IN, 0);
	assert_int_equal(run(f, s, 2), VIRTIO_BLK_S_IOERR);
	/* no readable part at all */
	assert_int_equal(run(f, s + 1, 1), VIRTIO_BLK_S_IOERR);
	still_works(f);
}

static void test_no_status_byte(void **state)
{
	struct fix *f = *state;
	struct seg s[2] = { { HDR, 16, false }, { STATUS, 1, false } };

	/* status not writable: nowhere to report; used len 0 */
	hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	assert_int_equal(run(f, s, 2), 0xee);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 0).len, 0);
	assert_int_equal(run(f, s, 1), 0xee);
	still_works(f);
}

static void test_beyond_capacity(void **state)
{
	struct fix *f = *state;

	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, 1024),
			 VIRTIO_BLK_S_IOERR);
	/* sector * 512 and sector + n wrap around 2^64 */
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, UINT64_MAX, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512),
			 VIRTIO_BLK_S_OK);
	still_works(f);
}

static void test_len_not_sector_multiple(void **state)
{
	struct fix *f = *state;

	assert_int_equal(rw(f, VIRTIO_BLK_T_IN, 0, 100), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rw(f, VIRTIO_BLK_T_OUT, 0, 513), VIRTIO_BLK_S_IOERR);
	still_works(f);
}

static void test_unknown_type(void **state)
{
	struct fix *f = *state;
	struct seg s[2] = { { HDR, 16, false }, { STATUS, 1, true } };

	hdr(f, 0x7777, 0);
	assert_int_equal(run(f, s, 2), VIRTIO_BLK_S_UNSUPP);
	hdr(f, 10 /* GET_LIFETIME */, 0);
	assert_int_equal(run(f, s, 2), VIRTIO_BLK_S_UNSUPP);
	still_works(f);
}

static uint8_t dwz(struct fix *f, uint32_t type, unsigned nseg,
		   uint32_t seg_bytes, uint64_t sector, uint32_t nr,
		   uint32_t flags)
{
	uint8_t *p = gpa_host(&f->vm, DATA);
	struct seg s[3] = {
		{ HDR, 16, false },
		{ DATA, nseg * 16 + seg_bytes, false },
		{ STATUS, 1, true },
	};

	for (unsigned i = 0; i < nseg; i++) {
		uint64_t sec = htole64(sector);
		uint32_t n = htole32(nr), fl = htole32(flags);

		memcpy(p + 16 * i, &sec, 8);
		memcpy(p + 16 * i + 8, &n, 4);
		memcpy(p + 16 * i + 12, &fl, 4);
	}
	hdr(f, type, 0);
	return run(f, s, 3);
}

static void test_discard_segments(void **state)
{
	struct fix *f = *state;
	uint32_t T_D = VIRTIO_BLK_T_DISCARD, T_Z = VIRTIO_BLK_T_WRITE_ZEROES;

	assert_int_equal(dwz(f, T_D, 1, 0, 0, 8, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(dwz(f, T_D, VIRTIO_BLK_MAX_DWZ_SEG + 1, 0, 0, 8, 0),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, T_Z, VIRTIO_BLK_MAX_DWZ_SEG + 1, 0, 0, 8, 0),
			 VIRTIO_BLK_S_IOERR);
	/* not a whole number of 16-byte segments */
	assert_int_equal(dwz(f, T_D, 1, 4, 0, 8, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, T_D, 0, 0, 0, 8, 0), VIRTIO_BLK_S_IOERR);
	/* ranges outside the disk, wrapping, empty, too long */
	assert_int_equal(dwz(f, T_D, 1, 0, DISK_SECTORS - 4, 8, 0),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, T_Z, 1, 0, UINT64_MAX - 2, 8, 0),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, T_Z, 1, 0, 0, 0, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, T_Z, 1, 0, 0,
			     VIRTIO_BLK_MAX_DWZ_SECTORS + 1, 0),
			 VIRTIO_BLK_S_IOERR);
	/* spec: unmap on discard, or unknown flags, are unsupported */
	assert_int_equal(dwz(f, T_D, 1, 0, 0, 8, VIRTIO_BLK_WZ_F_UNMAP),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(f, T_Z, 1, 0, 0, 8, 0x2), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(f, T_Z, 1, 0, 0, 8, VIRTIO_BLK_WZ_F_UNMAP),
			 VIRTIO_BLK_S_OK);
	still_works(f);
}

static void test_too_long(void **state)
{
	struct fix *f = *state;
	struct seg s[3] = {
		{ HDR, 16, false },
		{ RAM_GPA, (uint32_t)RAM_SIZE, false },   /* 4 MiB: fine */
		{ STATUS, 1, true },
	};

	hdr(f, VIRTIO_BLK_T_OUT, 0);
	/* longer than the disk */
	assert_int_equal(run(f, s, 3), VIRTIO_BLK_S_IOERR);
	still_works(f);
}

/* Header and status in one writable... and data with the status in the
 * same descriptor as the data: the status is the last byte either way. */
static void test_status_inside_data(void **state)
{
	struct fix *f = *state;
	struct seg s[2] = { { HDR, 16, false }, { DATA, 513, true } };

	hdr(f, VIRTIO_BLK_T_IN, 0);
	*(uint8_t *)gpa_host(&f->vm, DATA + 512) = 0xee;
	tv_chain(&f->vm, &f->tq, s, 2);
	virtio_queue_notify(f->d, 0);
	assert_true(tv_wait_used(f->loop, &f->vm, &f->tq, 1));
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, DATA + 512),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 0).len, 513);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_short_header),
		T(test_no_status_byte),
		T(test_beyond_capacity),
		T(test_len_not_sector_multiple),
		T(test_unknown_type),
		T(test_discard_segments),
		T(test_too_long),
		T(test_status_inside_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
