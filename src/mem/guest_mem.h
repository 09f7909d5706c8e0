/* Guest physical memory: the only way any part of cvisor touches guest RAM.
 *
 * Every access names a guest-physical range; it succeeds only when the whole
 * range lies inside one region. Guest-controlled addresses and lengths can
 * therefore be passed straight in: overflow and out-of-RAM are refused here.
 */
#ifndef CVISOR_MEM_GUEST_MEM_H
#define CVISOR_MEM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 32

enum guest_region_kind { GUEST_RAM, GUEST_ROM };

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;         /* mapping of size bytes */
	enum guest_region_kind kind;
	bool owned;            /* guest_mem_free() unmaps it */
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned nr;           /* sorted by gpa, never overlapping */
};

void guest_mem_init(struct guest_mem *m);
/* Map size bytes of fresh anonymous memory at gpa. Returns the region or
 * NULL (errno: EINVAL bad range, EEXIST overlap, ENOSPC too many, mmap's). */
struct guest_region *guest_mem_add(struct guest_mem *m, uint64_t gpa,
				   uint64_t size, enum guest_region_kind kind);
/* Register caller-owned host memory (unit tests, shared mappings). */
struct guest_region *guest_mem_add_host(struct guest_mem *m, uint64_t gpa,
					uint64_t size, void *host,
					enum guest_region_kind kind);
void guest_mem_free(struct guest_mem *m);

/* The region containing [gpa, gpa+len), or NULL. len 0 is treated as 1. */
const struct guest_region *guest_mem_find(const struct guest_mem *m,
					  uint64_t gpa, uint64_t len);
/* Host pointer for [gpa, gpa+len) when it is wholly inside one region. */
void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Same, but only for RAM (device DMA must not write ROM). */
void *guest_mem_ptr_rw(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copy helpers; 0 on success, -EFAULT when the range is not guest memory. */
int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf,
		   size_t len);
int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf,
		    size_t len);
/* Loaders fill ROM too, so this one ignores the RAM/ROM distinction. */
int guest_mem_load(const struct guest_mem *m, uint64_t gpa, const void *buf,
		   size_t len);

/* Total bytes of RAM regions and the end of the highest one. */
uint64_t guest_mem_ram_size(const struct guest_mem *m);
uint64_t guest_mem_ram_end(const struct guest_mem *m);

#endif
