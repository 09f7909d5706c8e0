/* scsi-verify: the blk-verify of the LSI 53C895A (through lsi.c): TEST
 * UNIT READY (a unit attention is fine), INQUIRY, READ CAPACITY, REPORT
 * LUNS, MODE SENSE, then blk-verify's pattern written across the disk
 * with WRITE(10) and WRITE(16), SYNCHRONIZE CACHE, read back with
 * READ(10)/READ(16) and compared; an LBA past the end and an unknown
 * opcode must give CHECK CONDITION with the right sense. Parameters:
 * target=N lun=N blocks=N seed=N, cdrom=N (a CD-ROM target to read).
 * The image is what tests/integration/blk_check.py checks. */
#include "blk.h"
#include "lsi.h"

struct scsi_dev {
	struct lsi_hba h;
	u32 target, lun;
	u8 *buf;                      /* 4 KiB scratch for small answers */
};

static int cmd(struct scsi_dev *d, const u8 *cdb, u32 n, void *buf, u32 len,
	       bool write)
{
	u8 st = 0xff;
	int r = lsi_cmd(&d->h, d->target, d->lun, cdb, n, (u64)buf, len,
			write, &st);

	return r == LSI_OK ? st : r;
}

/* REQUEST SENSE: key << 16 | asc << 8 | ascq, or -1. */
static int sense(struct scsi_dev *d)
{
	u8 cdb[6] = { 0x03, 0, 0, 0, 18, 0 };

	memset(d->buf, 0, 18);
	if (cmd(d, cdb, 6, d->buf, 18, false) != 0)
		return -1;
	return (d->buf[2] & 0xf) << 16 | d->buf[12] << 8 | d->buf[13];
}

static void put32be(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

static u32 get32be(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* READ/WRITE of nsec 512-byte sectors, (10) or (16). */
static int rw(struct scsi_dev *d, bool write, bool sixteen, u64 lba,
	      u32 nsec, void *buf)
{
	u8 c[16] = { 0 };

	if (sixteen) {
		c[0] = write ? 0x8a : 0x88;
		put32be(c + 2, (u32)(lba >> 32));
		put32be(c + 6, (u32)lba);
		put32be(c + 10, nsec);
		return cmd(d, c, 16, buf, nsec * 512, write);
	}
	c[0] = write ? 0x2a : 0x28;
	put32be(c + 2, (u32)lba);
	c[7] = (u8)(nsec >> 8);
	c[8] = (u8)nsec;
	return cmd(d, c, 10, buf, nsec * 512, write);
}

static int scsi_open(struct scsi_dev *d)
{
	if (lsi_open(&d->h))
		return -1;
	d->target = (u32)param_u64("target", 0);
	d->lun = (u32)param_u64("lun", 0);
	d->buf = heap_alloc(4096, 4096);
	return d->buf ? 0 : -1;
}

/* TUR until ready: a target may report a unit attention first. */
static bool ready(struct scsi_dev *d)
{
	static const u8 tur[6] = { 0 };

	for (int i = 0; i < 4; i++) {
		int st = cmd(d, tur, 6, 0, 0, false);

		if (st == 0)
			return true;
		if (st < 0) {
			printf("scsi-verify: target %u: %s\n", d->target,
			       st == LSI_NO_TARGET ? "no such target" :
			       "controller error");
			return false;
		}
		printf("scsi-verify: test unit ready status=%d sense=%06x\n",
		       st, sense(d));
	}
	return false;
}

/* INQUIRY, READ CAPACITY(10); the capacity in sectors, 0 on failure. */
static u64 identify(struct scsi_dev *d, u32 *type, u32 *bsize)
{
	u8 inq[6] = { 0x12, 0, 0, 0, 36, 0 }, cap[10] = { 0x25 };
	char vendor[9] = { 0 }, product[17] = { 0 };

	if (cmd(d, inq, 6, d->buf, 36, false) != 0)
		return 0;
	*type = d->buf[0] & 0x1f;
	memcpy(vendor, d->buf + 8, 8);
	memcpy(product, d->buf + 16, 16);
	printf("scsi-verify: inquiry type=%u vendor='%s' product='%s'\n",
	       *type, vendor, product);
	if (cmd(d, cap, 10, d->buf, 8, false) != 0)
		return 0;
	*bsize = get32be(d->buf + 4);
	return (u64)get32be(d->buf) + 1;
}

/* CHECK CONDITION with sense key/asc for what is not allowed. */
static bool expect_check(struct scsi_dev *d, const u8 *cdb, u32 n, int want,
			 const char *what)
{
	int st = cmd(d, cdb, n, d->buf, 512, false);
	int s = sense(d);

	printf("scsi-verify: %s status=%d sense=%06x\n", what, st, s);
	return st == 2 && (s >> 8) == want;
}

static bool check_cdrom(struct scsi_dev *d, u32 target)
{
	u32 save = d->target, type = 0, bs = 0;
	u64 blocks;
	bool ok;

	d->target = target;
	ok = ready(d);
	blocks = ok ? identify(d, &type, &bs) : 0;
	printf("scsi-verify: cdrom target=%u type=%u blocks=%lu block=%u\n",
	       target, type, blocks, bs);
	ok = ok && type == 5 && bs == 2048 && blocks;
	if (ok) {
		u8 toc[10] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 252, 0 };
		u8 w10[10] = { 0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
		int st = cmd(d, toc, 10, d->buf, 252, false);

		printf("scsi-verify: read toc status=%d tracks=%u-%u\n", st,
		       d->buf[2], d->buf[3]);
		ok = st == 0 && d->buf[2] == 1;
		ok = expect_check(d, w10, 10, 0x0727, "cdrom write") && ok;
	}
	d->target = save;
	return ok;
}

int wl_scsi_verify(void)
{
	struct scsi_dev d;
	u64 n = param_u64("blocks", 16), seed = param_u64("seed", 0xC0FFEE);
	u32 type = 0, bs = 0;
	u64 cap;
	const u32 nb = VERIFY_SECTORS * 512;
	bool ok = true;

	if (scsi_open(&d) || !ready(&d))
		return 1;
	cap = identify(&d, &type, &bs);
	printf("scsi-verify: capacity=%lu block=%u\n", cap, bs);
	if (!cap || bs != 512 || type != 0 || !n ||
	    cap / VERIFY_SECTORS < n) {
		printf("scsi-verify: not a disk of %lu 4 KiB blocks\n", n);
		return 2;
	}
	u8 rl[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	int st = cmd(&d, rl, 12, d.buf, 256, false);
	printf("scsi-verify: report luns status=%d luns=%u\n", st,
	       get32be(d.buf) / 8);
	ok = ok && st == 0 && get32be(d.buf) >= 8;
	u8 ms[6] = { 0x1a, 0, 0x3f, 0, 252, 0 };
	st = cmd(&d, ms, 6, d.buf, 252, false);
	printf("scsi-verify: mode sense status=%d len=%u wp=%u\n", st,
	       d.buf[0] + 1, d.buf[2] >> 7);
	ok = ok && st == 0 && !(d.buf[2] & 0x80);

	u64 *wbuf = heap_alloc(nb, 4096), *rbuf = heap_alloc(nb, 4096);
	if (!wbuf || !rbuf)
		return 1;
	for (u64 i = 0; i < n && ok; i++) {
		u64 sec = verify_pos(cap, i, n);

		fill_pattern(wbuf, sec, seed, VERIFY_SECTORS);
		st = rw(&d, true, i & 1, sec, VERIFY_SECTORS, wbuf);
		if (st != 0) {
			printf("scsi-verify: write at %lu status=%d\n", sec, st);
			ok = false;
		}
	}
	u8 sync[10] = { 0x35 };
	st = cmd(&d, sync, 10, 0, 0, false);
	printf("scsi-verify: synchronize cache status=%d\n", st);
	ok = ok && st == 0;
	for (u64 i = 0; i < n && ok; i++) {
		u64 sec = verify_pos(cap, i, n);

		fill_pattern(wbuf, sec, seed, VERIFY_SECTORS);
		memset(rbuf, 0, nb);
		st = rw(&d, false, !(i & 1), sec, VERIFY_SECTORS, rbuf);
		if (st != 0 || memcmp(wbuf, rbuf, nb)) {
			printf("scsi-verify: read at %lu status=%d differs\n",
			       sec, st);
			ok = false;
		}
	}
	u8 past[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	put32be(past + 2, (u32)cap);
	ok = expect_check(&d, past, 10, 0x0521, "read past the end") && ok;
	u8 bad[6] = { 0x02, 0, 0, 0, 0, 0 };
	ok = expect_check(&d, bad, 6, 0x0520, "opcode 0x02") && ok;
	if (param("cdrom"))
		ok = check_cdrom(&d, (u32)param_u64("cdrom", 2)) && ok;
	printf("RESULT scsi-verify blocks=%lu capacity=%lu ok=%d\n", n, cap,
	       ok);
	return ok ? 0 : 1;
}
