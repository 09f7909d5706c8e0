/* fw_cfg: the ports and the DMA interface as a guest drives them, the file
 * directory, the user's items from `vdev fw-cfg`, the PC's items, and the
 * hostile cases (unknown keys, DMA outside RAM, writes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "arch/x86/boot.h"
#include "core/persist.h"
#include "core/util.h"
#include "devices/fw_cfg.h"
#include "devices/registry.h"
#include "mem/guest_mem.h"

#define RAM_SIZE  0x100000ULL        /* guest RAM at 0 */
#define ROM_BASE  0x200000ULL
#define DESC      0x1000ULL
#define BUF       0x2000ULL

static uint8_t ram[RAM_SIZE], rom[0x1000];
static struct guest_mem mem;
static struct dev_env env;
static struct fw_cfg *s;
static struct device *dev;

static int setup(void **state)
{
	memset(ram, 0, sizeof(ram));
	guest_mem_init(&mem);
	if (!guest_mem_add_host(&mem, 0, RAM_SIZE, ram, GUEST_RAM) ||
	    !guest_mem_add_host(&mem, ROM_BASE, sizeof(rom), rom, GUEST_ROM))
		return -1;
	env = (struct dev_env){ .mem = &mem };
	s = fw_cfg_new(&env);
	dev = fw_cfg_device(s);
	return 0;
}

static int teardown(void **state)
{
	dev->ops->free(dev);
	guest_mem_free(&mem);
	return 0;
}

static void sel(uint16_t key)
{
	dev->ops->write(dev, 0, FW_CFG_OFF_SEL, 2, key);
}

static void data(void *buf, size_t n)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A descriptor at desc, its address written as a guest does (big-endian
 * halves through 0x514 and 0x518); returns the control word after. */
static uint32_t dma_at(uint64_t desc, uint32_t control, uint64_t addr,
		       uint32_t len)
{
	uint8_t *d = ram + desc;

	if (desc < RAM_SIZE && RAM_SIZE - desc >= FW_CFG_DMA_DESC_LEN) {
		put_be32(d, control);
		put_be32(d + 4, len);
		put_be32(d + 8, (uint32_t)(addr >> 32));
		put_be32(d + 12, (uint32_t)addr);
	}
	dev->ops->write(dev, 0, FW_CFG_OFF_DMA, 4,
			__builtin_bswap32((uint32_t)(desc >> 32)));
	dev->ops->write(dev, 0, FW_CFG_OFF_DMA + 4, 4,
			__builtin_bswap32((uint32_t)desc));
	return desc < RAM_SIZE && RAM_SIZE - desc >= 4 ? be32(ram + desc)
						     : 0xdeadbeef;
}

static uint32_t dma(uint32_t control, uint64_t addr, uint32_t len)
{
	return dma_at(DESC, control, addr, len);
}

static void test_signature_and_id(void **state)
{
	char sig[5] = { 0 };
	uint8_t id[4], more;

	sel(FW_CFG_SIGNATURE);
	data(sig, 4);
	assert_string_equal(sig, "QEMU");
	data(&more, 1);                       /* past the end: zeros */
	assert_int_equal(more, 0);
	sel(FW_CFG_ID);
	data(id, 4);
	assert_int_equal(id[0], FW_CFG_ID_TRAD | FW_CFG_ID_DMA);
	assert_int_equal(id[1] | id[2] | id[3], 0);
	/* The DMA register reads "QEMU CFG" in memory order. */
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DMA, 4), 0x554d4551);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DMA + 4, 4),
			 0x47464320);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DMA + 7, 1), 'G');
	/* A wider data read gets that many bytes in memory order. */
	sel(FW_CFG_SIGNATURE);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 4),
			 0x554d4551);
}

static void test_unknown_keys_read_zero(void **state)
{
	static const uint16_t keys[] = {
		FW_CFG_UUID, FW_CFG_RAM_SIZE, 0x1f, 0x20, 0x3fff, 0x7ffe,
		FW_CFG_ARCH_LOCAL | 3, FW_CFG_INVALID,
	};

	for (unsigned i = 0; i < ARRAY_SIZE(keys); i++) {
		uint8_t b[16];

		memset(b, 0xff, sizeof(b));
		sel(keys[i]);
		data(b, sizeof(b));
		for (unsigned j = 0; j < sizeof(b); j++)
			assert_int_equal(b[j], 0);
	}
}

static void test_add_bytes_rules(void **state)
{
	assert_int_equal(fw_cfg_add_u16(s, FW_CFG_NB_CPUS, 2), 0);
	assert_int_equal(fw_cfg_add_u16(s, FW_CFG_NB_CPUS, 3), -EEXIST);
	assert_int_equal(fw_cfg_add_u16(s, FW_CFG_FILE_DIR, 3), -EINVAL);
	assert_int_equal(fw_cfg_add_u16(s, FW_CFG_FILE_FIRST, 3), -EINVAL);
	assert_int_equal(fw_cfg_add_u64(s, FW_CFG_RAM_SIZE, 0x123456789ULL), 0);
	sel(FW_CFG_RAM_SIZE);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 8),
			 0x123456789ULL);
	/* The write-channel bit selects the same item. */
	sel(FW_CFG_NB_CPUS | FW_CFG_WRITE_CHANNEL);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 2), 2);
}

static void test_directory_sorted(void **state)
{
	uint8_t hdr[4], e[3][64], b[8];
	char name[64];

	assert_int_equal(fw_cfg_add_file(s, "opt/b", "bbbbbb", 6), 0);
	assert_int_equal(fw_cfg_add_file(s, "opt/a", "aa", 2), 0);
	assert_int_equal(fw_cfg_add_file(s, "etc/z", "", 0), 0);
	assert_int_equal(fw_cfg_add_file(s, "opt/a", "x", 1), -EEXIST);
	memset(name, 'n', 55);
	name[55] = '\0';
	assert_int_equal(fw_cfg_add_file(s, name, "x", 1), 0);
	name[55] = 'n';
	name[56] = '\0';
	assert_int_equal(fw_cfg_add_file(s, name, "x", 1), -EINVAL);
	assert_int_equal(fw_cfg_add_file(s, "", "x", 1), -EINVAL);

	sel(FW_CFG_FILE_DIR);
	data(hdr, 4);
	assert_int_equal(be32(hdr), 4);
	data(e, sizeof(e));
	assert_string_equal((char *)e[0] + 8, "etc/z");
	assert_int_equal(be32(e[0]), 0);
	assert_int_equal(e[0][4] << 8 | e[0][5], FW_CFG_FILE_FIRST);
	assert_string_equal((char *)e[1] + 8, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
			    "nnnnnnnnnnnnnnnnnnnnnn");
	assert_string_equal((char *)e[2] + 8, "opt/a");
	assert_int_equal(be32(e[2]), 2);
	assert_int_equal(e[2][4] << 8 | e[2][5], FW_CFG_FILE_FIRST + 2);

	sel(FW_CFG_FILE_FIRST + 3);           /* opt/b */
	data(b, 8);
	assert_memory_equal(b, "bbbbbb\0\0", 8);
	assert_int_equal(fw_cfg_file_data(s, "opt/a", &(size_t){ 0 })[1], 'a');
	assert_null(fw_cfg_file_data(s, "opt/c", &(size_t){ 0 }));
}

static void test_too_many_files(void **state)
{
	char name[16];
	unsigned i;

	for (i = 0; i < FW_CFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "opt/%u", i);
		assert_int_equal(fw_cfg_add_file(s, name, "x", 1), 0);
	}
	assert_int_equal(fw_cfg_add_file(s, "opt/more", "x", 1), -ENOSPC);
}

static void test_dma_read_skip(void **state)
{
	uint8_t file[300];

	for (unsigned i = 0; i < sizeof(file); i++)
		file[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(fw_cfg_add_file(s, "opt/f", file, sizeof(file)), 0);
	memset(ram + BUF, 0xaa, 401);
	/* select + read past the end: the rest is zeros */
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_FILE_FIRST << 16, BUF, 400), 0);
	assert_memory_equal(ram + BUF, file, sizeof(file));
	for (unsigned i = sizeof(file); i < 400; i++)
		assert_int_equal(ram[BUF + i], 0);
	assert_int_equal(ram[BUF + 400], 0xaa);
	/* skip 100, read 50: the offset carries over, also to the port */
	memset(ram + BUF, 0, 400);
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_SKIP |
			     FW_CFG_FILE_FIRST << 16, 0, 100), 0);
	assert_int_equal(dma(FW_CFG_DMA_READ, BUF, 50), 0);
	assert_memory_equal(ram + BUF, file + 100, 50);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 1), file[150]);
	/* no operation bit: only the select happens */
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_SIGNATURE << 16, BUF,
			     4096), 0);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 1), 'Q');
	/* read wins over write when both are set, as in QEMU */
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_DMA_WRITE | FW_CFG_FILE_FIRST << 16,
			     BUF, 4), 0);
	assert_memory_equal(ram + BUF, file, 4);
}

static void test_dma_hostile(void **state)
{
	static const uint8_t file[16] = "0123456789abcdef";
	size_t len;

	assert_int_equal(fw_cfg_add_file(s, "opt/f", file, sizeof(file)), 0);
	/* writes are refused and change nothing */
	memset(ram + BUF, 'w', 16);
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE |
			     FW_CFG_FILE_FIRST << 16, BUF, 16),
			 FW_CFG_DMA_ERROR);
	assert_memory_equal(fw_cfg_file_data(s, "opt/f", &len), file, 16);
	/* a buffer outside RAM, in ROM, wrapping, or crossing RAM's end */
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_FILE_FIRST << 16, 0x300000, 16),
			 FW_CFG_DMA_ERROR);
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_FILE_FIRST << 16, ROM_BASE, 16),
			 FW_CFG_DMA_ERROR);
	assert_int_equal(rom[0], 0);
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_FILE_FIRST << 16, ~0ULL - 4, 16),
			 FW_CFG_DMA_ERROR);
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_FILE_FIRST << 16, RAM_SIZE - 8,
			     0xffffffff), FW_CFG_DMA_ERROR);
	/* an unknown key: the zeros still need RAM */
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     0x3ff0 << 16, 0x300000, 8), FW_CFG_DMA_ERROR);
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_SKIP |
			     0x3ff0 << 16, 0x300000, 0xffffffff), 0);
	/* a descriptor outside RAM or in ROM: nothing to read, nowhere to
	 * report, no crash */
	dma_at(0x400000, 0, 0, 0);
	dma_at(RAM_SIZE - 8, 0, 0, 0);
	dma_at(~0ULL - 7, 0, 0, 0);
	dma_at(ROM_BASE, 0, 0, 0);
	assert_int_equal(rom[3], 0);
	/* the address register starts over after each transfer: a low half
	 * alone reaches a descriptor below 4 GiB */
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_FILE_FIRST << 16, BUF, 4), 0);
	/* a data-port write is ignored, the reset selects the signature */
	dev->ops->write(dev, 0, FW_CFG_OFF_DATA, 1, 0x55);
	dev->ops->reset(dev);
	assert_int_equal(dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 1), 'Q');
	/* 0x512-0x513 decode nothing */
	assert_int_equal(dev->ops->read(dev, 0, 2, 1) & 0xff, 0xff);
}

static unsigned resident(const void *p, size_t len)
{
	unsigned char v[64];
	unsigned n = 0;

	assert_true(len / 4096 <= sizeof(v));
	assert_int_equal(mincore((void *)p, len, v), 0);
	for (size_t i = 0; i < len / 4096; i++)
		n += v[i] & 1;
	return n;
}

/* Zeros past an item's end into the guest's own anonymous RAM: its whole
 * pages are given back, not written (a read of up to 4 GiB past the end
 * made one memset of that size on the vCPU thread). */
static void test_dma_zeros_pages(void **state)
{
	struct guest_region *r = guest_mem_add(&mem, 0x10000000, 0x40000,
					       GUEST_RAM);
	static const uint8_t file[8] = "abcdefgh";

	assert_non_null(r);
	assert_int_equal(fw_cfg_add_file(s, "opt/z", file, sizeof(file)), 0);
	memset(r->host, 0xaa, 0x40000);
	assert_int_equal(resident(r->host, 0x40000), 64);
	assert_int_equal(dma(FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
			     FW_CFG_FILE_FIRST << 16, 0x10000000 + 0x100,
			     0x20000), 0);
	/* (before reading them: a read maps the zero page, which counts) */
	assert_true(resident(r->host, 0x40000) <= 64 - 31);
	assert_memory_equal(r->host + 0x100, file, 8);
	for (size_t i = 0x108; i < 0x20100; i++)
		assert_int_equal(r->host[i], 0);
	assert_int_equal(r->host[0x20100], 0xaa);
}

/* ---- the PC's items ---- */

static struct vm_config cfg;

static const struct vdev_type fake_fw_cfg_like = {
	.name = "fake", .class = VDEV_PLATFORM, .loc_space = LOC_IO,
	.region_len = 8,
};

static uint64_t item_u64(uint16_t key, unsigned n)
{
	uint64_t v = 0;

	sel(key);
	for (unsigned i = 0; i < n; i++)
		v |= dev->ops->read(dev, 0, FW_CFG_OFF_DATA, 1) << (8 * i);
	return v;
}

static void pc_config(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram[0] = (struct ram_config){ .start = 0, .size = 0xa0000 };
	cfg.ram[1] = (struct ram_config){ .start = 1 * MiB, .size = 63 * MiB };
	cfg.nr_ram = 2;
	cfg.nr_cpus = 3;
	cfg.vdevs[0] = (struct vdev_config){ .type = &ser8250_type,
		.nr_locs = 1, .locs[0] = { .space = LOC_IO, .addr = 0x2f8 } };
	cfg.nr_vdevs = 1;
}

static void test_pc_items(void **state)
{
	struct e820_entry want[X86_MEMMAP_MAX];
	const uint8_t *p;
	size_t len;
	int n;

	pc_config();
	assert_int_equal(fw_cfg_add_pc_items(s, &cfg, NULL, NULL), 0);
	assert_int_equal(item_u64(FW_CFG_RAM_SIZE, 8), 64 * MiB);
	assert_int_equal(item_u64(FW_CFG_NB_CPUS, 2), 3);
	assert_int_equal(item_u64(FW_CFG_MAX_CPUS, 2), 3);
	p = fw_cfg_file_data(s, "etc/sercon-port", &len);
	assert_non_null(p);
	assert_int_equal(len, 2);
	assert_int_equal(p[0] | p[1] << 8, 0x2f8);
	p = fw_cfg_file_data(s, "bootorder", &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	n = x86_memmap_build(&cfg, want, X86_MEMMAP_MAX);
	p = fw_cfg_file_data(s, "etc/e820", &len);
	assert_non_null(p);
	assert_int_equal(len, (size_t)n * 20);
	for (int i = 0; i < n; i++) {
		uint64_t a = 0, l = 0;
		uint32_t t = 0;

		for (int b = 7; b >= 0; b--) {
			a = a << 8 | p[i * 20 + b];
			l = l << 8 | p[i * 20 + 8 + b];
		}
		for (int b = 3; b >= 0; b--)
			t = t << 8 | p[i * 20 + 16 + b];
		assert_int_equal(a, want[i].addr);
		assert_int_equal(l, want[i].size);
		assert_int_equal(t, want[i].type);
	}
	assert_non_null(fw_cfg_file_data(s, "etc/acpi/tables", &len));
	assert_non_null(fw_cfg_file_data(s, "etc/acpi/rsdp", &len));
	assert_int_equal(len, 36);
	assert_non_null(fw_cfg_file_data(s, "etc/table-loader", &len));
	assert_int_equal(len % 128, 0);
	/* No 16550: no sercon-port. */
	dev->ops->free(dev);
	s = fw_cfg_new(&env);
	dev = fw_cfg_device(s);
	cfg.nr_vdevs = 0;
	cfg.nr_cpus = 0;
	assert_int_equal(fw_cfg_add_pc_items(s, &cfg, NULL, NULL), 0);
	assert_null(fw_cfg_file_data(s, "etc/sercon-port", &len));
	assert_int_equal(item_u64(FW_CFG_NB_CPUS, 2), 1);
}

static void test_ram_size(void **state)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram[0] = (struct ram_config){ .start = 0, .size = 256 * MiB };
	cfg.nr_ram = 1;
	assert_int_equal(fw_cfg_ram_size(&cfg), 256 * MiB);
	/* split around the hole, as `ram 4g` is: below's end + above */
	cfg.ram[0].size = 3 * GiB;
	cfg.ram[1] = (struct ram_config){ .start = 4 * GiB, .size = 1 * GiB };
	cfg.nr_ram = 2;
	assert_int_equal(fw_cfg_ram_size(&cfg), 4 * GiB);
	/* a region across 4 GiB counts in both parts */
	cfg.ram[0] = (struct ram_config){ .start = 3 * GiB, .size = 2 * GiB };
	cfg.nr_ram = 1;
	assert_int_equal(fw_cfg_ram_size(&cfg), 5 * GiB);
}

static void test_implicit(void **state)
{
	memset(&cfg, 0, sizeof(cfg));
	assert_true(fw_cfg_implicit(&cfg));
	/* a vdev fw-cfg is the device */
	cfg.vdevs[0] = (struct vdev_config){ .type = &fw_cfg_type };
	cfg.nr_vdevs = 1;
	assert_false(fw_cfg_implicit(&cfg));
	/* something else on its ports: 0x50c-0x513 overlaps */
	cfg.vdevs[0] = (struct vdev_config){ .type = &fake_fw_cfg_like,
		.nr_locs = 1, .locs[0] = { .space = LOC_IO, .addr = 0x50c } };
	assert_false(fw_cfg_implicit(&cfg));
	cfg.vdevs[0].locs[0].addr = 0x508;            /* 0x508-0x50f: no */
	assert_true(fw_cfg_implicit(&cfg));
	cfg.vdevs[0].locs[0].space = LOC_MEM;
	cfg.vdevs[0].locs[0].addr = 0x510;            /* memory: no */
	assert_true(fw_cfg_implicit(&cfg));
	/* reserved */
	cfg.reserve[0] = (struct reserve_config){ .kind = RESERVE_LOC,
		.loc = { .space = LOC_IO, .addr = 0x51b } };
	cfg.nr_reserve = 1;
	assert_false(fw_cfg_implicit(&cfg));
}

/* ---- `vdev fw-cfg` ---- */

static char tmpdir[64];

static void write_tmp(const char *name, const void *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void opt(struct vdev_config *vc, const char *key, const char *value,
		const char *file)
{
	unsigned i = vc->nr_opts++;

	vc->opts[i] = (struct cfg_devopt){
		.key = key, .value = (char *)value,
		.pos = { .file = file, .line = i + 2, .col = 5 } };
}

static void test_user_items(void **state)
{
	struct vdev_config vc = { .type = &fw_cfg_type };
	const struct cfg_pos *at = NULL;
	char conf[128], abs[256];
	struct device *d = NULL;
	const uint8_t *p;
	size_t len;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cvisor-fwcfg-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_tmp("blob", "\x01\x02\x00\x03", 4);
	snprintf(conf, sizeof(conf), "%s/vm.qvmconf", tmpdir);
	snprintf(abs, sizeof(abs), "opt/abs,%s/blob", tmpdir);
	/* relative to the config file's directory */
	opt(&vc, "file", "opt/org.cvisor/blob,blob", conf);
	opt(&vc, "string", "opt/s,hello world", conf);
	opt(&vc, "file", abs, "<command line>");
	assert_null(fw_cfg_type.check_vdev(&vc, &at));
	assert_int_equal(fw_cfg_type.create(&vc, &env, &d), 0);
	p = fw_cfg_file_data(fw_cfg_of(d), "opt/org.cvisor/blob", &len);
	assert_non_null(p);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "\x01\x02\x00\x03", 4);
	p = fw_cfg_file_data(fw_cfg_of(d), "opt/s", &len);
	assert_int_equal(len, 11);                    /* no NUL, as QEMU */
	assert_memory_equal(p, "hello world", 11);
	assert_non_null(fw_cfg_file_data(fw_cfg_of(d), "opt/abs", &len));
	d->ops->free(d);

	/* the same name twice, at the second */
	opt(&vc, "string", "opt/s,again", conf);
	snprintf(abs, sizeof(abs), "item opt/s given twice (first at %s:3:5)",
		 conf);
	assert_string_equal(fw_cfg_type.check_vdev(&vc, &at), abs);
	assert_ptr_equal(at, &vc.opts[3].pos);
}

static void test_user_items_bad(void **state)
{
	struct vdev_config vc = { .type = &fw_cfg_type };
	const struct cfg_pos *at = NULL;
	const struct devopt_spec *o = vdev_type_opt(&fw_cfg_type, "file");
	struct device *d = NULL;
	char want[256];
	const char *why;

	/* syntax, per value */
	assert_non_null(o);
	assert_true(o->repeatable);
	assert_non_null(o->check("opt/x"));
	assert_non_null(o->check("etc/x,f"));
	assert_non_null(o->check("opt/,f"));
	assert_non_null(o->check("opt/x,"));
	assert_null(o->check("opt/x,f"));
	memset(want, 'n', sizeof(want));
	memcpy(want, "opt/", 4);
	strcpy(want + 55, ",f");                              /* 55 bytes */
	assert_null(o->check(want));
	memset(want, 'n', sizeof(want));
	memcpy(want, "opt/", 4);
	strcpy(want + 56, ",f");                              /* 56 bytes */
	assert_non_null(o->check(want));
	/* a missing file, at its option */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cvisor-fwcfg-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	opt(&vc, "file", "opt/gone,/nonexistent/blob", "<command line>");
	why = fw_cfg_type.check_vdev(&vc, &at);
	assert_string_equal(why, "file opt/gone: cannot read "
			    "'/nonexistent/blob': no such file or directory");
	assert_ptr_equal(at, &vc.opts[0].pos);
	/* the constructor refuses it too (what check's dry run sees) */
	assert_int_equal(fw_cfg_type.create(&vc, &env, &d), -ENOENT);
	assert_null(d);
	/* a directory is not a file */
	vc.opts[0].value = want;
	snprintf(want, sizeof(want), "opt/dir,%s", tmpdir);
	snprintf(want + 128, 128, "file opt/dir: '%s' is not a regular file",
		 tmpdir);
	assert_string_equal(fw_cfg_type.check_vdev(&vc, &at), want + 128);
	/* ports elsewhere */
	vc.nr_opts = 0;
	vc.nr_locs = 1;
	vc.locs[0] = (struct cfg_loc){ .space = LOC_IO, .addr = 0x520 };
	assert_non_null(fw_cfg_type.check_vdev(&vc, &at));
	assert_ptr_equal(at, &vc.locs[0].pos);
	vc.locs[0].addr = FW_CFG_IO_BASE;
	assert_null(fw_cfg_type.check_vdev(&vc, &at));
	rmdir(tmpdir);
}

/* A file item is read once per process: a VM rebuilt after a guest reset
 * gets the same bytes even when the path is gone (a chroot, a deleted
 * file). */
static void test_user_file_kept(void **state)
{
	struct vdev_config vc = { .type = &fw_cfg_type };
	struct dev_env penv = env;
	struct device *d = NULL;
	char item[160], path[128];
	const uint8_t *p;
	size_t len;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cvisor-fwcfg-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	write_tmp("kept", "first", 5);
	snprintf(path, sizeof(path), "%s/kept", tmpdir);
	snprintf(item, sizeof(item), "opt/kept,%s", path);
	opt(&vc, "file", item, "<command line>");
	penv.persist = persist_new();
	assert_int_equal(fw_cfg_type.create(&vc, &penv, &d), 0);
	d->ops->free(d);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fw_cfg_type.create(&vc, &penv, &d), 0);
	p = fw_cfg_file_data(fw_cfg_of(d), "opt/kept", &len);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "first", 5);
	d->ops->free(d);
	persist_free(penv.persist);
	/* without the store the file is read again, and is gone */
	assert_int_equal(fw_cfg_type.create(&vc, &env, &d), -ENOENT);
}

static int teardown_tmp(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (tmpdir[0] && system(cmd))
		return -1;
	return teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signature_and_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_keys_read_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_bytes_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_sorted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_read_skip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_zeros_pages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pc_items, setup, teardown),
		cmocka_unit_test(test_ram_size),
		cmocka_unit_test(test_implicit),
		cmocka_unit_test_setup_teardown(test_user_items, setup, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_user_items_bad, setup, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_user_file_kept, setup, teardown_tmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
