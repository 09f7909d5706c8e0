/* A small, paranoid ELF reader for guest images: 32- and 64-bit little-endian
 * x86 executables. Every offset, count and size comes from the file and is
 * checked against the file size before use.
 */
#ifndef CVISOR_ARCH_X86_ELF_LOAD_H
#define CVISOR_ARCH_X86_ELF_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/boot_priv.h"

struct elf_file {
	const struct boot_file *f;
	bool is64;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff, shoff;
	uint16_t phentsize, phnum;
	uint16_t shentsize, shnum;
};

/* Program header, widened to 64 bits. */
struct elf_seg {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* Section header: only what the note search needs. */
struct elf_sect {
	uint32_t type;
	uint64_t offset, size, align;
};

/* The file starts with the ELF magic. */
bool elf_is_elf(const struct boot_file *f);
/* Validate the header and the program header table; 0 or -1 (err set). */
int elf_parse(const struct boot_file *f, struct elf_file *ef);
/* Program header i (< phnum); the table was bounds-checked by elf_parse. */
void elf_phdr(const struct elf_file *ef, unsigned i, struct elf_seg *seg);
/* Section header i; -1 with err set when the table is outside the file. */
int elf_shdr(const struct elf_file *ef, unsigned i, struct elf_sect *sect);

/* Find the first note called name with the given type, in PT_NOTE segments
 * then in SHT_NOTE sections. Returns 1 and sets *desc and *descsz when found,
 * 0 when absent, -1 (err set) for a malformed note area. */
int elf_find_note(const struct elf_file *ef, const char *name, uint32_t type,
		  const uint8_t **desc, uint32_t *descsz);

/* Copy every PT_LOAD segment to guest RAM at p_paddr and zero its tail;
 * records the image span in c. 0 or -1 (err set); refused are more than 64
 * segments and segments whose guest-physical ranges overlap. */
int elf_load_segments(struct boot_ctx *c, const struct elf_file *ef);

/* e_entry translated from a virtual to a physical address when it falls in
 * a PT_LOAD segment whose p_vaddr differs from p_paddr. */
uint64_t elf_entry_paddr(const struct elf_file *ef);

#endif
