#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include "arch/x86/elf_load.h"
#include "mem/guest_mem.h"

/* Little-endian field readers: the file's byte order, not the host's. */
static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

#define F32(p, type, field) rd32((p) + offsetof(type, field))
#define F64(p, type, field) rd64((p) + offsetof(type, field))
#define F16(p, type, field) rd16((p) + offsetof(type, field))

/* [off, off+len) lies inside the file. */
static bool in_file(const struct boot_file *f, uint64_t off, uint64_t len)
{
	return off <= f->size && len <= f->size - off;
}

bool elf_is_elf(const struct boot_file *f)
{
	return f->size >= SELFMAG && !memcmp(f->data, ELFMAG, SELFMAG);
}

static int parse_ident(const struct boot_file *f, struct elf_file *ef)
{
	const uint8_t *id = f->data;

	if (f->size < EI_NIDENT)
		return boot_file_err(f, "truncated ELF header (%zu bytes)",
				     f->size);
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return boot_file_err(f, "unknown ELF class %u", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return boot_file_err(f, "not a little-endian ELF file");
	ef->is64 = id[EI_CLASS] == ELFCLASS64;
	if (f->size < (ef->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return boot_file_err(f, "truncated ELF header (%zu bytes)",
				     f->size);
	return 0;
}

static void parse_ehdr(const uint8_t *p, struct elf_file *ef)
{
	if (ef->is64) {
		ef->machine = F16(p, Elf64_Ehdr, e_machine);
		ef->entry = F64(p, Elf64_Ehdr, e_entry);
		ef->phoff = F64(p, Elf64_Ehdr, e_phoff);
		ef->shoff = F64(p, Elf64_Ehdr, e_shoff);
		ef->phentsize = F16(p, Elf64_Ehdr, e_phentsize);
		ef->phnum = F16(p, Elf64_Ehdr, e_phnum);
		ef->shentsize = F16(p, Elf64_Ehdr, e_shentsize);
		ef->shnum = F16(p, Elf64_Ehdr, e_shnum);
	} else {
		ef->machine = F16(p, Elf32_Ehdr, e_machine);
		ef->entry = F32(p, Elf32_Ehdr, e_entry);
		ef->phoff = F32(p, Elf32_Ehdr, e_phoff);
		ef->shoff = F32(p, Elf32_Ehdr, e_shoff);
		ef->phentsize = F16(p, Elf32_Ehdr, e_phentsize);
		ef->phnum = F16(p, Elf32_Ehdr, e_phnum);
		ef->shentsize = F16(p, Elf32_Ehdr, e_shentsize);
		ef->shnum = F16(p, Elf32_Ehdr, e_shnum);
	}
}

int elf_parse(const struct boot_file *f, struct elf_file *ef)
{
	size_t phsize;
	uint16_t type;

	memset(ef, 0, sizeof(*ef));
	ef->f = f;
	if (parse_ident(f, ef))
		return -1;
	parse_ehdr(f->data, ef);
	type = rd16(f->data + offsetof(Elf32_Ehdr, e_type));
	if (type != ET_EXEC && type != ET_DYN)
		return boot_file_err(f, "ELF file is not an executable (type %u)",
				     type);
	if (ef->machine != EM_386 && ef->machine != EM_X86_64)
		return boot_file_err(f, "ELF file is not for x86 (machine %u)",
				     ef->machine);
	phsize = ef->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (!ef->phnum || ef->phnum == PN_XNUM)
		return boot_file_err(f, "ELF file has %s program headers",
				     ef->phnum ? "too many" : "no");
	if (ef->phentsize < phsize)
		return boot_file_err(f, "ELF program header size %u is too small",
				     ef->phentsize);
	if (!in_file(f, ef->phoff, (uint64_t)ef->phnum * ef->phentsize))
		return boot_file_err(f, "truncated: program headers at 0x%" PRIx64
				     " (%u x %u bytes) run past the end of the file (%zu bytes)",
				     ef->phoff, ef->phnum, ef->phentsize, f->size);
	return 0;
}

void elf_phdr(const struct elf_file *ef, unsigned i, struct elf_seg *s)
{
	const uint8_t *p = ef->f->data + ef->phoff + (uint64_t)i * ef->phentsize;

	if (ef->is64) {
		s->type = F32(p, Elf64_Phdr, p_type);
		s->offset = F64(p, Elf64_Phdr, p_offset);
		s->vaddr = F64(p, Elf64_Phdr, p_vaddr);
		s->paddr = F64(p, Elf64_Phdr, p_paddr);
		s->filesz = F64(p, Elf64_Phdr, p_filesz);
		s->memsz = F64(p, Elf64_Phdr, p_memsz);
		s->align = F64(p, Elf64_Phdr, p_align);
	} else {
		s->type = F32(p, Elf32_Phdr, p_type);
		s->offset = F32(p, Elf32_Phdr, p_offset);
		s->vaddr = F32(p, Elf32_Phdr, p_vaddr);
		s->paddr = F32(p, Elf32_Phdr, p_paddr);
		s->filesz = F32(p, Elf32_Phdr, p_filesz);
		s->memsz = F32(p, Elf32_Phdr, p_memsz);
		s->align = F32(p, Elf32_Phdr, p_align);
	}
}

int elf_shdr(const struct elf_file *ef, unsigned i, struct elf_sect *s)
{
	const struct boot_file *f = ef->f;
	size_t shsize = ef->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	const uint8_t *p;

	if (ef->shentsize < shsize)
		return boot_file_err(f, "ELF section header size %u is too small",
				     ef->shentsize);
	if (!in_file(f, ef->shoff, (uint64_t)ef->shnum * ef->shentsize))
		return boot_file_err(f, "truncated: section headers at 0x%" PRIx64
				     " (%u x %u bytes) run past the end of the file (%zu bytes)",
				     ef->shoff, ef->shnum, ef->shentsize, f->size);
	p = f->data + ef->shoff + (uint64_t)i * ef->shentsize;
	if (ef->is64) {
		s->type = F32(p, Elf64_Shdr, sh_type);
		s->offset = F64(p, Elf64_Shdr, sh_offset);
		s->size = F64(p, Elf64_Shdr, sh_size);
		s->align = F64(p, Elf64_Shdr, sh_addralign);
	} else {
		s->type = F32(p, Elf32_Shdr, sh_type);
		s->offset = F32(p, Elf32_Shdr, sh_offset);
		s->size = F32(p, Elf32_Shdr, sh_size);
		s->align = F32(p, Elf32_Shdr, sh_addralign);
	}
	return 0;
}

/* Notes one search may look at, across every PT_NOTE segment and SHT_NOTE
 * section. A kernel carries a few dozen (Linux: its Xen notes, build ID and
 * a handful of its own, each seen twice, once in the segment and once in
 * the section); 4096 is far above that. Without a bound, 0xfffe PT_NOTE
 * headers that all name the same gigabyte of zeros (12-byte empty notes)
 * made the search walk some 6 * 10^12 notes: hours before the guest
 * started. The budget makes a search O(ELF_MAX_NOTES + headers). */
#define ELF_MAX_NOTES 4096

struct note_query {
	const char *name;
	uint32_t type;
	const uint8_t *desc;
	uint32_t descsz;
	unsigned left;          /* of ELF_MAX_NOTES */
};

/* Walk the notes in [off, off+len). Notes are padded to 4 bytes, or 8 when
 * the segment says so (the gABI's ELF64 rule, which few producers follow). */
static int scan_notes(const struct elf_file *ef, uint64_t off, uint64_t len,
		      uint64_t align, const char *where, unsigned idx,
		      struct note_query *q)
{
	const struct boot_file *f = ef->f;
	uint64_t pad = align == 8 ? 8 : 4, pos = 0;
	size_t want = strlen(q->name) + 1;

	if (!in_file(f, off, len))
		return boot_file_err(f, "truncated: note %s %u at 0x%" PRIx64
				     " (size 0x%" PRIx64 ") runs past the end of the file",
				     where, idx, off, len);
	while (len - pos >= 12) {
		const uint8_t *n = f->data + off + pos;
		uint64_t namesz = rd32(n), descsz = rd32(n + 4);
		uint64_t name_end = 12 + ALIGN_UP(namesz, pad);
		uint64_t desc_end = name_end + ALIGN_UP(descsz, pad);

		if (!q->left--)
			return boot_file_err(f, "more than %u ELF notes in the note segments and sections",
					     ELF_MAX_NOTES);
		/* 32-bit sizes in 64-bit sums cannot wrap. */
		if (name_end + descsz > len - pos)
			return boot_file_err(f, "malformed note in %s %u", where,
					     idx);
		if (namesz == want && rd32(n + 8) == q->type &&
		    !memcmp(n + 12, q->name, want)) {
			q->desc = n + name_end;
			q->descsz = (uint32_t)descsz;
			return 1;
		}
		if (desc_end >= len - pos)
			break;
		pos += desc_end;
	}
	return 0;
}

static int find_in_segments(const struct elf_file *ef, struct note_query *q)
{
	struct elf_seg s;
	int r;

	for (unsigned i = 0; i < ef->phnum; i++) {
		elf_phdr(ef, i, &s);
		if (s.type != PT_NOTE)
			continue;
		r = scan_notes(ef, s.offset, s.filesz, s.align, "segment", i, q);
		if (r)
			return r;
	}
	return 0;
}

static int find_in_sections(const struct elf_file *ef, struct note_query *q)
{
	struct elf_sect s;
	int r;

	/* shoff 0 means no table; shnum 0 with a table is the extended
	 * numbering escape, which no image this small needs. */
	if (!ef->shoff || !ef->shnum)
		return 0;
	for (unsigned i = 0; i < ef->shnum; i++) {
		if (elf_shdr(ef, i, &s))
			return -1;
		if (s.type != SHT_NOTE)
			continue;
		r = scan_notes(ef, s.offset, s.size, s.align, "section", i, q);
		if (r)
			return r;
	}
	return 0;
}

int elf_find_note(const struct elf_file *ef, const char *name, uint32_t type,
		  const uint8_t **desc, uint32_t *descsz)
{
	struct note_query q = { .name = name, .type = type,
				.left = ELF_MAX_NOTES };
	int r = find_in_segments(ef, &q);

	if (!r)
		r = find_in_sections(ef, &q);
	if (r == 1) {
		*desc = q.desc;
		*descsz = q.descsz;
	}
	return r;
}

/* PT_LOAD segments one image may have. Each header could otherwise name
 * the same bytes again: 0xfffe segments copying one gigabyte of the file,
 * or zeroing all of guest RAM, each. Real kernels have a handful (Linux's
 * x86-64 vmlinux 4 or 5; ld's usual output 2 to 4). With at most 64 and
 * no two sharing guest RAM (see check_overlap), all copying and zeroing
 * together touches each byte of guest RAM at most once, and the overlap
 * check is 64 x 64 comparisons at worst. */
#define ELF_MAX_LOADS 64

/* The guest-physical ranges of the segments loaded so far. */
struct loaded {
	struct {
		uint64_t start, len;
		unsigned idx;
	} seg[ELF_MAX_LOADS];
	unsigned nr;
};

static int count_loads(const struct elf_file *ef)
{
	struct elf_seg s;
	unsigned n = 0;

	for (unsigned i = 0; i < ef->phnum; i++) {
		elf_phdr(ef, i, &s);
		if (s.type == PT_LOAD && s.memsz)
			n++;
	}
	if (n <= ELF_MAX_LOADS)
		return 0;
	return boot_file_err(ef->f, "ELF file has %u PT_LOAD segments, more than %u",
			     n, ELF_MAX_LOADS);
}

/* A segment that shares guest RAM with an earlier one would overwrite it:
 * no real kernel does that, and refusing it bounds the work (above). */
static int check_overlap(const struct elf_file *ef, const struct loaded *ld,
			 unsigned i, const struct elf_seg *s)
{
	for (unsigned j = 0; j < ld->nr; j++) {
		uint64_t start = ld->seg[j].start, len = ld->seg[j].len;

		if (ranges_overlap(s->paddr, s->memsz, start, len))
			return boot_file_err(ef->f, "PT_LOAD segment %u at 0x%" PRIx64
					     " (size 0x%" PRIx64 ") overlaps PT_LOAD segment %u at 0x%"
					     PRIx64 " (size 0x%" PRIx64 ")",
					     i, s->paddr, s->memsz, ld->seg[j].idx,
					     start, len);
	}
	return 0;
}

static int load_segment(struct boot_ctx *c, const struct elf_file *ef,
			unsigned i, const struct elf_seg *s, struct loaded *ld)
{
	const struct boot_file *f = ef->f;
	uint8_t *dst;

	if (s->filesz > s->memsz)
		return boot_file_err(f, "PT_LOAD segment %u has a file size 0x%"
				     PRIx64 " larger than its memory size 0x%" PRIx64,
				     i, s->filesz, s->memsz);
	/* A bss-only segment's offset means nothing; do not judge it. */
	if (s->filesz && !in_file(f, s->offset, s->filesz))
		return boot_file_err(f, "truncated: PT_LOAD segment %u data at offset 0x%"
				     PRIx64 " (size 0x%" PRIx64 ") runs past the end of the file (%zu bytes)",
				     i, s->offset, s->filesz, f->size);
	dst = guest_mem_ptr_rw(c->mem, s->paddr, s->memsz);
	if (!dst)
		return boot_file_err(f, "PT_LOAD segment %u at 0x%" PRIx64
				     " (size 0x%" PRIx64 ") is outside guest RAM",
				     i, s->paddr, s->memsz);
	/* In guest RAM, so paddr + memsz does not wrap for check_overlap. */
	if (check_overlap(ef, ld, i, s))
		return -1;
	ld->seg[ld->nr].start = s->paddr;
	ld->seg[ld->nr].len = s->memsz;
	ld->seg[ld->nr++].idx = i;
	/* f->data + offset only for data in the file: a bss-only segment's
	 * offset may point anywhere, and forming that pointer is already
	 * undefined (found by tests/fuzz, target images). */
	if (s->filesz)
		memcpy(dst, f->data + s->offset, s->filesz);
	if (s->memsz == s->filesz)
		return 0;
	return guest_mem_zero(c->mem, s->paddr + s->filesz,
			      s->memsz - s->filesz);
}

int elf_load_segments(struct boot_ctx *c, const struct elf_file *ef)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	struct loaded ld = { .nr = 0 };
	struct elf_seg s;

	/* Counted first, so that a refused image copies nothing. */
	if (count_loads(ef))
		return -1;
	for (unsigned i = 0; i < ef->phnum; i++) {
		elf_phdr(ef, i, &s);
		if (s.type != PT_LOAD || !s.memsz)
			continue;
		if (load_segment(c, ef, i, &s, &ld))
			return -1;
		lo = MIN(lo, s.paddr);
		hi = MAX(hi, s.paddr + s.memsz);
	}
	if (lo >= hi)
		return boot_file_err(ef->f, "ELF file has no loadable segment");
	c->image_start = lo;
	c->image_end = hi;
	/* One span for the whole image keeps the bookkeeping bounded; a gap
	 * between segments is simply not used for modules. */
	boot_use(c, lo, hi - lo, ef->f->path);
	return 0;
}

uint64_t elf_entry_paddr(const struct elf_file *ef)
{
	struct elf_seg s;

	for (unsigned i = 0; i < ef->phnum; i++) {
		elf_phdr(ef, i, &s);
		if (s.type != PT_LOAD || ef->entry < s.vaddr ||
		    ef->entry - s.vaddr >= s.memsz)
			continue;
		return ef->entry - s.vaddr + s.paddr;
	}
	return ef->entry;
}
