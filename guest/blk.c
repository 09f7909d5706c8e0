/* virtio-blk workloads: blk-verify (patterned writes across the disk,
 * flush, read back, compare; the host checks the image afterwards) and
 * blk-bench (sequential/random reads/writes at a queue depth, timed with
 * the TSC). Everything after discovery runs in ring 3 on guest memory,
 * with one MMIO write per kick.
 */
#include "blk.h"

int blk_open(struct blk *b)
{
	memset(b, 0, sizeof(*b));
	if (virtio_find(&b->d, VIRTIO_ID_BLK) < 0)
		return -1;
	/* indirect=0 keeps to direct chains (to test that path too). */
	u64 want = VIRTIO_BLK_F_SIZE_MAX | VIRTIO_BLK_F_SEG_MAX |
		   VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_RO;
	if (param_u64("indirect", 1))
		want |= VIRTIO_F_INDIRECT_DESC;
	if (virtio_negotiate(&b->d, want) < 0)
		return -1;
	u64 f = b->d.features;
	b->capacity = virtio_cfg_read64(&b->d, 0);
	b->size_max = f & VIRTIO_BLK_F_SIZE_MAX ? virtio_cfg_read(&b->d, 8, 4) : 0;
	b->seg_max = f & VIRTIO_BLK_F_SEG_MAX ? virtio_cfg_read(&b->d, 12, 4) : 0;
	b->blk_size = f & VIRTIO_BLK_F_BLK_SIZE ? virtio_cfg_read(&b->d, 20, 4) : 512;
	b->indirect = f & VIRTIO_F_INDIRECT_DESC;
	if (virtio_queue_setup(&b->d, &b->q, 0, VIRTQ_MAX_SIZE) < 0) {
		printf("blk: queue 0 setup failed\n");
		return -1;
	}
	virtio_driver_ok(&b->d);
	printf("blk: capacity=%lu sectors size_max=%u seg_max=%u blk_size=%u "
	       "queue=%u indirect=%d flush=%d ro=%d\n", b->capacity,
	       b->size_max, b->seg_max, b->blk_size, b->q.size, b->indirect,
	       !!(f & VIRTIO_BLK_F_FLUSH), !!(f & VIRTIO_BLK_F_RO));
	return 0;
}

/* Slots for up to `qd` requests of up to `bs` data bytes each: a request
 * is the header, the data split at size_max, and the status byte. With
 * indirect descriptors each request takes one ring descriptor; without,
 * slot s owns descriptors [s * chain, (s + 1) * chain). Returns the
 * number of slots (≤ qd), 0 if bs cannot be sent at all. */
u32 blk_slots(struct blk *b, u32 qd, u32 bs)
{
	u32 segs = 1;
	if (b->size_max && bs > b->size_max)
		segs = (bs + b->size_max - 1) / b->size_max;
	if (segs > MAX_SEGS || (b->seg_max && segs > b->seg_max)) {
		printf("blk: bs=%u needs %u segments (size_max=%u seg_max=%u)\n",
		       bs, segs, b->size_max, b->seg_max);
		return 0;
	}
	b->chain = segs + 2;
	u32 max = b->indirect ? b->q.size : b->q.size / b->chain;
	if (qd > max) {
		printf("blk: qd=%u exceeds what the queue holds, using %u\n", qd, max);
		qd = max;
	}
	b->nslots = qd;
	b->slot = heap_alloc(sizeof(*b->slot) * qd, 64);
	if (!b->slot)
		return 0;
	for (u32 i = 0; i < qd; i++) {
		if (b->indirect) {
			b->slot[i].table = heap_alloc(16 * b->chain, 16);
			if (!b->slot[i].table)
				return 0;
		}
		b->slot[i].buf = (u64)heap_alloc(bs, 4096);
		if (!b->slot[i].buf) {
			printf("blk: out of memory for %u x %u-byte buffers\n", qd, bs);
			return 0;
		}
	}
	return qd;
}

static u16 slot_head(struct blk *b, u32 s)
{
	return (u16)(b->indirect ? s : s * b->chain);
}

/* Queues request `type` for slot s (not kicked). len 0 = no data. */
void blk_submit(struct blk *b, u32 s, u32 type, u64 sector, u64 buf,
		       u32 len)
{
	struct blk_slot *sl = &b->slot[s];
	struct vbuf v[MAX_SEGS + 2];
	int n = 0;
	bool dev_writes = type == BLK_T_IN || type == BLK_T_GET_ID;

	sl->hdr.type = type;
	sl->hdr.reserved = 0;
	sl->hdr.sector = sector;
	sl->status = BLK_S_NONE;
	sl->busy = true;
	v[n++] = (struct vbuf){ (u64)&sl->hdr, sizeof(sl->hdr), false };
	while (len) {
		u32 seg = b->size_max && len > b->size_max ? b->size_max : len;
		v[n++] = (struct vbuf){ buf, seg, dev_writes };
		buf += seg;
		len -= seg;
	}
	v[n++] = (struct vbuf){ (u64)&sl->status, 1, true };
	sl->t0 = rdtsc();
	virtq_add(&b->q, slot_head(b, s), v, n, sl->table);
}

/* Takes one completion; returns its slot or -1 if none. */
int blk_reap(struct blk *b)
{
	u32 id, len;
	if (!virtq_get(&b->q, &id, &len))
		return -1;
	u32 s = b->indirect ? id : id / b->chain;
	if (s >= b->nslots || !b->slot[s].busy) {
		printf("blk: device returned bad id %u\n", id);
		exit(1);
	}
	b->slot[s].busy = false;
	return (int)s;
}

/* One synchronous request on slot 0; the status byte, or -1 on timeout. */
int blk_io(struct blk *b, u32 type, u64 sector, u64 buf, u32 len)
{
	blk_submit(b, 0, type, sector, buf, len);
	virtq_kick(&b->q);
	u64 end = rdtsc() + ms_to_tsc(30000);
	while (blk_reap(b) < 0) {
		if (rdtsc() > end) {
			printf("blk: request type %u sector %lu timed out\n",
			       type, sector);
			return -1;
		}
		cpu_relax();
	}
	return b->slot[0].status;
}

/* ---- blk-verify ---- */

/* The on-disk pattern (tests/integration/blk_check.py checks it): 64-bit
 * little-endian word i (0..63) of sector s is s ^ seed ^ i * GOLDEN. */
void fill_pattern(u64 *w, u64 sector, u64 seed, u32 nsec)
{
	for (u32 s = 0; s < nsec; s++)
		for (u32 i = 0; i < 64; i++)
			w[s * 64 + i] = (sector + s) ^ seed ^ (i * GOLDEN);
}

/* Position i of n: 4 KiB-aligned blocks spread evenly from the first to
 * the last whole block of the disk. */
u64 verify_pos(u64 capacity, u64 i, u64 n)
{
	u64 nblk = capacity / VERIFY_SECTORS;
	return n < 2 ? 0 : i * (nblk - 1) / (n - 1) * VERIFY_SECTORS;
}

int wl_blk_verify(void)
{
	struct blk b;
	u64 n = param_u64("blocks", 16);
	u64 seed = param_u64("seed", 0xC0FFEE);
	const u32 bs = VERIFY_SECTORS * 512;
	bool ok = true;

	if (blk_open(&b) < 0)
		return 1;
	if (!n || b.capacity / VERIFY_SECTORS < n) {
		printf("blk-verify: %lu blocks do not fit in %lu sectors\n", n,
		       b.capacity);
		return 2;
	}
	if (b.d.features & VIRTIO_BLK_F_RO) {
		printf("blk-verify: the disk is read-only\n");
		return 1;
	}
	if (!blk_slots(&b, 1, bs))
		return 1;
	u64 *wbuf = heap_alloc(bs, 4096), *rbuf = phys(b.slot[0].buf);
	if (!wbuf)
		return 1;

	/* GET_ID: 20 bytes, NUL-padded; unsupported is fine. */
	char id[21] = { 0 };
	int st = blk_io(&b, BLK_T_GET_ID, 0, b.slot[0].buf, 20);
	memcpy(id, rbuf, 20);
	for (int i = 0; i < 20 && id[i]; i++)
		if (id[i] < 0x20 || id[i] > 0x7e)
			id[i] = '?';
	printf("blk-verify: get_id status=%d id='%s'\n", st, id);
	if (st != BLK_S_OK && st != BLK_S_UNSUPP)
		ok = false;

	for (u64 i = 0; i < n && ok; i++) {
		u64 sec = verify_pos(b.capacity, i, n);
		fill_pattern(wbuf, sec, seed, VERIFY_SECTORS);
		st = blk_io(&b, BLK_T_OUT, sec, (u64)wbuf, bs);
		if (st != BLK_S_OK) {
			printf("blk-verify: write sector %lu: status %d\n", sec, st);
			ok = false;
		}
	}
	int flushed = 0;
	if (ok && (b.d.features & VIRTIO_BLK_F_FLUSH)) {
		st = blk_io(&b, BLK_T_FLUSH, 0, 0, 0);
		if (st != BLK_S_OK) {
			printf("blk-verify: flush: status %d\n", st);
			ok = false;
		}
		flushed = 1;
	}
	for (u64 i = 0; i < n && ok; i++) {
		u64 sec = verify_pos(b.capacity, i, n);
		memset(rbuf, 0, bs);
		st = blk_io(&b, BLK_T_IN, sec, (u64)rbuf, bs);
		fill_pattern(wbuf, sec, seed, VERIFY_SECTORS);
		if (st != BLK_S_OK) {
			printf("blk-verify: read sector %lu: status %d\n", sec, st);
			ok = false;
		} else if (memcmp(wbuf, rbuf, bs)) {
			u32 w = 0;
			while (wbuf[w] == rbuf[w])
				w++;
			printf("blk-verify: mismatch at sector %lu word %u: "
			       "0x%lx != 0x%lx\n", sec + w / 64, w % 64, rbuf[w],
			       wbuf[w]);
			ok = false;
		}
	}
	printf("blk-verify: blocks=%lu seed=0x%lx first=%lu last=%lu kicks=%lu\n",
	       n, seed, verify_pos(b.capacity, 0, n),
	       verify_pos(b.capacity, n - 1, n), b.q.kicks);
	printf("RESULT blk-verify sectors=%lu capacity=%lu flush=%d ok=%d\n",
	       n * VERIFY_SECTORS, b.capacity, flushed, ok);
	virtio_reset(&b.d);
	return ok ? 0 : 1;
}

/* ---- blk-bench ---- */

static u64 rng_state;

static u64 xorshift(void)
{
	u64 x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* In-place heapsort: no recursion, no allocation. */
static void sift(u64 *a, u64 i, u64 n)
{
	for (;;) {
		u64 c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && a[c + 1] > a[c])
			c++;
		if (a[i] >= a[c])
			return;
		u64 t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

static void sort_u64(u64 *a, u64 n)
{
	for (u64 i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (u64 e = n; e-- > 1;) {
		u64 t = a[0];
		a[0] = a[e];
		a[e] = t;
		sift(a, 0, e);
	}
}

/* ns → "X.Y" microseconds */
static void fmt_us(char *out, u64 ns)
{
	fmt(out, 24, "%lu.%lu", ns / 1000, ns % 1000 / 100);
}

int wl_blk_bench(void)
{
	static const char *const modes[] = { "seqread", "seqwrite", "randread",
					     "randwrite" };
	const char *mode = param("mode");
	u32 m;
	for (m = 0; m < 4; m++)
		if (mode && !strcmp(mode, modes[m]))
			break;
	if (!mode)
		m = 0;
	if (m == 4) {
		printf("blk-bench: mode=%s: want seqread|seqwrite|randread|randwrite\n",
		       mode);
		return 2;
	}
	bool write = m & 1, rnd = m & 2;
	u64 bs = param_u64("bs", 4096);
	u64 qd = param_u64("qd", 1);
	u64 ios = param_u64("ios", 0);
	if (!ios)
		ios = param_u64("mb", 64) * 1048576 / (bs ? bs : 1);
	rng_state = param_u64("seed", 0x2545F4914F6CDD1Dull) | 1;
	if (!bs || bs % 512 || bs > 16 * 1048576 || !qd || !ios) {
		printf("blk-bench: need bs a multiple of 512 (<= 16 MiB), qd > 0, "
		       "ios > 0\n");
		return 2;
	}

	struct blk b;
	if (blk_open(&b) < 0)
		return 1;
	if (bs % b.blk_size) {
		printf("blk-bench: bs=%lu is not a multiple of blk_size=%u\n",
		       bs, b.blk_size);
		return 2;
	}
	if (write && (b.d.features & VIRTIO_BLK_F_RO)) {
		printf("blk-bench: the disk is read-only\n");
		return 1;
	}
	u64 nblocks = b.capacity * 512 / bs;
	if (!nblocks) {
		printf("blk-bench: disk smaller than bs\n");
		return 2;
	}
	u32 slots = blk_slots(&b, (u32)(qd > 0xffff ? 0xffff : qd), (u32)bs);
	if (!slots)
		return 1;
	u64 *lat = heap_alloc(ios * 8, 8);
	if (!lat) {
		printf("blk-bench: no memory for %lu latencies\n", ios);
		return 2;
	}
	if (write)
		for (u32 s = 0; s < slots; s++)
			fill_pattern(phys(b.slot[s].buf), s, 0xbe4c4, (u32)(bs / 512));

	u32 *free_slots = heap_alloc(4 * slots, 4);
	u32 nfree = slots;
	for (u32 s = 0; s < slots; s++)
		free_slots[s] = s;
	u64 submitted = 0, done = 0, next_seq = 0, errors = 0;
	u64 deadline_ticks = ms_to_tsc(param_u64("timeout_ms", 60000));
	u64 t0 = rdtsc(), last_progress = t0;

	while (done < ios) {
		while (nfree && submitted < ios) {
			u32 s = free_slots[--nfree];
			u64 blk = rnd ? xorshift() % nblocks : next_seq++ % nblocks;
			blk_submit(&b, s, write ? BLK_T_OUT : BLK_T_IN,
				   blk * (bs / 512), b.slot[s].buf, (u32)bs);
			submitted++;
		}
		virtq_kick(&b.q);
		int s;
		while ((s = blk_reap(&b)) < 0) {
			if (rdtsc() - last_progress > deadline_ticks) {
				printf("blk-bench: stalled at %lu/%lu done\n", done, ios);
				return 1;
			}
			cpu_relax();
		}
		do {
			u64 now = rdtsc();
			lat[done++] = now - b.slot[s].t0;
			last_progress = now;
			if (b.slot[s].status != BLK_S_OK)
				errors++;
			free_slots[nfree++] = (u32)s;
		} while ((s = blk_reap(&b)) >= 0);
	}
	u64 cycles = rdtsc() - t0;
	u64 khz = tsc_khz(NULL);
	u64 ns = cycles * 1000000 / khz;
	if (!ns)
		ns = 1;
	sort_u64(lat, ios);
	u64 p50 = lat[(ios - 1) * 50 / 100] * 1000000 / khz;
	u64 p99 = lat[(ios - 1) * 99 / 100] * 1000000 / khz;
	u64 mbps10 = ios * bs * 10000 / ns;   /* MB/s (10^6 B) × 10 */
	u64 iops = ios * 1000000000 / ns;
	char s50[24], s99[24];
	fmt_us(s50, p50);
	fmt_us(s99, p99);
	printf("blk-bench: ios=%lu errors=%lu kicks=%lu ns=%lu\n", ios, errors,
	       b.q.kicks, ns);
	printf("RESULT blk-bench mode=%s bs=%lu qd=%u mbps=%lu.%lu iops=%lu "
	       "lat_p50_us=%s lat_p99_us=%s\n", modes[m], bs, slots, mbps10 / 10,
	       mbps10 % 10, iops, s50, s99);
	virtio_reset(&b.d);
	return errors ? 1 : 0;
}
