/* virtio-blk workloads for crash consistency and backend faults:
 *
 * blk-crash: generations of patterned 4 KiB writes, each generation made
 * durable by a FLUSH; a `FLUSHED gen=N` line goes to COM1 only after that
 * FLUSH completed, so whatever the host sees on the console is a promise
 * the disk must keep even if cvisor is killed right after
 * (tests/integration/crash_check.py checks the image).
 *
 * blk-fault: blk-verify's pattern written in phases, with the host
 * breaking the backing file between phases (COM1 handshake); counts which
 * requests ended in IOERR and reads everything back: a block whose last
 * write completed OK must read back intact, and the device must still
 * answer.
 */
#include "blk.h"

#define CRASH_SECTORS 8                    /* one 4 KiB block per slot */
#define CRASH_BS (CRASH_SECTORS * 512)
#define CRASH_MAGIC 0x3148534152435643ull  /* "CVCRASH1" */
#define FNV_BASIS 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define CRASH_MAX_BATCH 64

/* One sector of generation gen: magic, sector, gen, seed, 59 payload
 * words, and an FNV-1a checksum of the 63 words before it. */
static void crash_sector(u64 *w, u64 sector, u64 gen, u64 seed)
{
	u64 h = FNV_BASIS;

	w[0] = CRASH_MAGIC;
	w[1] = sector;
	w[2] = gen;
	w[3] = seed;
	for (u32 i = 4; i < 63; i++)
		w[i] = sector ^ (gen << 32) ^ seed ^ (i * GOLDEN);
	for (u32 i = 0; i < 63; i++)
		h = (h ^ w[i]) * FNV_PRIME;
	w[63] = h;
}

/* Waits for one completion; its slot, or -1 at the deadline. */
static int blk_wait(struct blk *b, u64 deadline)
{
	int s;

	while ((s = blk_reap(b)) < 0) {
		if (rdtsc() > deadline)
			return -1;
		cpu_relax();
	}
	return s;
}

struct crash {
	struct blk b;
	u64 seed, blocks, batch;
};

/* Generation g (from 1) writes slots (g - 1) * batch + j mod blocks,
 * j < batch, on request slots 0..batch-1. Not kicked. */
static void crash_submit_gen(struct crash *c, u64 g)
{
	for (u64 j = 0; j < c->batch; j++) {
		u64 sec = ((g - 1) * c->batch + j) % c->blocks * CRASH_SECTORS;
		u64 *w = phys(c->b.slot[j].buf);

		for (u32 s = 0; s < CRASH_SECTORS; s++)
			crash_sector(w + s * 64, sec + s, g, c->seed);
		blk_submit(&c->b, (u32)j, BLK_T_OUT, sec, c->b.slot[j].buf,
			   CRASH_BS);
	}
}

/* Reaps n completions; on FLUSH completion (slot `batch`) prints the
 * promise. false on an error status or a timeout. */
static bool crash_reap(struct crash *c, u64 n, u64 gen, u64 timeout)
{
	while (n--) {
		int s = blk_wait(&c->b, rdtsc() + timeout);

		if (s < 0) {
			printf("blk-crash: gen %lu: request timed out\n", gen);
			return false;
		}
		if (c->b.slot[s].status != BLK_S_OK) {
			printf("blk-crash: gen %lu: %s status %u\n", gen,
			       (u64)s == c->batch ? "flush" : "write",
			       c->b.slot[s].status);
			return false;
		}
		if ((u64)s == c->batch)
			printf("FLUSHED gen=%lu\n", gen);
	}
	return true;
}

int wl_blk_crash(void)
{
	struct crash c;
	u64 rounds = param_u64("rounds", 100);
	u64 timeout = ms_to_tsc(param_u64("timeout_ms", 30000));

	c.seed = param_u64("seed", 1);
	c.blocks = param_u64("blocks", 64);
	c.batch = param_u64("batch", 8);
	if (!c.batch || c.batch > CRASH_MAX_BATCH || c.batch > c.blocks) {
		printf("blk-crash: need 1 <= batch <= min(blocks, %u)\n",
		       CRASH_MAX_BATCH);
		return 2;
	}
	if (blk_open(&c.b) < 0)
		return 1;
	if (c.blocks > c.b.capacity / CRASH_SECTORS ||
	    !(c.b.d.features & VIRTIO_BLK_F_FLUSH) ||
	    (c.b.d.features & VIRTIO_BLK_F_RO)) {
		printf("blk-crash: needs a writable disk with FLUSH and "
		       "%lu KiB\n", c.blocks * 4);
		return 2;
	}
	/* batch write slots + one for the FLUSH */
	if (blk_slots(&c.b, (u32)c.batch + 1, CRASH_BS) != c.batch + 1)
		return 1;
	printf("blk-crash: seed=0x%lx blocks=%lu batch=%lu rounds=%lu\n",
	       c.seed, c.blocks, c.batch, rounds);

	/* FLUSH g goes out together with generation g + 1's writes: it
	 * covers generations <= g only (those completed before it was
	 * sent), and the host must not assume more. */
	crash_submit_gen(&c, 1);
	virtq_kick(&c.b.q);
	bool ok = crash_reap(&c, c.batch, 1, timeout);
	u64 g;
	for (g = 1; ok && (!rounds || g <= rounds); g++) {
		bool more = !rounds || g < rounds;

		blk_submit(&c.b, (u32)c.batch, BLK_T_FLUSH, 0, 0, 0);
		if (more)
			crash_submit_gen(&c, g + 1);
		virtq_kick(&c.b.q);
		ok = crash_reap(&c, 1 + (more ? c.batch : 0), g, timeout);
	}
	printf("RESULT blk-crash gens=%lu blocks=%lu batch=%lu ok=%d\n",
	       g - 1, c.blocks, c.batch, ok);
	virtio_reset(&c.b.d);
	return ok ? 0 : 1;
}

/* ---- blk-fault ---- */

struct fault_count {
	u64 ok, ioerr, other;
};

static void count(struct fault_count *fc, int st)
{
	if (st == BLK_S_OK)
		fc->ok++;
	else if (st == BLK_S_IOERR)
		fc->ioerr++;
	else
		fc->other++;
}

/* Waits for one byte on COM1 (the host's go-ahead). */
static bool wait_com1(u64 timeout_ms)
{
	u64 end = rdtsc() + ms_to_tsc(timeout_ms);

	while (rdtsc() < end)
		if (svc(SVC_GETC, 1000, 0, 0) >= 0)
			return true;
	return false;
}

static void fault_phase(struct blk *b, u64 p, u64 n, u64 seed, u64 flushes,
			u8 *last, struct fault_count *w, struct fault_count *f)
{
	u64 *wbuf = phys(b->slot[0].buf);
	struct fault_count pw = { 0 }, pf = { 0 };

	for (u64 i = 0; i < n; i++) {
		u64 sec = verify_pos(b->capacity, i, n);
		fill_pattern(wbuf, sec, seed + p, VERIFY_SECTORS);
		int st = blk_io(b, BLK_T_OUT, sec, b->slot[0].buf, CRASH_BS);
		count(&pw, st);
		/* A failed write leaves the block undefined (virtio 5.2.6). */
		last[i] = st == BLK_S_OK ? (u8)(p + 1) : 0;
	}
	for (u64 i = 0; i < flushes; i++)
		count(&pf, blk_io(b, BLK_T_FLUSH, 0, 0, 0));
	printf("blk-fault: phase=%lu written=%lu ioerr=%lu other=%lu "
	       "flush_ok=%lu flush_err=%lu\n", p, pw.ok, pw.ioerr, pw.other,
	       pf.ok, pf.ioerr + pf.other);
	w->ok += pw.ok;
	w->ioerr += pw.ioerr;
	w->other += pw.other;
	f->ok += pf.ok;
	f->ioerr += pf.ioerr;
	f->other += pf.other;
}

int wl_blk_fault(void)
{
	struct blk b;
	u64 n = param_u64("blocks", 16), seed = param_u64("seed", 0xC0FFEE);
	u64 phases = param_u64("phases", 1), flushes = param_u64("flushes", 1);
	u64 wait_ms = param_u64("timeout_ms", 30000);
	struct fault_count w = { 0 }, f = { 0 }, r = { 0 };
	u64 mismatch = 0;

	if (!n || n > 4096 || !phases || phases > 200 || flushes > 100) {
		printf("blk-fault: need 1 <= blocks <= 4096, 1 <= phases <= "
		       "200, flushes <= 100\n");
		return 2;
	}
	if (blk_open(&b) < 0)
		return 1;
	if (b.capacity / VERIFY_SECTORS < n || !blk_slots(&b, 1, CRASH_BS))
		return 2;
	u8 *last = heap_alloc(n, 8);
	u64 *want = heap_alloc(CRASH_BS, 4096);
	if (!last || !want)
		return 1;
	for (u64 p = 0; p < phases; p++) {
		fault_phase(&b, p, n, seed, flushes, last, &w, &f);
		if (p + 1 == phases)
			break;
		printf("blk-fault: waiting for a byte on COM1\n");
		if (!wait_com1(wait_ms)) {
			printf("blk-fault: no byte on COM1 in %lu ms\n", wait_ms);
			return 1;
		}
	}
	u64 *rbuf = phys(b.slot[0].buf);
	for (u64 i = 0; i < n; i++) {
		u64 sec = verify_pos(b.capacity, i, n);
		memset(rbuf, 0, CRASH_BS);
		int st = blk_io(&b, BLK_T_IN, sec, b.slot[0].buf, CRASH_BS);
		count(&r, st);
		if (st != BLK_S_OK || !last[i])
			continue;
		fill_pattern(want, sec, seed + last[i] - 1, VERIFY_SECTORS);
		if (memcmp(want, rbuf, CRASH_BS)) {
			printf("blk-fault: block at sector %lu lost its phase "
			       "%u write\n", sec, last[i] - 1);
			mismatch++;
		}
	}
	u8 status = virtio_status(&b.d);
	bool ok = !mismatch && !w.other && !f.other && !r.other &&
		  !(status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
	printf("RESULT blk-fault phases=%lu written=%lu ioerr=%lu flush_ok=%lu "
	       "flush_err=%lu read_ok=%lu read_err=%lu mismatch=%lu "
	       "status=0x%x ok=%d\n", phases, w.ok, w.ioerr, f.ok, f.ioerr,
	       r.ok, r.ioerr, mismatch, status, ok);
	virtio_reset(&b.d);
	return ok ? 0 : 1;
}
