/* x86_firmware_build into a fake guest memory: the RSDP is found the way a
 * guest finds it, every table is reached from it and checksums to zero, and
 * the MADT, FADT and DSDT say what the configuration says. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/acpi/acpi.h"
#include "arch/x86/firmware.h"
#include "core/util.h"
#include "devices/registry.h"

static uint8_t bios[0x20000];        /* backs 0xE0000-0xFFFFF */
static struct guest_mem mem;
static struct vm_config cfg;

static const struct vdev_type fake_rtc = {
	.name = "mc146818", .class = VDEV_PLATFORM, .loc_space = LOC_IO,
};
static const struct vdev_type fake_virtio = {
	.name = "virtio-net", .class = VDEV_VIRTIO, .loc_space = LOC_MEM,
};

static int setup(void **state)
{
	memset(bios, 0, sizeof(bios));
	memset(&cfg, 0, sizeof(cfg));
	guest_mem_init(&mem);
	return guest_mem_add_host(&mem, 0xe0000, sizeof(bios), bios,
				  GUEST_ROM) ? 0 : -1;
}

static int teardown(void **state)
{
	guest_mem_free(&mem);
	return 0;
}

static struct vdev_config *vdev(const struct vdev_type *t, unsigned index,
				uint64_t addr, int irq)
{
	struct vdev_config *vc = &cfg.vdevs[cfg.nr_vdevs++];

	vc->type = t;
	vc->index = index;
	vc->locs[0] = (struct cfg_loc){ .space = t->loc_space, .addr = addr };
	vc->nr_locs = 1;
	if (irq >= 0) {
		vc->intrs[0].line = (uint32_t)irq;
		vc->nr_intrs = 1;
	}
	return vc;
}

static void pc_devices(void)
{
	vdev(&ser8250_type, 0, 0x3f8, 4);
	vdev(&ser8250_type, 1, 0x2f8, 3);
	vdev(&pckeyboard_type, 0, 0x60, -1);
	vdev(&pl011_type, 0, 0x10000000, 9);
}

static const uint8_t *gpa(uint64_t addr, uint64_t len)
{
	const uint8_t *p = guest_mem_ptr(&mem, addr, len);

	assert_non_null(p);
	return p;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* As Linux does: every 16 bytes of 0xE0000-0xFFFFF, signature and the
 * ACPI 1.0 checksum. */
static uint64_t scan_rsdp(void)
{
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = gpa(a, 16);

		if (!memcmp(p, "RSD PTR ", 8) && !sum(gpa(a, 20), 20))
			return a;
	}
	return 0;
}

/* A table at addr: its signature, a sane length and a zero checksum. */
static const uint8_t *table(uint64_t addr, const char *sig)
{
	const uint8_t *h = gpa(addr, 36);
	uint32_t len = le32(h + 4);

	assert_memory_equal(h, sig, 4);
	assert_true(len >= 36 && len < 0x10000);
	assert_int_equal(sum(gpa(addr, len), len), 0);
	assert_memory_equal(h + 10, "CVISOR", 6);
	assert_memory_equal(h + 16, "CVISORVM", 8);
	assert_memory_equal(h + 28, "CVSR", 4);
	return gpa(addr, len);
}

static uint64_t build(void)
{
	struct x86_firmware fw;
	uint64_t rsdp;

	assert_int_equal(x86_firmware_build(&cfg, &mem, NULL, &fw), 0);
	rsdp = scan_rsdp();
	assert_int_equal(rsdp, fw.rsdp_addr);
	assert_true(rsdp && IS_ALIGNED(rsdp, 16));
	return rsdp;
}

/* The XSDT entry with signature sig, or NULL. */
static const uint8_t *find(uint64_t rsdp, const char *sig)
{
	const uint8_t *r = gpa(rsdp, 36);
	const uint8_t *x;
	uint32_t n;

	assert_int_equal(r[15], 2);
	assert_int_equal(le32(r + 20), 36);
	assert_int_equal(sum(r, 36), 0);
	x = table(le64(r + 24), "XSDT");
	n = (le32(x + 4) - 36) / 8;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = le64(x + 36 + 8 * i);

		if (!memcmp(gpa(a, 4), sig, 4))
			return table(a, sig);
	}
	return NULL;
}

static const uint8_t *dsdt(uint64_t rsdp, uint32_t *len)
{
	const uint8_t *f = find(rsdp, "FACP");
	const uint8_t *d;

	assert_non_null(f);
	assert_int_equal(le32(f + 40), le64(f + 140));   /* DSDT == X_DSDT */
	d = table(le64(f + 140), "DSDT");
	*len = le32(d + 4);
	return d;
}

static bool has(const uint8_t *p, size_t n, const void *what, size_t wn)
{
	return memmem(p, n, what, wn) != NULL;
}

#define HAS(p, n, s) has(p, n, s, sizeof(s) - 1)

/* MADT entries of one type. */
static unsigned madt_count(const uint8_t *m, uint8_t type,
			   const uint8_t **first)
{
	uint32_t len = le32(m + 4);
	unsigned n = 0;

	*first = NULL;
	for (uint32_t off = 44; off < len; off += m[off + 1]) {
		assert_true(m[off + 1] >= 2 && off + m[off + 1] <= len);
		if (m[off] != type)
			continue;
		if (!n++)
			*first = m + off;
	}
	return n;
}

static void check_madt(uint64_t rsdp, unsigned cpus)
{
	const uint8_t *m = find(rsdp, "APIC"), *e;

	assert_non_null(m);
	assert_int_equal(le32(m + 36), 0xfee00000);
	assert_int_equal(le32(m + 40), 1);               /* PCAT_COMPAT */
	assert_int_equal(madt_count(m, 0, &e), cpus);
	for (unsigned i = 0; i < cpus; i++, e += 8) {
		assert_int_equal(e[2], i);               /* ACPI UID */
		assert_int_equal(e[3], i);               /* APIC id */
		assert_int_equal(le32(e + 4), 1);        /* enabled */
	}
	assert_int_equal(madt_count(m, 1, &e), 1);
	assert_int_equal(e[2], cpus);                    /* IOAPIC id */
	assert_int_equal(le32(e + 4), 0xfec00000);
	assert_int_equal(le32(e + 8), 0);
	assert_int_equal(madt_count(m, 2, &e), 2);
	assert_int_equal(e[2], 0);                       /* ISA */
	assert_int_equal(e[3], 0);                       /* IRQ0 */
	assert_int_equal(le32(e + 4), 2);                /* GSI 2 */
	e += e[1];                                       /* the SCI's */
	assert_int_equal(e[0], 2);
	assert_int_equal(e[3], x86_acpi_sci_irq(&cfg));
	assert_int_equal(le32(e + 4), x86_acpi_sci_irq(&cfg));
	assert_int_equal(e[8] | e[9] << 8, 0xd);         /* level, high */
	assert_int_equal(madt_count(m, 4, &e), 1);
	assert_int_equal(e[2], 0xff);
	assert_int_equal(e[5], 1);                       /* LINT1 */
}

static void check_gas(const uint8_t *g, unsigned width, uint64_t port)
{
	assert_int_equal(g[0], 1);                       /* system I/O */
	assert_int_equal(g[1], width);
	assert_int_equal(le64(g + 4), port);
}

/* A full (not hardware-reduced) FADT: Linux then programs the 8259 and
 * reboots through RESET_REG (see acpi_fadt.c). */
static void check_fadt(uint64_t rsdp, uint16_t boot_arch)
{
	const uint8_t *f = find(rsdp, "FACP"), *facs;

	assert_non_null(f);
	assert_int_equal(le32(f + 4), 276);
	assert_int_equal(f[8], 6);
	assert_false(le32(f + 112) & (1u << 20));        /* not HW_REDUCED */
	assert_true(le32(f + 112) & (1u << 10));         /* RESET_REG_SUP */
	assert_true(le32(f + 112) & (1u << 8));          /* TMR_VAL_EXT */
	assert_int_equal(f[109] | f[110] << 8, boot_arch);
	assert_int_equal(f[116], 1);                     /* reset: I/O */
	assert_int_equal(f[117], 8);
	assert_int_equal(le64(f + 120), X86_ACPI_RESET_PORT);
	assert_int_equal(f[128], X86_ACPI_RESET_VALUE);
	assert_int_equal(le64(f + 248), 0);              /* no HW-reduced */
	assert_int_equal(le64(f + 260), 0);              /* sleep registers */
	if (boot_arch & (1u << 5))                       /* no RTC: */
		assert_int_equal(f[108], 0);             /* no CENTURY */
	assert_int_equal(f[46] | f[47] << 8, x86_acpi_sci_irq(&cfg));
	assert_int_equal(le32(f + 48), 0);               /* no SMI_CMD */
	assert_int_equal(le32(f + 56), X86_ACPI_PM1A_EVT_PORT);
	assert_int_equal(le32(f + 64), X86_ACPI_PM1A_CNT_PORT);
	assert_int_equal(le32(f + 76), X86_ACPI_PM_TMR_PORT);
	assert_int_equal(le32(f + 80), X86_ACPI_GPE0_PORT);
	assert_int_equal(f[88], 4);                      /* PM1_EVT_LEN */
	assert_int_equal(f[89], 2);                      /* PM1_CNT_LEN */
	assert_int_equal(f[91], 4);                      /* PM_TMR_LEN */
	assert_int_equal(f[92], 4);                      /* GPE0_BLK_LEN */
	check_gas(f + 148, 32, X86_ACPI_PM1A_EVT_PORT);  /* X_PM1a_EVT */
	check_gas(f + 172, 16, X86_ACPI_PM1A_CNT_PORT);  /* X_PM1a_CNT */
	check_gas(f + 208, 32, X86_ACPI_PM_TMR_PORT);    /* X_PM_TMR */
	check_gas(f + 220, 32, X86_ACPI_GPE0_PORT);      /* X_GPE0 */
	/* the FACS, 64-byte aligned, both pointers the same */
	assert_int_equal(le32(f + 36), le64(f + 132));
	assert_int_equal(le32(f + 36) % 64, 0);
	facs = gpa(le32(f + 36), 64);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(le32(facs + 4), 64);
	assert_int_equal(facs[32], 2);                   /* version */
}

/* The RSDT lists what the XSDT lists, in 32 bits. */
static void check_rsdt(uint64_t rsdp)
{
	const uint8_t *r = gpa(rsdp, 36);
	const uint8_t *rs = table(le32(r + 16), "RSDT");
	const uint8_t *xs = table(le64(r + 24), "XSDT");
	uint32_t n = (le32(xs + 4) - 36) / 8;

	assert_int_equal(le32(rs + 4), 36 + 4 * n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(le32(rs + 36 + 4 * i), le64(xs + 36 + 8 * i));
}

static void test_one_cpu(void **state)
{
	uint64_t rsdp;
	uint32_t len;
	const uint8_t *d;

	cfg.nr_cpus = 1;
	rsdp = build();
	check_madt(rsdp, 1);
	/* VGA not present, CMOS RTC not present; no legacy, no 8042. */
	check_fadt(rsdp, 1u << 2 | 1u << 5);
	check_rsdt(rsdp);
	assert_null(find(rsdp, "MCFG"));
	d = dsdt(rsdp, &len);
	assert_true(HAS(d, len, "C000"));
	assert_false(HAS(d, len, "C001"));
	assert_false(HAS(d, len, "COM0"));
	assert_true(HAS(d, len, "\\_S5_"));
	assert_true(HAS(d, len, "\\_S3_"));
}

/* Under firmware (SeaBIOS installs these tables through fw_cfg) no S3:
 * cvisor's wake-up would not find the firmware's copy of the FACS, and a
 * guest offered S3 died on its first wake. */
static void test_no_s3_under_firmware(void **state)
{
	uint32_t len;
	const uint8_t *d;

	cfg.firmware.path = "bios.bin";
	d = dsdt(build(), &len);
	assert_true(HAS(d, len, "\\_S5_"));
	assert_false(HAS(d, len, "\\_S3_"));
	cfg.firmware.path = NULL;
}

/* nr_cpus 0 (nothing validated yet) means one vCPU, like the validator. */
static void test_zero_cpus_is_one(void **state)
{
	check_madt(build(), 1);
}

static void test_four_cpus_pc_devices(void **state)
{
	static const uint8_t pnp0501[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t pnp0303[] = { 0x0c, 0x41, 0xd0, 0x03, 0x03 };
	/* IO(Decode16, 0x3f8, 0x3f8, 1, 8), IRQNoFlags(){4} */
	static const uint8_t com0_crs[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03,
					    0x01, 0x08, 0x22, 0x10, 0x00 };
	uint64_t rsdp;
	uint32_t len;
	const uint8_t *d;

	cfg.nr_cpus = 4;
	pc_devices();
	rsdp = build();
	check_madt(rsdp, 4);
	check_fadt(rsdp, 1u << 0 | 1u << 1 | 1u << 2 | 1u << 5);
	/* the pl011 on IRQ 9 moves the SCI to the next free line */
	assert_int_equal(x86_acpi_sci_irq(&cfg), 11);
	d = dsdt(rsdp, &len);
	assert_true(HAS(d, len, "\\_SB_"));
	assert_true(HAS(d, len, "C003"));
	assert_true(HAS(d, len, "COM0"));
	assert_true(HAS(d, len, "COM1"));
	assert_true(has(d, len, pnp0501, sizeof(pnp0501)));
	assert_true(has(d, len, com0_crs, sizeof(com0_crs)));
	assert_true(HAS(d, len, "PS2K"));
	assert_true(has(d, len, pnp0303, sizeof(pnp0303)));
	assert_true(HAS(d, len, "URT0"));
	assert_true(HAS(d, len, "ARMH0011"));
	assert_false(HAS(d, len, "RTC_"));
	assert_false(HAS(d, len, "LNRO0005"));
}

static void test_rtc_and_virtio_mmio(void **state)
{
	/* Memory32Fixed(ReadWrite, 0xd0000000, 0x200) */
	static const uint8_t mem32[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00,
					 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00 };
	/* Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive){10} */
	static const uint8_t ext_irq[] = { 0x89, 0x06, 0x00, 0x01, 0x01,
					   0x0a, 0x00, 0x00, 0x00 };
	struct vdev_config *pci;
	uint64_t rsdp;
	uint32_t len;
	const uint8_t *d;

	cfg.nr_cpus = 2;
	vdev(&fake_rtc, 0, 0x70, 8);
	vdev(&fake_virtio, 0, 0xd0000000, 10);
	pci = vdev(&fake_virtio, 1, 0, -1);
	pci->nr_locs = 0;
	pci->on_pci = true;
	rsdp = build();
	/* An RTC: legacy devices, and no "CMOS RTC not present". */
	check_fadt(rsdp, 1u << 0 | 1u << 2);
	assert_int_equal(find(rsdp, "FACP")[108], 0x32);  /* CENTURY */
	d = dsdt(rsdp, &len);
	assert_true(HAS(d, len, "RTC_"));
	assert_true(HAS(d, len, "VR00"));
	assert_false(HAS(d, len, "VR01"));               /* the PCI one */
	assert_true(HAS(d, len, "LNRO0005"));
	assert_true(has(d, len, mem32, sizeof(mem32)));
	assert_true(has(d, len, ext_irq, sizeof(ext_irq)));
}

/* PkgLength decoding, for the structure check below. */
static uint32_t pkglen(const uint8_t *p, unsigned *nbytes)
{
	unsigned n = (p[0] >> 6) + 1;
	uint32_t v = n == 1 ? p[0] & 0x3f : p[0] & 0x0f;

	for (unsigned i = 1; i < n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*nbytes = n;
	return v;
}

/* The DSDT is Scope(\_SB_){...} then Name(\_S0_, Package), Name(\_S3_,
 * Package) and Name(\_S5_, Package): the scope's PkgLength must end exactly where the first Name
 * begins, and the last package's where the table ends. A wrong length
 * anywhere inside would shift it. */
static void test_dsdt_structure(void **state)
{
	static const uint8_t s0[] = { 0x08, 0x5c, '_', 'S', '0', '_', 0x12 };
	static const uint8_t s3[] = { 0x08, 0x5c, '_', 'S', '3', '_', 0x12 };
	static const uint8_t s5[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12 };
	const uint8_t *d, *p;
	unsigned n;
	uint32_t len, l;

	cfg.nr_cpus = 64;
	pc_devices();
	d = dsdt(build(), &len);
	assert_true(len > 0x1000 / 2);                    /* multi-byte PkgLength */
	assert_int_equal(d[36], 0x10);                    /* ScopeOp */
	l = pkglen(d + 37, &n);
	assert_true(n >= 2);
	p = d + 37 + l;
	assert_memory_equal(p, s0, sizeof(s0));
	p += 7 + pkglen(p + 7, &n);
	assert_memory_equal(p, s3, sizeof(s3));
	assert_int_equal(p[7 + n + 2], 3);                /* SLP_TYPa 3 */
	p += 7 + pkglen(p + 7, &n);
	assert_memory_equal(p, s5, sizeof(s5));
	l = pkglen(p + 7, &n);
	assert_int_equal(p + 7 + l, d + len);
	assert_int_equal(p[7 + n], 4);                    /* NumElements */
}

static void test_mcfg_when_asked(void **state)
{
	struct x86_firmware_pci pci = { .ecam_base = 0xb0000000,
					.bus_start = 0, .bus_end = 0xff };
	struct x86_firmware fw;
	const uint8_t *m;

	cfg.nr_cpus = 1;
	assert_int_equal(x86_firmware_build(&cfg, &mem, &pci, &fw), 0);
	m = find(fw.rsdp_addr, "MCFG");
	assert_non_null(m);
	assert_int_equal(le32(m + 4), 60);
	assert_int_equal(le64(m + 44), 0xb0000000);
	assert_int_equal(m[52] | m[53] << 8, 0);          /* segment */
	assert_int_equal(m[54], 0);
	assert_int_equal(m[55], 0xff);
	check_rsdt(fw.rsdp_addr);
}

/* A caller that gives only the ECAM still gets PCI0 with the default
 * 32-bit window (DWordMemory 0xC0000000-0xFBFFFFFF) and the ECAM device. */
static void test_pci_ecam_only(void **state)
{
	static const uint8_t win[] = { 0x00, 0x00, 0x00, 0xc0,
				       0xff, 0xff, 0xff, 0xfb };
	struct x86_firmware_pci pci = { .ecam_base = 0xb0000000 };
	struct x86_firmware fw;
	const uint8_t *d;
	uint32_t len;

	assert_int_equal(x86_firmware_build(&cfg, &mem, &pci, &fw), 0);
	d = dsdt(fw.rsdp_addr, &len);
	assert_true(HAS(d, len, "PCI0"));
	assert_true(HAS(d, len, "ECAM"));
	assert_true(has(d, len, win, sizeof(win)));
}

/* QNX's x86 shape: a 256 KiB ROM at 0xC0000 holds the tables. */
static void test_into_config_rom(void **state)
{
	static uint8_t rom[0x40000];
	struct guest_mem m2;
	struct x86_firmware fw;

	guest_mem_init(&m2);
	assert_non_null(guest_mem_add_host(&m2, 0xc0000, sizeof(rom), rom,
					   GUEST_ROM));
	cfg.nr_cpus = 2;
	assert_int_equal(x86_firmware_build(&cfg, &m2, NULL, &fw), 0);
	assert_int_equal(fw.rsdp_addr, 0xf0000);
	assert_memory_equal(rom + 0x30000, "RSD PTR ", 8);
	assert_true(fw.end <= 0x100000 && fw.end > fw.start);
	guest_mem_free(&m2);
}

static void test_no_memory_there(void **state)
{
	struct guest_mem m2;
	struct x86_firmware fw;

	guest_mem_init(&m2);
	assert_int_equal(x86_firmware_build(&cfg, &m2, NULL, &fw), -ENOSPC);
	assert_int_equal(fw.rsdp_addr, 0);
}

/* A fixed-address load into the area owns it: no tables, no error. */
static void test_load_in_bios_area(void **state)
{
	struct x86_firmware fw;

	cfg.loads[0] = (struct load_config){ .type = BLOB_DATA,
					     .has_addr = true,
					     .addr = 0xf0000 };
	cfg.nr_loads = 1;
	assert_int_equal(x86_firmware_build(&cfg, &mem, NULL, &fw), 0);
	assert_int_equal(fw.rsdp_addr, 0);
	assert_int_equal(scan_rsdp(), 0);
}

static void add_ram(uint64_t start, uint64_t size)
{
	cfg.ram[cfg.nr_ram].start = start;
	cfg.ram[cfg.nr_ram++].size = size;
}

static void test_needs_bios_area(void **state)
{
	struct reserve_config *r;

	add_ram(0, 0xa0000);
	add_ram(1 * MiB, 63 * MiB);
	assert_true(x86_firmware_needs_bios_area(&cfg));

	/* `reserve loc` over it is what the area is for. */
	r = &cfg.reserve[cfg.nr_reserve++];
	r->kind = RESERVE_LOC;
	r->loc = (struct cfg_loc){ .space = LOC_MEM, .addr = 0xa0000,
				   .len = 0x60000, .has_len = true };
	assert_true(x86_firmware_needs_bios_area(&cfg));

	/* A device there: the builder cannot map over it. */
	vdev(&pl011_type, 0, 0xdf800, 5);
	assert_false(x86_firmware_needs_bios_area(&cfg));
	cfg.nr_vdevs = 0;
	/* An I/O port with the same number is no memory. */
	vdev(&ser8250_type, 0, 0xe8000, 4);
	assert_true(x86_firmware_needs_bios_area(&cfg));

	cfg.rom[0] = (struct rom_config){ .start = 0xc0000, .size = 0x40000 };
	cfg.nr_rom = 1;
	assert_false(x86_firmware_needs_bios_area(&cfg));
	cfg.nr_rom = 0;

	add_ram(0xf0000, 0x1000);
	assert_false(x86_firmware_needs_bios_area(&cfg));
}

static void test_whole_low_ram(void **state)
{
	add_ram(0, 512 * MiB);
	assert_false(x86_firmware_needs_bios_area(&cfg));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_one_cpu),
		T(test_no_s3_under_firmware),
		T(test_zero_cpus_is_one),
		T(test_four_cpus_pc_devices),
		T(test_rtc_and_virtio_mmio),
		T(test_dsdt_structure),
		T(test_mcfg_when_asked),
		T(test_pci_ecam_only),
		T(test_into_config_rom),
		T(test_no_memory_there),
		T(test_load_in_bios_area),
		T(test_needs_bios_area),
		T(test_whole_low_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
