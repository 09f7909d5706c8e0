/* x86_boot_load on well-formed images: format detection, placement, the
 * boot-information structures and the boot vCPU state. */
#include "fixtures/boot/boot_fixture.h"

static uint8_t code[0x100];
static uint8_t initrd[5000];

static void fill_patterns(void)
{
	for (unsigned i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(i * 7 + 1);
	for (unsigned i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13 + 5);
}

/* ELF with one 0x100-byte segment at 1 MiB, 0x2000 in memory. */
static const char *pvh_elf(struct fixture *fx, bool is64, uint32_t descsz,
			   bool in_section)
{
	static struct img im;
	uint8_t note[32];
	struct telf e = {
		.is64 = is64, .entry = 0x100000, .nr = 1,
		.segs = { { .type = PT_LOAD, .paddr = 0x100000, .data = code,
			    .filesz = sizeof(code), .memsz = 0x2000 } },
		.note = note, .note_in_section = in_section,
	};

	e.note_len = xen_note(note, 0x100010, descsz);
	build_elf(&im, &e);
	return fx_file(fx, im.buf, im.size);
}

static void check_memmap_pvh(struct fixture *fx,
			     const struct hvm_start_info *si)
{
	struct e820_entry want[X86_MEMMAP_MAX];
	const struct hvm_memmap_table_entry *mm;
	int n = x86_memmap_build(&fx->cfg, want, X86_MEMMAP_MAX);

	assert_int_equal(n, 3);
	assert_int_equal(si->memmap_entries, n);
	mm = fx_ptr(fx, si->memmap_paddr, n * sizeof(*mm));
	for (int i = 0; i < n; i++) {
		assert_int_equal(mm[i].addr, want[i].addr);
		assert_int_equal(mm[i].size, want[i].size);
		assert_int_equal(mm[i].type, want[i].type);
	}
	assert_int_equal(mm[2].addr, FX_HIGH);
	assert_int_equal(mm[2].size, FX_HIGH_SIZE);
	assert_int_equal(mm[2].type, E820_RAM);
}

static void test_pvh_elf64(void **state)
{
	struct fixture *fx = *state;
	const struct hvm_start_info *si;
	const struct hvm_modlist_entry *ml;
	const char *img = pvh_elf(fx, true, 4, false);
	const char *rd = fx_file(fx, initrd, sizeof(initrd));
	const uint8_t *seg;

	fx_load(fx, BLOB_GUEST, img);
	fx_load(fx, BLOB_INITRD, rd);
	fx->cfg.cmdline = "console=ttyS0 quiet";
	assert_int_equal(fx_boot(fx), 0);

	assert_int_equal(fx->res.proto, BOOT_PVH);
	assert_int_equal(fx->res.cpu.mode, X86_MODE_PROT32);
	assert_int_equal(fx->res.cpu.rip, 0x100010);
	assert_int_equal(fx->res.cpu.rbx, 0x6000);
	assert_int_equal(fx->res.cpu.rax, 0);
	assert_int_equal(fx->res.info_addr, 0x6000);
	assert_int_equal(fx->res.image_start, 0x100000);
	assert_int_equal(fx->res.image_end, 0x102000);

	seg = fx_ptr(fx, 0x100000, 0x2000);
	assert_memory_equal(seg, code, sizeof(code));
	for (unsigned i = sizeof(code); i < 0x2000; i++)
		assert_int_equal(seg[i], 0);            /* bss zeroed */

	si = fx_ptr(fx, 0x6000, sizeof(*si));
	assert_int_equal(si->magic, 0x336ec578);
	assert_int_equal(si->version, 1);
	assert_int_equal(si->flags, 0);
	assert_int_equal(si->rsdp_paddr, 0);
	assert_string_equal((char *)fx_ptr(fx, si->cmdline_paddr, 20),
			    "console=ttyS0 quiet");

	/* The module goes on the first page after the image. */
	assert_int_equal(si->nr_modules, 1);
	ml = fx_ptr(fx, si->modlist_paddr, sizeof(*ml));
	assert_int_equal(ml->paddr, 0x102000);
	assert_int_equal(ml->size, sizeof(initrd));
	assert_string_equal((char *)fx_ptr(fx, ml->cmdline_paddr, 1), rd);
	assert_memory_equal(fx_ptr(fx, ml->paddr, sizeof(initrd)), initrd,
			    sizeof(initrd));
	check_memmap_pvh(fx, si);
}

static void test_pvh_elf32_section_note(void **state)
{
	struct fixture *fx = *state;
	const struct hvm_start_info *si;

	fx_load(fx, BLOB_GUEST, pvh_elf(fx, false, 8, true));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_PVH);
	assert_int_equal(fx->res.cpu.rip, 0x100010);
	si = fx_ptr(fx, fx->res.info_addr, sizeof(*si));
	assert_int_equal(si->nr_modules, 0);
	assert_int_equal(si->modlist_paddr, 0);
	/* No cmdline configured: an empty string, not a null address. */
	assert_string_equal((char *)fx_ptr(fx, si->cmdline_paddr, 1), "");
}

/* The test guest's shape: ELF32 with both entries. PVH must win. */
static void test_pvh_wins_over_multiboot(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint8_t text[0x200] = { 0 }, note[32];
	struct telf e = {
		.entry = 0x100040, .nr = 1,
		.segs = { { .type = PT_LOAD, .paddr = 0x100000, .data = text,
			    .filesz = sizeof(text), .memsz = sizeof(text) } },
		.note = note,
	};

	mb_header(text, MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO, NULL);
	e.note_len = xen_note(note, 0x100080, 4);
	build_elf(&im, &e);
	fx_load(fx, BLOB_GUEST, fx_file(fx, im.buf, im.size));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_PVH);
	assert_int_equal(fx->res.cpu.rip, 0x100080);
	assert_int_equal(fx->res.cpu.rax, 0);
}

static const char *mb_elf(struct fixture *fx, uint32_t flags)
{
	static struct img im;
	static uint8_t text[0x300];
	/* Linked at 3 GiB + 1 MiB, loaded at 1 MiB: entry is translated. */
	struct telf e = {
		.entry = 0xC0100020, .nr = 1,
		.segs = { { .type = PT_LOAD, .paddr = 0x100000,
			    .vaddr = 0xC0100000, .data = text,
			    .filesz = sizeof(text), .memsz = 0x3000 } },
	};

	memset(text, 0x90, sizeof(text));
	mb_header(text, flags, NULL);
	build_elf(&im, &e);
	return fx_file(fx, im.buf, im.size);
}

static void check_mb_mmap(struct fixture *fx, const struct multiboot_info *mi)
{
	const struct multiboot_mmap_entry *mm;

	assert_int_equal(mi->mmap_length, 3 * 24);
	mm = fx_ptr(fx, mi->mmap_addr, mi->mmap_length);
	assert_int_equal(mm[0].size, 20);
	assert_int_equal(mm[0].addr, 0);
	assert_int_equal(mm[0].len, 0xA0000);
	assert_int_equal(mm[0].type, E820_RAM);
	/* reserve 0xA0000 and rom 0xC0000 touch: one reserved entry. */
	assert_int_equal(mm[1].addr, 0xA0000);
	assert_int_equal(mm[1].len, 0x60000);
	assert_int_equal(mm[1].type, E820_RESERVED);
	assert_int_equal(mm[2].addr, FX_HIGH);
	assert_int_equal(mm[2].len, FX_HIGH_SIZE);
	assert_int_equal(mm[2].type, E820_RAM);
}

static void test_multiboot_elf(void **state)
{
	struct fixture *fx = *state;
	const struct multiboot_info *mi;
	const struct multiboot_mod *mods;
	const char *img = mb_elf(fx, MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO);
	const char *rd1 = fx_file(fx, initrd, sizeof(initrd));
	const char *rd2 = fx_file(fx, code, sizeof(code));
	char want[4200];

	fx_load(fx, BLOB_GUEST, img);
	fx_load_at(fx, BLOB_INITRD, rd1, 0x400000);
	fx_load(fx, BLOB_INITRD, rd2);
	fx->cfg.cmdline = "testguest selftest";
	assert_int_equal(fx_boot(fx), 0);

	assert_int_equal(fx->res.proto, BOOT_MULTIBOOT);
	assert_int_equal(fx->res.cpu.mode, X86_MODE_PROT32);
	assert_int_equal(fx->res.cpu.rip, 0x100020);
	assert_int_equal(fx->res.cpu.rax, 0x2BADB002);
	assert_int_equal(fx->res.cpu.rbx, 0x6000);

	mi = fx_ptr(fx, 0x6000, sizeof(*mi));
	assert_int_equal(mi->flags, (1 << 0) | (1 << 2) | (1 << 3) |
				    (1 << 6) | (1 << 9));
	assert_int_equal(mi->mem_lower, 640);
	assert_int_equal(mi->mem_upper, 15 * 1024);
	/* The image's path first, as GRUB and QEMU pass it. */
	snprintf(want, sizeof(want), "%s testguest selftest", img);
	assert_string_equal((char *)fx_ptr(fx, mi->cmdline, 1), want);
	assert_string_equal((char *)fx_ptr(fx, mi->boot_loader_name, 1),
			    "cvisor");

	assert_int_equal(mi->mods_count, 2);
	mods = fx_ptr(fx, mi->mods_addr, 2 * sizeof(*mods));
	assert_int_equal(mods[0].mod_start, 0x400000);
	assert_int_equal(mods[0].mod_end, 0x400000 + sizeof(initrd));
	assert_string_equal((char *)fx_ptr(fx, mods[0].string, 1), rd1);
	/* Auto-placed: first page after the image's bss. */
	assert_int_equal(mods[1].mod_start, 0x103000);
	assert_int_equal(mods[1].mod_end, 0x103000 + sizeof(code));
	assert_string_equal((char *)fx_ptr(fx, mods[1].string, 1), rd2);
	assert_memory_equal(fx_ptr(fx, 0x400000, sizeof(initrd)), initrd,
			    sizeof(initrd));
	assert_memory_equal(fx_ptr(fx, 0x103000, sizeof(code)), code,
			    sizeof(code));
	check_mb_mmap(fx, mi);
}

/* A flat binary described by the header's address fields (flag 16). */
static void test_multiboot_address_fields(void **state)
{
	struct fixture *fx = *state;
	static uint8_t bin[0x400];
	const uint32_t addr[5] = { 0x200040, 0x200000, 0, 0x203000, 0x200100 };
	const uint8_t *p;

	for (unsigned i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i ^ 0x5a);
	mb_header(bin + 0x40, MB_HF_ADDRESS | MB_HF_MEMORY_INFO, addr);
	fx_load(fx, BLOB_GUEST, fx_file(fx, bin, sizeof(bin)));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_MULTIBOOT);
	assert_int_equal(fx->res.cpu.rip, 0x200100);
	assert_int_equal(fx->res.cpu.rax, 0x2BADB002);
	assert_int_equal(fx->res.image_start, 0x200000);
	assert_int_equal(fx->res.image_end, 0x203000);
	p = fx_ptr(fx, 0x200000, 0x3000);
	assert_memory_equal(p, bin, sizeof(bin));
	for (unsigned i = sizeof(bin); i < 0x3000; i++)
		assert_int_equal(p[i], 0);
}

static void test_raw_with_address(void **state)
{
	struct fixture *fx = *state;
	const char *img = fx_file(fx, code, sizeof(code));

	fx_load_at(fx, BLOB_GUEST, img, 0x7c00);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_RAW);
	assert_int_equal(fx->res.cpu.mode, X86_MODE_PROT32);
	assert_int_equal(fx->res.cpu.rip, 0x7c00);
	assert_int_equal(fx->res.cpu.rbx, 0);
	assert_int_equal(fx->res.info_addr, 0);
	assert_memory_equal(fx_ptr(fx, 0x7c00, sizeof(code)), code,
			    sizeof(code));
}

/* Without RAM below 1 MiB the information follows the modules. */
static void test_info_after_modules(void **state)
{
	struct fixture *fx = *state;
	const struct hvm_start_info *si;

	fx_load(fx, BLOB_GUEST, pvh_elf(fx, true, 4, false));
	fx_load(fx, BLOB_INITRD, fx_file(fx, initrd, sizeof(initrd)));
	assert_int_equal(fx_boot(fx), 0);
	/* image 0x100000-0x102000, module 0x102000-0x103388 */
	assert_int_equal(fx->res.info_addr, 0x104000);
	assert_int_equal(fx->res.cpu.rbx, 0x104000);
	si = fx_ptr(fx, 0x104000, sizeof(*si));
	assert_int_equal(si->magic, XEN_HVM_START_MAGIC_VALUE);
	/* RAM and the BIOS area the firmware tables get */
	assert_int_equal(si->memmap_entries, 2);
}

/* The low spot is taken by the image: the information moves up. */
static void test_info_avoids_low_image(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint8_t note[32];
	struct telf e = {
		.is64 = true, .nr = 1,
		.segs = { { .type = PT_LOAD, .paddr = 0x5000, .data = code,
			    .filesz = sizeof(code), .memsz = 0x3000 } },
		.note = note,
	};

	e.note_len = xen_note(note, 0x5000, 4);
	build_elf(&im, &e);
	fx_load(fx, BLOB_GUEST, fx_file(fx, im.buf, im.size));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.info_addr, 0x8000);
}

/* Blobs with fixed addresses win the low spot; the information moves. */
static void test_info_yields_to_fixed_blobs(void **state)
{
	struct fixture *fx = *state;
	const char *rd = fx_file(fx, initrd, sizeof(initrd));
	const struct hvm_start_info *si;
	const struct hvm_modlist_entry *ml;

	fx_load(fx, BLOB_GUEST, pvh_elf(fx, true, 4, false));
	fx_load_at(fx, BLOB_INITRD, rd, 0x6000);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.info_addr, 0x102000);
	si = fx_ptr(fx, fx->res.info_addr, sizeof(*si));
	ml = fx_ptr(fx, si->modlist_paddr, sizeof(*ml));
	assert_int_equal(ml->paddr, 0x6000);
	assert_memory_equal(fx_ptr(fx, 0x6000, sizeof(initrd)), initrd,
			    sizeof(initrd));
}

/* A bss-only segment is loaded whatever its file offset says, even one
 * that would overflow a pointer into the file (UBSan in the sanitizer pass
 * caught data + offset being formed; found by tests/fuzz, target images). */
static void test_bss_only_segment(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint8_t note[32];
	struct telf e = {
		.is64 = true, .nr = 2, .note = note,
		.segs = { { .type = PT_LOAD, .paddr = 0x100000, .data = code,
			    .filesz = sizeof(code), .memsz = sizeof(code) },
			  { .type = PT_LOAD, .paddr = 0x200000,
			    .offset = 0xfffffffffffff000ULL, .memsz = 0x1000 } },
	};
	const uint8_t *bss;

	e.note_len = xen_note(note, 0x100000, 4);
	build_elf(&im, &e);
	fx_load(fx, BLOB_GUEST, fx_file(fx, im.buf, im.size));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.image_end, 0x201000);
	bss = fx_ptr(fx, 0x200000, 0x1000);
	for (unsigned i = 0; i < 0x1000; i++)
		assert_int_equal(bss[i], 0);
}

static void test_data_blob(void **state)
{
	struct fixture *fx = *state;

	fx_load(fx, BLOB_GUEST, pvh_elf(fx, true, 4, false));
	fx_load_at(fx, BLOB_DATA, fx_file(fx, initrd, 100), 0x300123);
	assert_int_equal(fx_boot(fx), 0);
	assert_memory_equal(fx_ptr(fx, 0x300123, 100), initrd, 100);
}

/* The platform's RSDP reaches start_info unchanged. */
static void test_pvh_rsdp(void **state)
{
	struct fixture *fx = *state;
	const struct hvm_start_info *si;

	fx->plat.rsdp_addr = 0xf0000;
	fx_load(fx, BLOB_GUEST, pvh_elf(fx, true, 4, false));
	assert_int_equal(fx_boot(fx), 0);
	si = fx_ptr(fx, fx->res.info_addr, sizeof(*si));
	assert_int_equal(si->rsdp_paddr, 0xf0000);
}

/* A NULL platform is allowed and means "no RSDP". */
static void test_null_platform(void **state)
{
	struct fixture *fx = *state;
	const struct hvm_start_info *si;

	fx_load(fx, BLOB_GUEST, pvh_elf(fx, true, 4, false));
	assert_int_equal(x86_boot_load(&fx->cfg, &fx->mem, NULL, &fx->res,
				       &fx->err), 0);
	si = fx_ptr(fx, fx->res.info_addr, sizeof(*si));
	assert_int_equal(si->rsdp_paddr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pvh_elf64, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_elf32_section_note, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_wins_over_multiboot, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_elf, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_multiboot_address_fields, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_raw_with_address, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_info_after_modules, fx_setup_high, fx_teardown),
		cmocka_unit_test_setup_teardown(test_info_avoids_low_image, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_info_yields_to_fixed_blobs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bss_only_segment, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_data_blob, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pvh_rsdp, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_null_platform, fx_setup, fx_teardown),
	};

	fill_patterns();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
