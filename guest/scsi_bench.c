/* scsi-bench: throughput and IOPS through the LSI 53C895A, one command at
 * a time (the driver has one table): mode=seqread|seqwrite|randread|
 * randwrite, bs=N bytes (512..4 MiB), ios=N or mb=N, target=N, seed=N.
 * READ(10)/WRITE(10) of bs at consecutive or uniformly random bs-aligned
 * positions. Prints RESULT scsi-bench mode= bs= mbps= iops= lat_avg_us=
 * (bench/scsi.sh compares cvisor with QEMU on it). */
#include "lsi.h"

static u64 rng;

static u64 next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void be32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

static u64 capacity(struct lsi_hba *h, u32 target, u8 *buf)
{
	static const u8 tur[6] = { 0 };
	u8 cap[10] = { 0x25 }, st = 0xff;

	for (int i = 0; i < 4; i++) {           /* a unit attention first */
		if (lsi_cmd(h, target, 0, tur, 6, 0, 0, false, &st) != LSI_OK)
			return 0;
		if (!st)
			break;
		u8 rs[6] = { 0x03, 0, 0, 0, 18, 0 };
		lsi_cmd(h, target, 0, rs, 6, (u64)buf, 18, false, &st);
	}
	if (lsi_cmd(h, target, 0, cap, 10, (u64)buf, 8, false, &st) != LSI_OK ||
	    st)
		return 0;
	return ((u64)buf[0] << 24 | (u64)buf[1] << 16 | (u64)buf[2] << 8 |
		buf[3]) + 1;
}

int wl_scsi_bench(void)
{
	static const char *const modes[] = { "seqread", "seqwrite", "randread",
					     "randwrite" };
	const char *mode = param("mode");
	struct lsi_hba h;
	u32 m;

	for (m = 0; m < 4 && mode; m++)
		if (!strcmp(mode, modes[m]))
			break;
	if (!mode)
		m = 0;
	u64 bs = param_u64("bs", 4096);
	u64 ios = param_u64("ios", 0);
	u32 target = (u32)param_u64("target", 0);
	if (!ios)
		ios = param_u64("mb", 64) * 1048576 / (bs ? bs : 1);
	rng = param_u64("seed", 0x2545F4914F6CDD1Dull) | 1;
	if (m == 4 || !bs || bs % 512 || bs > (4u << 20) || !ios) {
		printf("scsi-bench: want mode=seqread|seqwrite|randread|"
		       "randwrite, bs a multiple of 512 up to 4 MiB, ios > 0\n");
		return 2;
	}
	bool write = m & 1, rnd = m & 2;
	u8 *buf = heap_alloc(bs, 4096);
	if (!buf || lsi_open(&h))
		return 1;
	u64 sectors = capacity(&h, target, buf);
	u64 nblocks = sectors * 512 / bs;
	if (!nblocks || sectors > 0xffffffffull) {
		printf("scsi-bench: no disk, or one smaller than bs\n");
		return 1;
	}
	for (u64 i = 0; i < bs; i++)
		buf[i] = (u8)(i * 7);
	u64 errors = 0, t0 = rdtsc();
	for (u64 i = 0; i < ios; i++) {
		u64 blk = rnd ? next_rand() % nblocks : i % nblocks;
		u8 c[10] = { write ? 0x2a : 0x28 }, st = 0xff;

		be32(c + 2, (u32)(blk * (bs / 512)));
		c[7] = (u8)(bs / 512 >> 8);
		c[8] = (u8)(bs / 512);
		if (lsi_cmd(&h, target, 0, c, 10, (u64)buf, (u32)bs, write,
			    &st) != LSI_OK || st)
			errors++;
	}
	u64 khz = tsc_khz(NULL);
	u64 ns = (rdtsc() - t0) * 1000000 / khz;
	if (!ns)
		ns = 1;
	u64 mbps10 = ios * bs * 10000 / ns;
	u64 avg = ns / ios;
	printf("scsi-bench: ios=%lu errors=%lu ns=%lu interrupts=%u\n", ios,
	       errors, ns, h.ints);
	printf("RESULT scsi-bench mode=%s bs=%lu mbps=%lu.%lu iops=%lu "
	       "lat_avg_us=%lu.%lu\n", modes[m], bs, mbps10 / 10, mbps10 % 10,
	       ios * 1000000000 / ns, avg / 1000, avg % 1000 / 100);
	return errors ? 1 : 0;
}
