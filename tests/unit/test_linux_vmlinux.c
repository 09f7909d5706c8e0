/* Linux vmlinux (ELF64 without a PVH note): loaded at p_paddr, entered at
 * the physical e_entry in long mode with a minimal zero page. */
#include "fixtures/boot/linux_fixture.h"

#define KVIRT 0xffffffff81000000ULL
#define KPHYS 0x1000000ULL

static uint8_t text[0x300];
static uint8_t initrd[3000];
static struct img im;

/* vmlinux shape: one text segment linked high, loaded at 16 MiB, with bss;
 * e_entry is virtual (or physical, as real vmlinux files have). */
static const char *vmlinux(struct fixture *fx, uint64_t entry, bool pvh)
{
	uint8_t note[32];
	struct telf e = {
		.is64 = true, .entry = entry, .nr = 1,
		.segs = { { .type = PT_LOAD, .paddr = KPHYS, .vaddr = KVIRT,
			    .data = text, .filesz = sizeof(text),
			    .memsz = 0x4000 } },
	};

	if (pvh) {
		e.note = note;
		e.note_len = xen_note(note, KPHYS + 0x40, 4);
	}
	build_elf(&im, &e);
	return fx_file(fx, im.buf, im.size);
}

static void test_vmlinux(void **state)
{
	struct fixture *fx = *state;
	const struct x86_boot_state *cpu = &fx->res.cpu;
	const struct boot_params *zp;
	const uint8_t *k;

	fx_load(fx, BLOB_GUEST, vmlinux(fx, KVIRT + 0x100, false));
	fx_load(fx, BLOB_INITRD, fx_file(fx, initrd, sizeof(initrd)));
	fx->cfg.cmdline = "console=ttyS0";
	fx->plat.rsdp_addr = 0xe0000;
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_LINUX);
	assert_int_equal(cpu->mode, X86_MODE_LONG64);
	assert_int_equal(cpu->rip, KPHYS + 0x100);
	assert_int_equal(cpu->rsi, 0x7000);
	assert_int_equal(cpu->cr3, 0x9000);
	assert_int_equal(cpu->gdt_base, 0x5000);
	assert_int_equal(fx->res.image_start, KPHYS);
	assert_int_equal(fx->res.image_end, KPHYS + 0x4000);
	k = fx_ptr(fx, KPHYS, 0x4000);
	assert_memory_equal(k, text, sizeof(text));
	assert_int_equal(k[0x3fff], 0);                   /* bss */

	zp = lx_zp(fx);
	assert_int_equal(zp->hdr.boot_flag, 0xAA55);
	assert_int_equal(zp->hdr.header, 0x53726448);
	assert_int_equal(zp->hdr.version, 0x020f);
	assert_int_equal(zp->hdr.type_of_loader, 0xff);
	assert_int_equal(zp->hdr.loadflags & LINUX_LOADED_HIGH, LINUX_LOADED_HIGH);
	assert_int_equal(zp->hdr.kernel_alignment, 0x1000000);
	assert_int_equal(zp->hdr.cmdline_size, 2047);
	assert_int_equal(zp->hdr.cmd_line_ptr, 0xF000);
	assert_string_equal((char *)fx_ptr(fx, 0xF000, 14), "console=ttyS0");
	assert_int_equal(zp->acpi_rsdp_addr, 0xe0000);
	assert_int_equal(zp->e820_entries, 3);
	assert_int_equal(zp->e820_table[2].addr, 1 * MiB);
	assert_int_equal(zp->e820_table[2].size, 63 * MiB);
	assert_int_equal(zp->hdr.ramdisk_image,
			 ALIGN_DOWN(LX_RAM_TOP - sizeof(initrd), 4096));
	assert_int_equal(zp->hdr.ramdisk_size, sizeof(initrd));
	assert_int_equal(zp->sentinel, 0);
	assert_int_equal(lx_walk(fx, cpu->cr3, KPHYS + 0x100), KPHYS + 0x100);
}

/* Real vmlinux files carry the physical entry in e_entry. */
static void test_vmlinux_physical_entry(void **state)
{
	struct fixture *fx = *state;

	fx_load(fx, BLOB_GUEST, vmlinux(fx, KPHYS, false));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.cpu.rip, KPHYS);
}

/* With the Xen note, the same file boots through PVH. */
static void test_vmlinux_pvh_note_wins(void **state)
{
	struct fixture *fx = *state;

	fx_load(fx, BLOB_GUEST, vmlinux(fx, KPHYS, true));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_PVH);
	assert_int_equal(fx->res.cpu.mode, X86_MODE_PROT32);
	assert_int_equal(fx->res.cpu.rip, KPHYS + 0x40);
}

/* x86's COMMAND_LINE_SIZE is 2048 with the NUL. */
static void test_vmlinux_cmdline_limit(void **state)
{
	struct fixture *fx = *state;
	static char line[2049];

	memset(line, 'a', 2047);
	fx_load(fx, BLOB_GUEST, vmlinux(fx, KPHYS, false));
	fx->cfg.cmdline = line;
	assert_int_equal(fx_boot(fx), 0);
	line[2047] = 'b';
	assert_int_equal(fx_boot(fx), -1);
	assert_string_equal(fx->err.msg, "command line is 2048 bytes long, more than the 2047 the kernel accepts (cmdline_size)");
}

static void test_vmlinux_outside_ram(void **state)
{
	struct fixture *fx = *state;
	uint8_t *p;
	const char *path;
	char msg[256];

	vmlinux(fx, KPHYS, false);
	/* Move the segment to 128 MiB, past the end of RAM. */
	p = im.buf + sizeof(Elf64_Ehdr) + offsetof(Elf64_Phdr, p_paddr);
	*(uint64_t *)(void *)p = 0x8000000;
	path = fx_file(fx, im.buf, im.size);
	fx_load(fx, BLOB_GUEST, path);
	snprintf(msg, sizeof(msg), "PT_LOAD segment 0 at 0x8000000 (size 0x4000) is outside guest RAM");
	fx_expect_err(fx, 1, path, msg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, lx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_vmlinux), T(test_vmlinux_physical_entry),
		T(test_vmlinux_pvh_note_wins), T(test_vmlinux_cmdline_limit),
		T(test_vmlinux_outside_ram),
	};

	for (unsigned i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i * 11 + 7);
	for (unsigned i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 5 + 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
