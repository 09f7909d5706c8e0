/* x86_boot_load on hostile or wrong input: every failure names the load (or
 * cmdline) position and says exactly what is wrong. */
#include <signal.h>
#include <sys/stat.h>

#include "fixtures/boot/boot_fixture.h"
#include "core/persist.h"
#include "vm/vm.h"

static uint8_t code[0x100];
static uint8_t initrd[5000];

/* ELF64 PVH image, one segment at 1 MiB; callers patch im before writing. */
static void pvh64(struct img *im, struct tseg *segs, unsigned nr,
		  uint64_t entry)
{
	uint8_t note[32];
	struct telf e = { .is64 = true, .nr = nr, .note = note };

	memcpy(e.segs, segs, nr * sizeof(*segs));
	e.note_len = xen_note(note, entry, 4);
	build_elf(im, &e);
}

static const struct tseg seg_1m = { .type = PT_LOAD, .paddr = 0x100000,
				    .data = code, .filesz = sizeof(code),
				    .memsz = sizeof(code) };

static const char *good_pvh(struct fixture *fx)
{
	static struct img im;

	pvh64(&im, (struct tseg[]){ seg_1m }, 1, 0x100000);
	return fx_file(fx, im.buf, im.size);
}

/* Expect failure of a single-load guest made of im. */
static void expect_img(struct fixture *fx, const struct img *im,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void expect_img(struct fixture *fx, const struct img *im,
		       const char *fmt, ...)
{
	const char *p = fx_file(fx, im->buf, im->size);
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fx_load(fx, BLOB_GUEST, p);
	fx_expect_err(fx, 1, p, msg);
}

static void test_truncated_header(void **state)
{
	struct fixture *fx = *state;
	struct img im = { .buf = "\x7f" "ELF\x02\x01\x01", .size = 27 };

	expect_img(fx, &im, "truncated ELF header (27 bytes)");
}

static void test_truncated_ident(void **state)
{
	struct fixture *fx = *state;
	struct img im = { .buf = "\x7f" "ELF\x01", .size = 5 };

	expect_img(fx, &im, "truncated ELF header (5 bytes)");
}

static void test_phdrs_out_of_file(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint64_t off;

	pvh64(&im, (struct tseg[]){ seg_1m }, 1, 0x100000);
	off = im.size - 10;
	memcpy(im.buf + offsetof(Elf64_Ehdr, e_phoff), &off, 8);
	expect_img(fx, &im, "truncated: program headers at 0x%" PRIx64
		   " (2 x 56 bytes) run past the end of the file (%zu bytes)",
		   off, im.size);
}

static void test_phoff_overflow(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint64_t off = 0xfffffffffffffff0ULL;

	pvh64(&im, (struct tseg[]){ seg_1m }, 1, 0x100000);
	memcpy(im.buf + offsetof(Elf64_Ehdr, e_phoff), &off, 8);
	expect_img(fx, &im, "truncated: program headers at 0xfffffffffffffff0"
		   " (2 x 56 bytes) run past the end of the file (%zu bytes)",
		   im.size);
}

static void test_no_phdrs(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint16_t zero = 0;

	pvh64(&im, (struct tseg[]){ seg_1m }, 1, 0x100000);
	memcpy(im.buf + offsetof(Elf64_Ehdr, e_phnum), &zero, 2);
	expect_img(fx, &im, "ELF file has no program headers");
}

static void test_wrong_machine(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint16_t arm = EM_ARM;

	pvh64(&im, (struct tseg[]){ seg_1m }, 1, 0x100000);
	memcpy(im.buf + offsetof(Elf64_Ehdr, e_machine), &arm, 2);
	expect_img(fx, &im, "ELF file is not for x86 (machine 40)");
}

static void test_segment_data_out_of_file(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	struct tseg s = seg_1m;

	s.offset = 0x10000;
	pvh64(&im, &s, 1, 0x100000);
	expect_img(fx, &im, "truncated: PT_LOAD segment 0 data at offset 0x10000"
		   " (size 0x100) runs past the end of the file (%zu bytes)",
		   im.size);
}

static void test_segment_offset_overflow(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	struct tseg s = seg_1m;

	s.offset = 0xfffffffffffffff0ULL;
	pvh64(&im, &s, 1, 0x100000);
	expect_img(fx, &im, "truncated: PT_LOAD segment 0 data at offset 0xfffffffffffffff0"
		   " (size 0x100) runs past the end of the file (%zu bytes)",
		   im.size);
}

static void test_segment_outside_ram(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	struct tseg s[2] = { seg_1m, seg_1m };

	s[1].paddr = 0x2000000;
	pvh64(&im, s, 2, 0x100000);
	expect_img(fx, &im, "PT_LOAD segment 1 at 0x2000000 (size 0x100) is outside guest RAM");
}

static void test_segment_across_hole(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	struct tseg s = seg_1m;

	s.paddr = 0x9f000;
	s.memsz = 0x2000;
	pvh64(&im, &s, 1, 0x100000);
	expect_img(fx, &im, "PT_LOAD segment 0 at 0x9f000 (size 0x2000) is outside guest RAM");
}

static void test_segment_wraps(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	struct tseg s = seg_1m;

	s.paddr = 0xfffffffffffff000ULL;
	s.memsz = 0x2000;
	pvh64(&im, &s, 1, 0x100000);
	expect_img(fx, &im, "PT_LOAD segment 0 at 0xfffffffffffff000 (size 0x2000) is outside guest RAM");
}

static void test_filesz_above_memsz(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	struct tseg s = seg_1m;

	s.memsz = 0x80;
	pvh64(&im, &s, 1, 0x100000);
	expect_img(fx, &im, "PT_LOAD segment 0 has a file size 0x100 larger than its memory size 0x80");
}

static void test_entry_outside_ram(void **state)
{
	struct fixture *fx = *state;
	static struct img im;

	pvh64(&im, (struct tseg[]){ seg_1m }, 1, 0x5000000);
	expect_img(fx, &im, "entry point 0x5000000 is outside guest RAM");
}

static void test_bad_note_size(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	uint8_t note[32];
	struct telf e = { .is64 = true, .nr = 1, .segs = { seg_1m },
			  .note = note };

	e.note_len = xen_note(note, 0x100000, 2);
	build_elf(&im, &e);
	expect_img(fx, &im, "PVH entry note has a 2-byte value (expected 4 or 8)");
}

static void test_note_out_of_file(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	const size_t note_ph = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
	uint64_t big = 0x100000;

	pvh64(&im, (struct tseg[]){ seg_1m }, 1, 0x100000);
	memcpy(im.buf + note_ph + offsetof(Elf64_Phdr, p_filesz), &big, 8);
	expect_img(fx, &im, "truncated: note segment 1 at 0x%zx (size 0x100000) runs past the end of the file",
		   note_ph + sizeof(Elf64_Phdr));
}

static void test_elf_without_entry_notes(void **state)
{
	struct fixture *fx = *state;
	static struct img im;
	/* ELF32: an ELF64 x86-64 file without notes is a Linux vmlinux. */
	struct telf e = { .is64 = false, .nr = 1, .segs = { seg_1m } };

	build_elf(&im, &e);
	expect_img(fx, &im, "ELF image has neither a PVH note nor a multiboot header, and is not a 64-bit x86 kernel (vmlinux)");
}

static void test_bad_multiboot_checksum(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };
	uint32_t h[3] = { MB_HEADER_MAGIC, 0, 0 };

	memcpy(im.buf + 0x20, h, sizeof(h));
	expect_img(fx, &im, "multiboot header at offset 0x20 has a bad checksum");
}

static void test_multiboot_video(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };

	mb_header(im.buf, MB_HF_VIDEO_MODE | MB_HF_PAGE_ALIGN, NULL);
	expect_img(fx, &im, "multiboot header requires a video mode (flag 2), which cvisor does not provide");
}

static void test_multiboot_unknown_flag(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };

	mb_header(im.buf, 1u << 5 | MB_HF_MEMORY_INFO, NULL);
	expect_img(fx, &im, "multiboot header requires unsupported features (flags 0x20)");
}

static void test_multiboot_no_address_not_elf(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };

	mb_header(im.buf, MB_HF_MEMORY_INFO, NULL);
	expect_img(fx, &im, "multiboot header without address fields (flag 16) in a file that is not ELF");
}

static void test_multiboot_truncated_text(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };
	const uint32_t a[5] = { 0x200000, 0x200000, 0x201000, 0, 0x200000 };

	mb_header(im.buf, MB_HF_ADDRESS, a);
	expect_img(fx, &im, "truncated: multiboot image needs 0x1000 bytes from offset 0x0, the file has 256");
}

static void test_multiboot_bad_load_addr(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };
	const uint32_t a[5] = { 0x200000, 0x200010, 0, 0, 0x200000 };

	mb_header(im.buf, MB_HF_ADDRESS, a);
	expect_img(fx, &im, "multiboot load_addr 0x200010 does not fit header_addr 0x200000 at offset 0x0");
}

static void test_multiboot_outside_ram(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };
	const uint32_t a[5] = { 0xfff00000, 0xfff00000, 0, 0xfff02000,
				0xfff00000 };

	mb_header(im.buf, MB_HF_ADDRESS, a);
	expect_img(fx, &im, "multiboot image at 0xfff00000 (size 0x2000) is outside guest RAM");
}

static void test_raw_without_address(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .buf = "\xeb\xfe", .size = 2 };

	expect_img(fx, &im, "not a kernel: neither an ELF image, a multiboot image, a Linux bzImage, nor a raw image with a load address");
}

static void test_raw_empty(void **state)
{
	struct fixture *fx = *state;
	const char *p = fx_file(fx, "", 0);

	fx_load_at(fx, BLOB_GUEST, p, 0x1000);
	fx_expect_err(fx, 1, p, "image is empty");
}

static void test_unreadable(void **state)
{
	struct fixture *fx = *state;

	fx_load(fx, BLOB_GUEST, "/nonexistent/guest.elf");
	fx_expect_err(fx, 1, "/nonexistent/guest.elf",
		      "cannot read: No such file or directory");
}

/* A FIFO with no writer: `cvisor check` reads through read_file(), a run
 * through the descriptor vm_kept_file() keeps for resets. Both must refuse
 * it with the same message; the run's blocking open hung in open(2) for
 * good (the alarm makes that a failure). */
static void test_fifo(void **state)
{
	struct fixture *fx = *state;
	struct persist *p = persist_new();
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path;

	assert_true(asprintf(&path, "%s/cvisor-fifo-%d", dir, getpid()) > 0);
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	fx->paths[fx->nr_paths++] = path;     /* the fixture removes it */
	fx_load(fx, BLOB_GUEST, path);
	fx_expect_err(fx, 1, path, "cannot read: Invalid argument");
	fx->plat.read_file = vm_kept_file;
	fx->plat.read_ctx = p;
	alarm(20);
	fx_expect_err(fx, 1, path, "cannot read: Invalid argument");
	alarm(0);
	persist_free(p);
}

static void test_missing_guest(void **state)
{
	struct fixture *fx = *state;

	fx_load(fx, BLOB_INITRD, fx_file(fx, initrd, 10));
	fx_expect_err(fx, 1, NULL, "no guest image: one load without a blob type (or guest load) is required");
	fx->cfg.nr_loads = 0;
	assert_int_equal(fx_boot(fx), -1);
	assert_string_equal(fx->err.pos.file, "<config>");
}

static void test_two_guests(void **state)
{
	struct fixture *fx = *state;
	const char *a = good_pvh(fx), *b = good_pvh(fx);
	char want[256];

	fx_load(fx, BLOB_GUEST, a);
	fx_load(fx, BLOB_GUEST, b);
	snprintf(want, sizeof(want), "a second guest image (%s is already the guest); only one load may be the guest",
		 a);
	fx_expect_err(fx, 2, b, want);
}

static void test_cmdline_too_long(void **state)
{
	struct fixture *fx = *state;
	static char line[5001];

	fx_load(fx, BLOB_GUEST, good_pvh(fx));
	memset(line, 'a', 4095);
	fx->cfg.cmdline = line;
	assert_int_equal(fx_boot(fx), 0);             /* the limit itself */
	memset(line, 'a', 5000);
	fx_expect_err(fx, 99, NULL, "command line is 5000 bytes long, more than the 4095 allowed");
	/* The error keeps its own copy of the file name. */
	assert_string_equal(fx->err.file, "test.qvmconf");
	assert_ptr_equal(fx->err.pos.file, fx->err.file);
	assert_int_equal(fx->err.pos.col, 9);
}

static void test_unsupported_blobs(void **state)
{
	struct fixture *fx = *state;
	const char *t = fx_file(fx, initrd, 16);

	fx_load(fx, BLOB_GUEST, good_pvh(fx));
	fx_load(fx, BLOB_FDT, t);
	fx_expect_err(fx, 2, t, "fdt blobs are not supported yet");
	fx->cfg.loads[1].type = BLOB_ACPI;
	fx_expect_err(fx, 2, t, "acpi blobs are not supported yet");
	fx->cfg.loads[1].type = BLOB_DATA;
	fx_expect_err(fx, 2, t, "a data blob needs an address (data load ADDR,path)");
}

static void test_data_overlaps_image(void **state)
{
	struct fixture *fx = *state;
	const char *g = good_pvh(fx), *d = fx_file(fx, initrd, 100);
	char want[256];

	fx_load(fx, BLOB_GUEST, g);
	fx_load_at(fx, BLOB_DATA, d, 0x100080);
	snprintf(want, sizeof(want), "data at 0x100080 (size 0x64) overlaps %s", g);
	fx_expect_err(fx, 2, d, want);
	fx->cfg.loads[1].addr = 0x10000000;
	fx_expect_err(fx, 2, d, "data at 0x10000000 (size 0x64) is outside guest memory");
}

static void test_module_errors(void **state)
{
	struct fixture *fx = *state;
	const char *g = good_pvh(fx), *rd = fx_file(fx, initrd, sizeof(initrd));
	const char *rd2;
	char want[256];

	fx_load(fx, BLOB_GUEST, g);
	fx_load_at(fx, BLOB_INITRD, rd, 0x100000);
	snprintf(want, sizeof(want), "module at 0x100000 (size 0x1388) overlaps %s", g);
	fx_expect_err(fx, 2, rd, want);
	fx->cfg.loads[1].addr = 0xF00000 + 0x100000 - 0x1000;
	fx_expect_err(fx, 2, rd, "module at 0xfff000 (size 0x1388) is outside guest RAM below 4 GiB");
	/* A second module may not sit on the first. */
	fx->cfg.loads[1].addr = 0x400000;
	rd2 = fx_file(fx, initrd, 0x100);
	fx_load_at(fx, BLOB_INITRD, rd2, 0x401000);
	snprintf(want, sizeof(want), "module at 0x401000 (size 0x100) overlaps %s",
		 rd);
	fx_expect_err(fx, 3, rd2, want);
}

static void test_multiboot_module_alignment(void **state)
{
	struct fixture *fx = *state;
	static struct img im = { .size = 0x100 };
	const uint32_t a[5] = { 0x200000, 0x200000, 0, 0, 0x200000 };
	const char *rd = fx_file(fx, initrd, sizeof(initrd));

	mb_header(im.buf, MB_HF_ADDRESS | MB_HF_PAGE_ALIGN, a);
	fx_load(fx, BLOB_GUEST, fx_file(fx, im.buf, im.size));
	fx_load_at(fx, BLOB_INITRD, rd, 0x400010);
	fx_expect_err(fx, 2, rd, "module at 0x400010 is not page-aligned as the multiboot header requires");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_truncated_header), T(test_truncated_ident),
		T(test_phdrs_out_of_file), T(test_phoff_overflow),
		T(test_no_phdrs), T(test_wrong_machine),
		T(test_segment_data_out_of_file),
		T(test_segment_offset_overflow), T(test_segment_outside_ram),
		T(test_segment_across_hole), T(test_segment_wraps),
		T(test_filesz_above_memsz), T(test_entry_outside_ram),
		T(test_bad_note_size), T(test_note_out_of_file),
		T(test_elf_without_entry_notes),
		T(test_bad_multiboot_checksum), T(test_multiboot_video),
		T(test_multiboot_unknown_flag),
		T(test_multiboot_no_address_not_elf),
		T(test_multiboot_truncated_text),
		T(test_multiboot_bad_load_addr), T(test_multiboot_outside_ram),
		T(test_raw_without_address), T(test_raw_empty),
		T(test_unreadable), T(test_fifo), T(test_missing_guest), T(test_two_guests),
		T(test_cmdline_too_long), T(test_unsupported_blobs),
		T(test_data_overlaps_image), T(test_module_errors),
		T(test_multiboot_module_alignment),
	};

	for (unsigned i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)i;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
