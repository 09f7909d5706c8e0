/* fw-cfg: QEMU's firmware configuration device at io 0x510 (selector),
 * 0x511 (data) and 0x514 (DMA), as firmware and kvm-unit-tests use it:
 * the signature and feature bits, the CPU count, the RAM size against the
 * boot memory map, and one file read both ways (DMA and data port), also
 * in parts (skip + read) and past its end (zeros). The hostile cases: an
 * unknown key reads zeros, a DMA write and a DMA into non-RAM fail with
 * the error bit. Params: file= (default opt/cvisor/test), cpus= (the vCPU
 * count the test configured, default 1), bad_dma= (a guest-physical
 * address with no RAM behind it, default 0xd0000000).
 *
 * Prints RESULT fw-cfg sig=QEMU id=0xN cpus=N max_cpus=N ram=BYTES
 * top=BYTES files=N size=N crc32=XXXXXXXX ok=1. Runs the same under cvisor
 * and QEMU -M pc.
 */
#include "bootinfo.h"

#define FW_SEL   0x510
#define FW_DATA  0x511
#define FW_DMA   0x514

#define KEY_SIGNATURE 0x00
#define KEY_ID        0x01
#define KEY_RAM_SIZE  0x03
#define KEY_NB_CPUS   0x05
#define KEY_MAX_CPUS  0x0f
#define KEY_FILE_DIR  0x19

#define DMA_ERROR  0x01
#define DMA_READ   0x02
#define DMA_SKIP   0x04
#define DMA_SELECT 0x08
#define DMA_WRITE  0x10

struct dma_desc {
	u32 control, length;   /* big-endian */
	u64 address;
};

static struct dma_desc *desc;  /* 16-byte aligned, from the heap */

static void fw_select(u16 key)
{
	svc(SVC_OUT, FW_SEL, 2, key);
}

/* The data port: `rep insb` in ring 0, one exit per batch where the VMM
 * takes string I/O whole. */
static void fw_read(void *buf, u32 len)
{
	svc(SVC_INSB, FW_DATA, (long)buf, len);
}

static u32 fw_u32(u16 key)
{
	u32 v = 0;
	fw_select(key);
	fw_read(&v, 4);
	return v;
}

/* One DMA transfer: the descriptor's address goes to 0x514 big-endian,
 * high half first; the low half starts it. Returns the final control
 * word (0, or with DMA_ERROR). Both QEMU and cvisor finish before the
 * write returns; the poll is bounded for one that would not. */
static u32 fw_dma(u32 control, u64 addr, u32 len)
{
	u64 pa = (u64)desc;
	desc->control = __builtin_bswap32(control);
	desc->length = __builtin_bswap32(len);
	desc->address = __builtin_bswap64(addr);
	svc(SVC_OUT, FW_DMA, 4, __builtin_bswap32((u32)(pa >> 32)));
	svc(SVC_OUT, FW_DMA + 4, 4, __builtin_bswap32((u32)pa));
	for (int i = 0; i < 1000000; i++) {
		u32 c = __builtin_bswap32(*(volatile u32 *)&desc->control);
		if (!(c & ~DMA_ERROR))
			return c;
		cpu_relax();
	}
	return 0xffffffff;
}

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/* CRC-32 as zlib's crc32() (what the host test computes with gzip). */
static u32 crc32(const u8 *p, u32 len)
{
	u32 crc = 0xffffffff;
	for (u32 i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
	}
	return ~crc;
}

static bool entry_at(u32 i, u64 *addr, u64 *len, u32 *type)
{
	const struct hvm_start_info *si = pvh_info();
	if (si && si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *e = phys(si->memmap_paddr);
		if (i >= si->memmap_entries)
			return false;
		*addr = e[i].addr, *len = e[i].size, *type = e[i].type;
		return true;
	}
	const struct mb_info *mb = phys(boot_info);
	if (boot_proto != BOOT_MULTIBOOT || boot_magic != MB_BOOT_MAGIC ||
	    !(mb->flags & MB_INFO_MMAP))
		return false;
	u64 p = mb->mmap_addr, end = p + mb->mmap_length;
	for (u32 n = 0; p < end; n++) {
		const struct mb_mmap_entry *e = phys(p);
		if (n == i) {
			*addr = e->addr, *len = e->len, *type = e->type;
			return true;
		}
		p += e->size + 4;
	}
	return false;
}

/* What fw_cfg's RAM size means on QEMU's pc: the end of RAM below the PCI
 * hole (where the memory map's last RAM or firmware-reserved run below
 * 3 GiB ends) plus the RAM above 4 GiB. */
static u64 boot_map_ram_size(u32 *entries)
{
	u64 top = 0, high = 0, a, l;
	u32 t, i = 0;
	for (; entry_at(i, &a, &l, &t); i++) {
		if (t == 1 && a >= 0x100000000ull)
			high += l;
		else if ((t == 1 || t == 2) && a + l <= 0xC0000000ull &&
			 a + l > top)
			top = a + l;
	}
	*entries = i;
	return top + high;
}

/* The directory entry called name: its key and size. */
static bool find_file(const char *name, u16 *key, u32 *size, u32 *count)
{
	u8 hdr[4], e[64];
	fw_select(KEY_FILE_DIR);
	fw_read(hdr, 4);
	*count = be32(hdr);
	for (u32 i = 0; i < *count && i < 4096; i++) {
		fw_read(e, sizeof(e));
		e[63] = 0;
		if (!strcmp((const char *)e + 8, name)) {
			*size = be32(e);
			*key = (u16)(e[4] << 8 | e[5]);
			return true;
		}
	}
	return false;
}

static int fail(const char *what, u64 got, u64 want)
{
	printf("fw-cfg: %s: got 0x%lx, want 0x%lx\n", what, got, want);
	printf("RESULT fw-cfg ok=0\n");
	return 1;
}

/* The file both ways, in parts and past its end; returns its CRC-32 in
 * *crc or fails. */
static int check_file(u16 key, u32 size, u32 *crc)
{
	u8 *a = heap_alloc(size + 64, 16), *b = heap_alloc(size + 64, 16);
	if (!a || !b)
		return fail("no memory for the file, size", size, 0);
	memset(a, 0xaa, size + 64);
	u32 c = fw_dma(DMA_SELECT | DMA_READ | (u32)key << 16, (u64)a, size + 64);
	if (c)
		return fail("DMA read status", c, 0);
	for (u32 i = size; i < size + 64; i++)
		if (a[i])
			return fail("DMA read past the end, byte", a[i], 0);
	fw_select(key);
	fw_read(b, size);
	if (memcmp(a, b, size))
		return fail("data port and DMA differ", 1, 0);
	/* Skip half, read the rest: the offset carries over. */
	memset(b, 0, size + 64);
	u32 half = size / 2;
	if ((c = fw_dma(DMA_SELECT | DMA_SKIP | (u32)key << 16, 0, half)) ||
	    (c = fw_dma(DMA_READ, (u64)b, size - half)))
		return fail("DMA skip/read status", c, 0);
	if (memcmp(a + half, b, size - half))
		return fail("DMA after skip differs", 1, 0);
	*crc = crc32(a, size);
	return 0;
}

/* Bad requests: errors, never a crash or a write anywhere. */
static int check_hostile(u16 key)
{
	u8 buf[8];
	u64 bad = param_u64("bad_dma", 0xd0000000ull);
	if (fw_u32(0x7ffe) != 0)
		return fail("unknown key reads", fw_u32(0x7ffe), 0);
	memset(buf, 0x55, sizeof(buf));
	u32 c = fw_dma(DMA_SELECT | DMA_WRITE | (u32)key << 16, (u64)buf, 8);
	if (!(c & DMA_ERROR))
		return fail("DMA write status", c, DMA_ERROR);
	c = fw_dma(DMA_SELECT | DMA_READ | (u32)key << 16, bad, 16);
	if (!(c & DMA_ERROR))
		return fail("DMA into non-RAM status", c, DMA_ERROR);
	return 0;
}

int wl_fw_cfg(void)
{
	const char *name = param("file");
	u64 want_cpus = param_u64("cpus", 1);
	u32 entries, count, size = 0, crc = 0;
	u16 key = 0;
	if (!name)
		name = "opt/cvisor/test";
	desc = heap_alloc(sizeof(*desc), 16);

	u32 sig = fw_u32(KEY_SIGNATURE);
	if (sig != 0x554d4551)               /* "QEMU" */
		return fail("signature", sig, 0x554d4551);
	u32 id = fw_u32(KEY_ID);
	if ((id & 3) != 3)
		return fail("ID (traditional and DMA)", id, 3);
	u32 dsig = (u32)svc(SVC_IN, FW_DMA, 4, 0);
	if (dsig != 0x554d4551)              /* "QEMU" of "QEMU CFG" */
		return fail("DMA register signature", dsig, 0x554d4551);

	fw_select(KEY_NB_CPUS);
	u16 cpus = 0, max_cpus = 0;
	fw_read(&cpus, 2);
	fw_select(KEY_MAX_CPUS);
	fw_read(&max_cpus, 2);
	if (cpus != want_cpus || max_cpus < cpus)
		return fail("CPUs (boot, max)", (u64)cpus << 16 | max_cpus,
			    want_cpus << 16 | want_cpus);

	u64 ram = 0;
	fw_select(KEY_RAM_SIZE);
	fw_read(&ram, 8);
	u64 top = boot_map_ram_size(&entries);
	if (!entries || ram != top)
		return fail("RAM size against the boot memory map", ram, top);

	if (!find_file(name, &key, &size, &count))
		return fail("file not in the directory, files", count, 0);
	if (check_file(key, size, &crc) || check_hostile(key))
		return 1;
	printf("RESULT fw-cfg sig=QEMU id=0x%x cpus=%u max_cpus=%u ram=%lu "
	       "top=%lu files=%u size=%u crc32=%08x ok=1\n", id, cpus,
	       max_cpus, ram, top, count, size, crc);
	return 0;
}
