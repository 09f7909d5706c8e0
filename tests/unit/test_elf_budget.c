/* The ELF loader's work is bounded by the image and guest RAM, not by what
 * its headers multiply: up to 0xfffe program headers (or 0xffff section
 * headers) that all name the same bytes must be refused quickly, with the
 * load's position, instead of scanning or copying those bytes once each.
 * Before the bounds, the note floods took hours (the alarm turns that into
 * a failure) and the PT_LOAD images were loaded.
 */
#include <signal.h>

#include "fixtures/boot/boot_fixture.h"

#define TIME_LIMIT 20           /* seconds; the bounded load takes ms */
#define ZEROS      (4 * MiB)    /* 349525 empty 12-byte notes */
#define MANY       0xfffe       /* PN_XNUM - 1: the most phdrs allowed */

static uint8_t code[0x100];

/* A big ELF64 x86-64 image on the heap: header, nph program headers,
 * nsh section headers, then ZEROS zero bytes, then code. */
struct big {
	uint8_t *buf;
	size_t size;
	uint64_t zeros, code;   /* offsets */
};

static void big_init(struct big *b, unsigned nph, unsigned nsh)
{
	uint64_t ph = sizeof(Elf64_Ehdr), sh = ph + nph * sizeof(Elf64_Phdr);
	Elf64_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_X86_64,
		.e_version = EV_CURRENT, .e_entry = 0x100000, .e_phoff = ph,
		.e_shoff = nsh ? sh : 0, .e_ehsize = sizeof(h),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (uint16_t)nph,
		.e_shentsize = sizeof(Elf64_Shdr), .e_shnum = (uint16_t)nsh };
	uint8_t id[EI_NIDENT] = { 0x7f, 'E', 'L', 'F', ELFCLASS64,
				  ELFDATA2LSB, EV_CURRENT };

	b->zeros = sh + nsh * sizeof(Elf64_Shdr);
	b->code = b->zeros + ZEROS;
	b->size = b->code + sizeof(code);
	b->buf = calloc(1, b->size);
	assert_non_null(b->buf);
	memcpy(h.e_ident, id, EI_NIDENT);
	memcpy(b->buf, &h, sizeof(h));
	memcpy(b->buf + b->code, code, sizeof(code));
}

static void big_phdr(struct big *b, unsigned i, const Elf64_Phdr *p)
{
	memcpy(b->buf + sizeof(Elf64_Ehdr) + i * sizeof(*p), p, sizeof(*p));
}

static void big_shdr(struct big *b, unsigned i, const Elf64_Shdr *s)
{
	Elf64_Ehdr h;

	memcpy(&h, b->buf, sizeof(h));
	memcpy(b->buf + h.e_shoff + i * sizeof(*s), s, sizeof(*s));
}

/* PT_LOAD at paddr of len bytes from the code (len 0x100 or less), memsz
 * bytes in memory. */
static Elf64_Phdr load_at(const struct big *b, uint64_t paddr, uint64_t len,
			  uint64_t memsz)
{
	return (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = b->code,
		.p_vaddr = paddr, .p_paddr = paddr, .p_filesz = len,
		.p_memsz = memsz, .p_align = 4 };
}

/* Boot the image as the only load and expect msg (after "path: "). */
static void expect_big(struct fixture *fx, struct big *b, const char *msg)
{
	const char *p = fx_file(fx, b->buf, b->size);

	free(b->buf);
	fx_load(fx, BLOB_GUEST, p);
	alarm(TIME_LIMIT);
	fx_expect_err(fx, 1, p, msg);
	alarm(0);
}

/* Every PT_NOTE after the first names the same megabyte of zeros. */
static void test_note_segments_flood(void **state)
{
	Elf64_Phdr n;
	struct big b;

	big_init(&b, MANY, 0);
	big_phdr(&b, 0, (Elf64_Phdr[]){ load_at(&b, 0x100000, 0x100, 0x100) });
	n = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = b.zeros,
			  .p_filesz = ZEROS, .p_align = 4 };
	for (unsigned i = 1; i < MANY; i++)
		big_phdr(&b, i, &n);
	expect_big(*state, &b, "more than 4096 ELF notes in the note segments and sections");
}

/* The same with 0xffff SHT_NOTE sections. */
static void test_note_sections_flood(void **state)
{
	Elf64_Shdr s;
	struct big b;

	big_init(&b, 1, 0xffff);
	big_phdr(&b, 0, (Elf64_Phdr[]){ load_at(&b, 0x100000, 0x100, 0x100) });
	s = (Elf64_Shdr){ .sh_type = SHT_NOTE, .sh_offset = b.zeros,
			  .sh_size = ZEROS, .sh_addralign = 4 };
	for (unsigned i = 1; i < 0xffff; i++)
		big_shdr(&b, i, &s);
	expect_big(*state, &b, "more than 4096 ELF notes in the note segments and sections");
}

/* A PVH note after 4000 empty ones is still found: the budget is far
 * above what real kernels carry (a few dozen notes). */
static void test_notes_within_budget(void **state)
{
	struct fixture *fx = *state;
	struct big b;
	const char *p;

	big_init(&b, 2, 0);
	big_phdr(&b, 0, (Elf64_Phdr[]){ load_at(&b, 0x100000, 0x100, 0x100) });
	xen_note(b.buf + b.zeros + 4000 * 12, 0x100010, 4);
	big_phdr(&b, 1, &(Elf64_Phdr){ .p_type = PT_NOTE,
		.p_offset = b.zeros, .p_filesz = 4000 * 12 + 20,
		.p_align = 4 });
	p = fx_file(fx, b.buf, b.size);
	free(b.buf);
	fx_load(fx, BLOB_GUEST, p);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_PVH);
	assert_int_equal(fx->res.cpu.rip, 0x100010);
}

/* 0xfffe segments that each copy the same 4 MiB of the file to 1 MiB: a
 * terabyte of copying. (Zeroing, with filesz 0, would be as bad where the
 * RAM is pinned or file-backed; the fixture's RAM is zeroed by madvise.) */
static void test_load_segments_flood(void **state)
{
	struct big b;
	Elf64_Phdr p;

	big_init(&b, MANY, 0);
	p = load_at(&b, FX_HIGH, ZEROS, ZEROS);
	p.p_offset = b.zeros;
	for (unsigned i = 0; i < MANY; i++)
		big_phdr(&b, i, &p);
	expect_big(*state, &b, "ELF file has 65534 PT_LOAD segments, more than 64");
}

/* 64 segments load; the 65th is refused. */
static void test_load_segments_limit(void **state)
{
	struct fixture *fx = *state;
	struct big b;
	const char *p;

	for (unsigned nr = 64; nr <= 65; nr++) {
		big_init(&b, nr, 0);
		for (unsigned i = 0; i < nr; i++)
			big_phdr(&b, i, (Elf64_Phdr[]){
				load_at(&b, 0x100000 + i * 0x1000, 0x100, 0x1000) });
		if (nr == 65) {
			expect_big(fx, &b, "ELF file has 65 PT_LOAD segments, more than 64");
			break;
		}
		p = fx_file(fx, b.buf, b.size);
		free(b.buf);
		fx_load(fx, BLOB_GUEST, p);
		assert_int_equal(fx_boot(fx), 0);
		assert_int_equal(fx->res.image_end, 0x100000 + 64 * 0x1000);
		memset(&fx->cfg.loads[0], 0, sizeof(fx->cfg.loads[0]));
		fx->cfg.nr_loads = 0;
	}
}

/* Two segments sharing guest RAM: the second would overwrite the first. */
static void test_load_segments_overlap(void **state)
{
	struct big b;

	big_init(&b, 3, 0);
	big_phdr(&b, 0, (Elf64_Phdr[]){ load_at(&b, 0x200000, 0x100, 0x1000) });
	big_phdr(&b, 1, (Elf64_Phdr[]){ load_at(&b, 0x100000, 0x100, 0x100) });
	big_phdr(&b, 2, (Elf64_Phdr[]){ load_at(&b, 0x200800, 0x100, 0x100) });
	expect_big(*state, &b, "PT_LOAD segment 2 at 0x200800 (size 0x100) overlaps PT_LOAD segment 0 at 0x200000 (size 0x1000)");
}

/* Adjacent segments do not overlap. */
static void test_load_segments_adjacent(void **state)
{
	struct fixture *fx = *state;
	struct big b;
	const char *p;

	big_init(&b, 2, 0);
	big_phdr(&b, 0, (Elf64_Phdr[]){ load_at(&b, 0x100000, 0x100, 0x1000) });
	big_phdr(&b, 1, (Elf64_Phdr[]){ load_at(&b, 0x101000, 0x100, 0x100) });
	p = fx_file(fx, b.buf, b.size);
	free(b.buf);
	fx_load(fx, BLOB_GUEST, p);
	assert_int_equal(fx_boot(fx), 0);
	assert_memory_equal(fx_ptr(fx, 0x101000, sizeof(code)), code,
			    sizeof(code));
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

/* An argument runs only the tests it matches (cmocka's * and ? work). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_note_segments_flood), T(test_note_sections_flood),
		T(test_notes_within_budget), T(test_load_segments_flood),
		T(test_load_segments_limit), T(test_load_segments_overlap),
		T(test_load_segments_adjacent),
	};

	for (unsigned i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(i * 7 + 3);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
