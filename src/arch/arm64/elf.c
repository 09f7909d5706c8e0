/* ELF64 AArch64 executables for arm64 VMs: each PT_LOAD segment copied to
 * guest RAM at its physical address with its tail zeroed, entered at
 * e_entry (translated to physical when it falls in a segment whose virtual
 * and physical addresses differ). Every offset, count and size comes from
 * the file and is checked against it, and every range against RAM. */
#include <elf.h>
#include <string.h>

#include "arch/arm64/arm64.h"

bool arm64_is_elf(const void *p, size_t len)
{
	return len >= SELFMAG && !memcmp(p, ELFMAG, SELFMAG);
}

static const char *check_header(const Elf64_Ehdr *h, size_t len)
{
	if (len < sizeof(*h) || h->e_ident[EI_CLASS] != ELFCLASS64 ||
	    h->e_ident[EI_DATA] != ELFDATA2LSB)
		return "not a 64-bit little-endian ELF file";
	if (h->e_machine != EM_AARCH64)
		return "not an AArch64 ELF file";
	if (h->e_type != ET_EXEC)
		return "not an executable ELF file";
	if (h->e_phentsize != sizeof(Elf64_Phdr) || !h->e_phnum ||
	    h->e_phoff > len ||
	    (uint64_t)h->e_phnum * sizeof(Elf64_Phdr) > len - h->e_phoff)
		return "its program header table is not within the file";
	return NULL;
}

static void phdr(const uint8_t *p, const Elf64_Ehdr *h, unsigned i,
		 Elf64_Phdr *ph)
{
	memcpy(ph, p + h->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

const char *arm64_elf_load(struct guest_mem *mem, const void *data,
			   size_t len, struct arm64_boot *b)
{
	const uint8_t *p = data;
	Elf64_Ehdr h;
	Elf64_Phdr ph;
	const char *why;
	uint64_t lo = UINT64_MAX, hi = 0, entry;
	bool loaded = false;

	if (len < sizeof(h))
		return "not a 64-bit little-endian ELF file";
	memcpy(&h, p, sizeof(h));
	why = check_header(&h, len);
	if (why)
		return why;
	entry = h.e_entry;
	for (unsigned i = 0; i < h.e_phnum; i++) {
		uint8_t *dst;

		phdr(p, &h, i, &ph);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset)
			return "a segment is not within the file";
		dst = guest_mem_ptr_rw(mem, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return "a segment is not within RAM";
		memcpy(dst, p + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (h.e_entry - ph.p_vaddr < ph.p_memsz)
			entry = ph.p_paddr + (h.e_entry - ph.p_vaddr);
		if (ph.p_paddr < lo)
			lo = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > hi)
			hi = ph.p_paddr + ph.p_memsz;
		loaded = true;
	}
	if (!loaded)
		return "no loadable segment";
	if (entry < lo || entry >= hi)
		return "its entry point is outside its segments";
	b->image_start = lo;
	b->image_end = hi;
	b->pc = entry;
	return NULL;
}
