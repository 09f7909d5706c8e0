/* arm64's data side (issue 15): the Linux Image and raw loaders, the
 * initrd and device tree placement, the generated tree read back with
 * libfdt, and the config rules for `intr gic:N`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elf.h>
#include <libfdt.h>

#include "arch/arch.h"
#include "arch/arm64/arm64.h"
#include "bus/pci.h"
#include "config/config.h"
#include "mem/guest_mem.h"

#define RAM  0x80000000ULL
#define RAMSZ (64ULL << 20)

static char dir[] = "/tmp/cvisor-a64-XXXXXX";
/* Every file put_file makes, removed at the end. */
static const char *const names[] = { "Image", "raw.bin", "initrd",
				     "own.dtb", "guest.elf" };
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *put_file(const char *name, const void *data, size_t len)
{
	static char path[8][128];
	static unsigned n;
	char *p = path[n++ % 8];
	FILE *f;

	snprintf(p, 128, "%s/%s", dir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	return p;
}

static const char *image(uint64_t text, uint64_t size, bool magic)
{
	static uint8_t img[0x3000];
	struct arm64_image_header h = {
		.code0 = 0x14000010, .text_offset = text, .image_size = size,
		.magic = magic ? ARM64_IMAGE_MAGIC : 0,
	};

	memset(img, 0x5a, sizeof(img));
	memcpy(img, &h, sizeof(h));
	return put_file(magic ? "Image" : "raw.bin", img, sizeof(img));
}

static int cfg_of(struct vm_config *cfg, const char *extra, const char *img,
		  struct cfg_error *err)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "arch arm64\nram 0x80000000,64m\ncpu\ncpu\nload %s\n"
		 "cmdline \"console=ttyAMA0 hello\"\n"
		 "vdev pl011 loc 0x1c090000 intr gic:37 hostdev >-\n%s\n",
		 img, extra);
	return config_from_string(cfg, "t.qvmconf", text, err);
}

struct booted {
	struct vm_config cfg;
	struct guest_mem mem;
	struct arm64_boot b;
	struct cfg_error err;
	int ret;
};

static void boot(struct booted *t, const char *extra, const char *img)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(cfg_of(&t->cfg, extra, img, &t->err), 0);
	guest_mem_init(&t->mem);
	assert_non_null(guest_mem_add(&t->mem, RAM, RAMSZ, GUEST_RAM));
	t->ret = arm64_boot_load(&t->cfg, &t->mem, NULL, NULL, &t->b, &t->err);
}

static void unboot(struct booted *t)
{
	guest_mem_free(&t->mem);
	config_free(&t->cfg);
}

static const void *tree(struct booted *t)
{
	const void *fdt = guest_mem_ptr(&t->mem, t->b.dtb_addr, 1 << 20);

	assert_non_null(fdt);
	assert_int_equal(fdt_check_header(fdt), 0);
	return fdt;
}

static uint32_t cell(const void *fdt, const char *path, const char *prop,
		     int i)
{
	int len, off = fdt_path_offset(fdt, path);
	const fdt32_t *v;

	assert_true(off >= 0);
	v = fdt_getprop(fdt, off, prop, &len);
	assert_non_null(v);
	assert_true((i + 1) * 4 <= len);
	return fdt32_to_cpu(v[i]);
}

static void test_image(void **state)
{
	struct booted t;
	const uint8_t *p;

	boot(&t, "", image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	assert_true(t.b.linux_image);
	assert_int_equal(t.b.pc, RAM + 0x80000);
	assert_int_equal(t.b.image_end, RAM + 0x80000 + 0x10000);
	/* the tree in the last 2 MiB, x0 its address */
	assert_int_equal(t.b.dtb_addr, RAM + RAMSZ - (2 << 20));
	assert_int_equal(t.b.x0, t.b.dtb_addr);
	p = guest_mem_ptr(&t.mem, t.b.pc, 0x40);
	assert_int_equal(p[0x38], 'A');
	assert_int_equal(p[0x3b], 0x64);
	unboot(&t);
}

static void test_raw(void **state)
{
	struct booted t;

	boot(&t, "", image(0, 0, false));
	assert_int_equal(t.ret, 0);
	assert_false(t.b.linux_image);
	assert_int_equal(t.b.pc, RAM);
	unboot(&t);
}

/* An ELF64 AArch64 executable: one segment of 0x40 bytes in the file,
 * 0x1000 in memory, at physical 0x80200000 (virtual 0xffff000000200000). */
static const char *elf(uint16_t machine, uint64_t filesz, uint64_t paddr)
{
	static uint8_t f[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 0x40];
	Elf64_Ehdr h = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = machine, .e_version = 1,
		.e_entry = 0xffff000000200010ULL, .e_phoff = sizeof(h),
		.e_ehsize = sizeof(h), .e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 1,
	};
	Elf64_Phdr ph = {
		.p_type = PT_LOAD, .p_offset = sizeof(h) + sizeof(ph),
		.p_vaddr = 0xffff000000200000ULL, .p_paddr = paddr,
		.p_filesz = filesz, .p_memsz = 0x1000, .p_flags = PF_R | PF_X,
	};

	memset(f, 0x77, sizeof(f));
	memcpy(f, &h, sizeof(h));
	memcpy(f + sizeof(h), &ph, sizeof(ph));
	return put_file("guest.elf", f, sizeof(f));
}

static void test_elf(void **state)
{
	struct booted t;
	const uint8_t *p;

	boot(&t, "", elf(EM_AARCH64, 0x40, RAM + 0x200000));
	assert_int_equal(t.ret, 0);
	assert_true(t.b.elf);
	assert_int_equal(t.b.pc, RAM + 0x200010);     /* entry made physical */
	assert_int_equal(t.b.image_start, RAM + 0x200000);
	assert_int_equal(t.b.image_end, RAM + 0x201000);
	p = guest_mem_ptr(&t.mem, RAM + 0x200000, 0x1000);
	assert_int_equal(p[0x3f], 0x77);
	assert_int_equal(p[0x40], 0);                   /* the BSS zeroed */
	unboot(&t);
	boot(&t, "", elf(EM_X86_64, 0x40, RAM + 0x200000));
	assert_int_equal(t.ret, -1);
	assert_non_null(strstr(t.err.msg, "not an AArch64 ELF file"));
	unboot(&t);
	boot(&t, "", elf(EM_AARCH64, 0x41, RAM + 0x200000));
	assert_int_equal(t.ret, -1);
	assert_non_null(strstr(t.err.msg, "not within the file"));
	unboot(&t);
	boot(&t, "", elf(EM_AARCH64, 0x40, RAM + RAMSZ - 0x800));
	assert_int_equal(t.ret, -1);
	assert_non_null(strstr(t.err.msg, "not within RAM"));
	unboot(&t);
}

static void test_bad_image(void **state)
{
	struct booted t;

	/* text_offset must be page aligned and below 2 MiB */
	boot(&t, "", image(0x80010, 0x10000, true));
	assert_int_equal(t.ret, -1);
	assert_int_equal(t.err.pos.line, 5);
	assert_non_null(strstr(t.err.msg, "not a valid kernel"));
	unboot(&t);
	/* an Image bigger than its RAM */
	boot(&t, "", image(0x80000, RAMSZ, true));
	assert_int_equal(t.ret, -1);
	assert_non_null(strstr(t.err.msg, "not all RAM"));
	unboot(&t);
}

static void test_initrd(void **state)
{
	static uint8_t rd[5000];
	struct booted t;
	char extra[256];
	const void *fdt;
	int off, len;
	const void *v;

	memset(rd, 0xa5, sizeof(rd));
	snprintf(extra, sizeof(extra), "initrd load %s",
		 put_file("initrd", rd, sizeof(rd)));
	boot(&t, extra, image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	assert_int_equal(t.b.initrd_start & 0xfff, 0);
	assert_true(t.b.initrd_end <= t.b.dtb_addr);
	assert_int_equal(t.b.initrd_end - t.b.initrd_start, sizeof(rd));
	assert_memory_equal(guest_mem_ptr(&t.mem, t.b.initrd_start, sizeof(rd)),
			    rd, sizeof(rd));
	fdt = tree(&t);
	off = fdt_path_offset(fdt, "/chosen");
	v = fdt_getprop(fdt, off, "linux,initrd-start", &len);
	assert_int_equal(len, 8);
	assert_int_equal(fdt64_ld(v), t.b.initrd_start);
	v = fdt_getprop(fdt, off, "linux,initrd-end", &len);
	assert_int_equal(fdt64_ld(v), t.b.initrd_end);
	unboot(&t);
}

/* An image whose end is not 4 KiB aligned, an initrd that fits in the
 * bytes after it: rounded down to its 4 KiB boundary the initrd would
 * start inside the image and overwrite its end; refused instead. */
static void test_initrd_over_image(void **state)
{
	static uint8_t img[0x2801], rd[0x700];
	uint64_t dtb = RAM + RAMSZ - (2 << 20);
	struct booted t;
	char extra[256], load[192];

	memset(img, 0x3c, sizeof(img));
	memset(rd, 0xa5, sizeof(rd));
	/* the image ends at dtb - 0x7ff */
	snprintf(load, sizeof(load), "%#llx,%s",
		 (unsigned long long)(dtb - 0x3000),
		 put_file("raw.bin", img, sizeof(img)));
	snprintf(extra, sizeof(extra), "initrd load %s",
		 put_file("initrd", rd, sizeof(rd)));
	boot(&t, extra, load);
	assert_int_equal(t.ret, -1);
	assert_int_equal(t.err.pos.line, 8);
	assert_non_null(strstr(t.err.msg, "do not fit"));
	/* the image as loaded */
	assert_int_equal(*(const uint8_t *)guest_mem_ptr(&t.mem, dtb - 0x1000,
							 1), 0x3c);
	unboot(&t);
}

static void test_tree(void **state)
{
	struct booted t;
	const void *fdt;
	const char *s;
	int off, n = 0;

	boot(&t, "vdev virtio-entropy loc 0x1c0b0000 intr gic:40",
	     image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	fdt = tree(&t);
	fdt_for_each_subnode(off, fdt, fdt_path_offset(fdt, "/cpus")) {
		s = fdt_getprop(fdt, off, "enable-method", NULL);
		assert_string_equal(s, "psci");
		n++;
	}
	assert_int_equal(n, 2);
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/psci"), "method", NULL);
	assert_string_equal(s, "hvc");
	/* GICv3: distributor, then two redistributor frames of 128 KiB */
	assert_int_equal(cell(fdt, "/intc@8000000", "reg", 1), ARM64_GICD_BASE);
	assert_int_equal(cell(fdt, "/intc@8000000", "reg", 5), ARM64_GICR_BASE);
	assert_int_equal(cell(fdt, "/intc@8000000", "reg", 7), 0x40000);
	/* the virtual timer is PPI 11 (INTID 27) */
	assert_int_equal(cell(fdt, "/timer", "interrupts", 7), 11);
	/* SPIs are INTID - 32; level for the UART, edge for virtio */
	assert_int_equal(cell(fdt, "/pl011@1c090000", "interrupts", 0), 0);
	assert_int_equal(cell(fdt, "/pl011@1c090000", "interrupts", 1), 5);
	assert_int_equal(cell(fdt, "/pl011@1c090000", "interrupts", 2), 4);
	assert_int_equal(cell(fdt, "/virtio_mmio@1c0b0000", "interrupts", 1), 8);
	assert_int_equal(cell(fdt, "/virtio_mmio@1c0b0000", "interrupts", 2), 1);
	assert_int_equal(cell(fdt, "/memory@80000000", "reg", 3), RAMSZ);
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "bootargs", NULL);
	assert_string_equal(s, "console=ttyAMA0 hello");
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "stdout-path",
			NULL);
	assert_string_equal(s, "/pl011@1c090000");
	unboot(&t);
}

/* `vdev gic version 2`: the GICv2's node (distributor, CPU interface)
 * and the timer's PPIs with the CPU mask; version 3 is the default. */
static void test_gicv2_tree(void **state)
{
	struct booted t;
	const void *fdt;
	const char *s;

	boot(&t, "vdev gic version 2", image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	assert_int_equal(arm64_gic_version(&t.cfg), 2);
	fdt = tree(&t);
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/intc@8000000"),
			"compatible", NULL);
	assert_string_equal(s, "arm,cortex-a15-gic");
	assert_int_equal(cell(fdt, "/intc@8000000", "reg", 1), ARM64_GICD_BASE);
	assert_int_equal(cell(fdt, "/intc@8000000", "reg", 3), 0x1000);
	assert_int_equal(cell(fdt, "/intc@8000000", "reg", 5), ARM64_GICC_BASE);
	assert_int_equal(cell(fdt, "/intc@8000000", "reg", 7), 0x2000);
	/* two CPUs: mask 0b11 in bits 8-15, level high */
	assert_int_equal(cell(fdt, "/timer", "interrupts", 8), 0x304);
	unboot(&t);
	boot(&t, "vdev gic version 3", image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	assert_int_equal(arm64_gic_version(&t.cfg), 3);
	s = fdt_getprop(tree(&t), fdt_path_offset(tree(&t), "/intc@8000000"),
			"compatible", NULL);
	assert_string_equal(s, "arm,gic-v3");
	unboot(&t);
}

/* The MMIO 16550 (a bare loc is mem on arm64; regshift spreads its
 * registers, said by reg-shift and reg-io-width) and the PL031 RTC. */
static void test_uart_rtc_tree(void **state)
{
	struct booted t;
	const void *fdt;
	const char *s;
	int len;

	boot(&t, "vdev ser8250 loc 0x1c0a0000 intr gic:43 regshift 2\n"
	     "vdev pl031 loc 0x1c170000 intr gic:44",
	     image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	fdt = tree(&t);
	assert_int_equal(t.cfg.vdevs[1].locs[0].space, LOC_MEM);
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/serial@1c0a0000"),
			"compatible", NULL);
	assert_string_equal(s, "ns16550a");
	assert_int_equal(cell(fdt, "/serial@1c0a0000", "reg", 3), 32);
	assert_int_equal(cell(fdt, "/serial@1c0a0000", "reg-shift", 0), 2);
	assert_int_equal(cell(fdt, "/serial@1c0a0000", "reg-io-width", 0), 4);
	assert_int_equal(cell(fdt, "/serial@1c0a0000", "interrupts", 1), 11);
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/pl031@1c170000"),
			"compatible", &len);
	assert_string_equal(s, "arm,pl031");
	assert_string_equal(s + strlen(s) + 1, "arm,primecell");
	assert_int_equal(cell(fdt, "/pl031@1c170000", "reg", 3), 0x1000);
	assert_int_equal(cell(fdt, "/pl031@1c170000", "interrupts", 1), 12);
	assert_int_equal(cell(fdt, "/pl031@1c170000", "interrupts", 2), 4);
	/* the console stays the first UART: the PL011 */
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/chosen"), "stdout-path",
			NULL);
	assert_string_equal(s, "/pl011@1c090000");
	unboot(&t);
}

/* `fdt load PATH` replaces the generated tree; garbage is refused. */
static void test_fdt_load(void **state)
{
	static char own[512];
	static const char junk[48] = "not a tree at all";
	struct booted t;
	char extra[256];
	const void *fdt;

	assert_int_equal(fdt_create_empty_tree(own, sizeof(own)), 0);
	assert_int_equal(fdt_setprop_string(own, 0, "model", "mine"), 0);
	snprintf(extra, sizeof(extra), "fdt load %s",
		 put_file("own.dtb", own, fdt_totalsize(own)));
	boot(&t, extra, image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	fdt = tree(&t);
	assert_string_equal(fdt_getprop(fdt, 0, "model", NULL), "mine");
	assert_true(fdt_path_offset(fdt, "/cpus") < 0);
	unboot(&t);
	snprintf(extra, sizeof(extra), "fdt load %s",
		 put_file("own.dtb", junk, sizeof(junk)));
	boot(&t, extra, image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, -1);
	assert_int_equal(t.err.pos.line, 8);
	assert_non_null(strstr(t.err.msg, "not a flattened device tree"));
	unboot(&t);
}

static void expect_cfg_error(const char *extra, const char *msg, unsigned col)
{
	struct vm_config cfg;
	struct cfg_error err;

	assert_int_equal(cfg_of(&cfg, extra, image(0x80000, 0x10000, true),
				&err), -1);
	if (!strstr(err.msg, msg))
		fail_msg("'%s' lacks '%s'", err.msg, msg);
	assert_int_equal(err.pos.line, 8);
	assert_int_equal(err.pos.col, col);
}

static void test_gic_rules(void **state)
{
	expect_cfg_error("vdev virtio-entropy loc 0x1c0b0000 intr gic:1020",
			 "out of range for gic (SPIs: 32-1019)", 41);
	expect_cfg_error("vdev virtio-entropy loc 0x1c0b0000 intr gic:16",
			 "out of range", 41);
	expect_cfg_error("vdev virtio-entropy loc 0x1c0b0000 intr gic:37",
			 "interrupt gic:37 already used by", 41);
	expect_cfg_error("vdev virtio-entropy loc 0x1c0b0000 intr ioapic:5",
			 "undefined interrupt controller 'ioapic'", 41);
	expect_cfg_error("vdev pl011 loc 0x1c0c0000",
			 "needs 'intr gic:N' on arm64", 6);
	expect_cfg_error("vdev gic version 4", "version", 18);
	expect_cfg_error("vdev ser8250 intr gic:43", "needs 'loc ADDR' on arm64",
			 6);
	expect_cfg_error("vdev pl031 loc 0x1c170000", "needs 'intr gic:N'", 6);
	expect_cfg_error("vdev ser8250 loc io:0x3f8 intr gic:43",
			 "needs a mem location on arm64", 18);
	expect_cfg_error("vdev ser8250 loc 0x1c0a0000 intr gic:43 regshift 3",
			 "regshift", 50);
	expect_cfg_error("vdev gic loc 0x8000000", "takes no 'loc'", 14);
	expect_cfg_error("vdev gic intr gic:40", "takes no 'intr'", 15);
	expect_cfg_error("vdev gic name intc", "named 'gic'", 6);
	/* the GICv2's CPU interface is in the map: a device there clashes */
	expect_cfg_error("vdev gic version 2 vdev virtio-entropy loc 0x8010000 "
			 "intr gic:40", "cpu interface", 44);
}

/* The GIC is arm64's: an x86 config declaring it is refused; GICv2
 * serves at most 8 CPUs. */
static void test_gic_vdev_arch(void **state)
{
	struct vm_config cfg;
	struct cfg_error err;
	char text[512];

	assert_int_equal(config_from_string(&cfg, "x.qvmconf", "arch x86\n"
					    "ram 64m\nload /dev/null\n"
					    "vdev gic version 3\n", &err), -1);
	assert_non_null(strstr(err.msg, "arm64's interrupt controller"));
	assert_int_equal(err.pos.line, 4);
	snprintf(text, sizeof(text), "arch arm64\nram 0x80000000,64m\n"
		 "cpu\ncpu\ncpu\ncpu\ncpu\ncpu\ncpu\ncpu\ncpu\n"
		 "load /dev/null\nvdev gic version 2\n");
	assert_int_equal(config_from_string(&cfg, "y.qvmconf", text, &err), -1);
	assert_non_null(strstr(err.msg, "at most 8 CPUs"));
	assert_int_equal(err.pos.line, 13);
	assert_int_equal(err.pos.col, 10);
}

/* A virtio device on PCI: the ECAM host bridge's node (bus 0, the 32-bit
 * window, INTx swizzled onto INTIDs 200-203, msi-map to the ITS), the
 * ITS under the GICv3; the bridge's layout as the builder gets it. */
static void test_pci_tree(void **state)
{
	struct booted t;
	struct pci_layout l;
	const void *fdt;
	const char *s;
	const char *pci = "/pcie@3f000000";
	int len;

	boot(&t, "vdev virtio-entropy", image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	fdt = tree(&t);
	s = fdt_getprop(fdt, fdt_path_offset(fdt, pci), "compatible", NULL);
	assert_string_equal(s, "pci-host-ecam-generic");
	s = fdt_getprop(fdt, fdt_path_offset(fdt, pci), "device_type", NULL);
	assert_string_equal(s, "pci");
	assert_int_equal(cell(fdt, pci, "#address-cells", 0), 3);
	assert_int_equal(cell(fdt, pci, "#size-cells", 0), 2);
	assert_int_equal(cell(fdt, pci, "bus-range", 1), 0);
	assert_int_equal(cell(fdt, pci, "reg", 1), ARM64_PCI_ECAM_BASE);
	assert_int_equal(cell(fdt, pci, "reg", 3), 1 << 20);
	/* 32-bit memory, identity-mapped */
	assert_int_equal(cell(fdt, pci, "ranges", 0), 0x02000000);
	assert_int_equal(cell(fdt, pci, "ranges", 2), ARM64_PCI_MMIO32_BASE);
	assert_int_equal(cell(fdt, pci, "ranges", 4), ARM64_PCI_MMIO32_BASE);
	assert_int_equal(cell(fdt, pci, "ranges", 6), ARM64_PCI_MMIO32_SIZE);
	assert_non_null(fdt_getprop(fdt, fdt_path_offset(fdt, pci),
				    "dma-coherent", NULL));
	/* 16 entries of 10 cells; slot 1 INTA -> INTID 201 (SPI 169),
	 * slot 3 INTD -> INTID 202: (slot + pin - 1) % 4 */
	fdt_getprop(fdt, fdt_path_offset(fdt, pci), "interrupt-map", &len);
	assert_int_equal(len, 16 * 10 * 4);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 40), 1 << 11);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 43), 1);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 44), 1);  /* gic */
	assert_int_equal(cell(fdt, pci, "interrupt-map", 48), 169);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 49), 4);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 150), 3 << 11);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 153), 4);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 158), 170);
	assert_int_equal(cell(fdt, pci, "interrupt-map-mask", 0), 0x1800);
	assert_int_equal(cell(fdt, pci, "interrupt-map-mask", 3), 7);
	/* requester IDs are the ITS's device IDs */
	assert_int_equal(cell(fdt, pci, "msi-map", 1),
			 cell(fdt, "/intc@8000000/its@8080000", "phandle", 0));
	assert_int_equal(cell(fdt, pci, "msi-map", 3), 0x10000);
	s = fdt_getprop(fdt, fdt_path_offset(fdt, "/intc@8000000/its@8080000"),
			"compatible", NULL);
	assert_string_equal(s, "arm,gic-v3-its");
	assert_non_null(fdt_getprop(fdt, fdt_path_offset(fdt,
				    "/intc@8000000/its@8080000"),
				    "msi-controller", NULL));
	assert_int_equal(cell(fdt, "/intc@8000000", "#address-cells", 0), 2);
	assert_true(arm64_has_its(&t.cfg));
	arm64_pci_layout(&t.cfg, &l);
	assert_int_equal(l.ecam_base, ARM64_PCI_ECAM_BASE);
	assert_int_equal(l.io_size, 0);
	assert_int_equal(pci_layout_intx(&l, 1, 1), 201);
	assert_int_equal(pci_layout_intx(&l, 3, 4), 202);
	assert_true(pci_layout_msi_ok(&l, ARM64_ITS_BASE + 0x10040));
	assert_false(pci_layout_msi_ok(&l, 0xfee00000));
	unboot(&t);

	/* GICv2: no ITS, INTx only; the GIC's unit address has no cells */
	boot(&t, "vdev gic version 2 vdev virtio-entropy",
	     image(0x80000, 0x10000, true));
	assert_int_equal(t.ret, 0);
	fdt = tree(&t);
	assert_false(arm64_has_its(&t.cfg));
	assert_true(fdt_path_offset(fdt, "/intc@8000000/its@8080000") < 0);
	assert_null(fdt_getprop(fdt, fdt_path_offset(fdt, pci), "msi-map",
				NULL));
	fdt_getprop(fdt, fdt_path_offset(fdt, pci), "interrupt-map", &len);
	assert_int_equal(len, 16 * 8 * 4);
	assert_int_equal(cell(fdt, pci, "interrupt-map", 8 + 6), 169);
	arm64_pci_layout(&t.cfg, &l);
	assert_false(pci_layout_msi_ok(&l, ARM64_ITS_BASE + 0x10040));
	unboot(&t);

	/* without PCI devices: neither the bridge nor the ITS */
	boot(&t, "", image(0x80000, 0x10000, true));
	fdt = tree(&t);
	assert_true(fdt_path_offset(fdt, pci) < 0);
	assert_true(fdt_path_offset(fdt, "/intc@8000000/its@8080000") < 0);
	unboot(&t);
}

/* With PCI, its windows, the ITS and the INTx lines are taken. */
static void test_pci_rules(void **state)
{
	expect_cfg_error("vdev virtio-entropy vdev testdev loc 0x3f000000",
			 "the pci ecam window", 38);
	expect_cfg_error("vdev virtio-entropy vdev testdev loc 0x20001000",
			 "the pci memory window", 38);
	expect_cfg_error("vdev virtio-entropy vdev testdev loc 0x8090000",
			 "the gic its", 38);
	expect_cfg_error("vdev virtio-entropy vdev pl031 loc 0x1c170000 "
			 "intr gic:201", "gic:201 is one of the pci intx lines",
			 52);
}

static void test_gic_lines(void **state)
{
	struct vm_config cfg;
	struct cfg_error err;

	assert_int_equal(cfg_of(&cfg, "vdev virtio-entropy loc 0x1c0b0000 "
				"intr gic:300", image(0x80000, 0x10000, true),
				&err), 0);
	assert_int_equal(arm64_gic_lines(&cfg), 320);
	/* gic:300's route (GSI 268) is in a table that replaces KVM's */
	assert_int_equal(arm64_spi_routes(&cfg), 320 - 32);
	config_free(&cfg);
	/* the highest line KVM's vGIC has: a routing table that replaces
	 * KVM's default must have room for every SPI's route */
	assert_int_equal(cfg_of(&cfg, "vdev virtio-entropy loc 0x1c0b0000 "
				"intr gic:991", image(0x80000, 0x10000, true),
				&err), 0);
	assert_int_equal(arm64_gic_lines(&cfg), ARM64_GIC_KVM_LINES);
	assert_true(arm64_gic_lines(&cfg) - ARM64_GIC_FIRST_SPI <=
		    ARCH_MAX_IRQCHIP_ROUTES);
	assert_int_equal(arm64_spi_routes(&cfg), ARM64_GIC_KVM_LINES - 32);
	config_free(&cfg);
	assert_int_equal(cfg_of(&cfg, "", image(0x80000, 0x10000, true), &err),
			 0);
	assert_int_equal(arm64_gic_lines(&cfg), 256);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_elf),
		cmocka_unit_test(test_bad_image),
		cmocka_unit_test(test_initrd),
		cmocka_unit_test(test_initrd_over_image),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_fdt_load),
		cmocka_unit_test(test_gic_rules),
		cmocka_unit_test(test_gic_lines),
		cmocka_unit_test(test_gicv2_tree),
		cmocka_unit_test(test_uart_rtc_tree),
		cmocka_unit_test(test_gic_vdev_arch),
		cmocka_unit_test(test_pci_tree),
		cmocka_unit_test(test_pci_rules),
	};
	int ret;

	if (!mkdtemp(dir))
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	for (unsigned i = 0; i < ARRAY_LEN(names); i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return ret;
}
