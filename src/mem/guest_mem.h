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

/* How RAM is backed (guest_mem_set_backing; ROM is always plain). By
 * default anonymous memory placed so that guest-physical 2 MiB frames are
 * host 2 MiB frames, with transparent huge pages asked for
 * (MADV_HUGEPAGE): KVM maps a huge page with one large EPT/NPT entry. */
#define GUEST_MEM_HUGETLB	(1u << 0)  /* hugetlbfs memfd, 2 MiB pages */
#define GUEST_MEM_PREALLOC	(1u << 1)  /* every page allocated up front */
#define GUEST_MEM_HUGE_SIZE	(2ull << 20)

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;         /* mapping of size bytes */
	enum guest_region_kind kind;
	bool owned;            /* guest_mem_free() unmaps it */
	unsigned backing;      /* GUEST_MEM_* it got */
	bool thp;              /* MADV_HUGEPAGE accepted */
	void *map;             /* owned: the whole mapping (host is inside) */
	uint64_t map_len;
};

struct guest_mem {
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned nr;           /* sorted by gpa, never overlapping */
	unsigned backing;      /* GUEST_MEM_* for RAM added from now on */
	bool pinned;           /* DMA-mapped: no page is ever given back */
};

void guest_mem_init(struct guest_mem *m);
/* GUEST_MEM_* flags for the RAM regions added after this call. */
void guest_mem_set_backing(struct guest_mem *m, unsigned flags);
/* Map size bytes of fresh memory at gpa (RAM as the backing says, ROM
 * anonymous). Returns the region or NULL (errno: EINVAL bad range, EEXIST
 * overlap, ENOSPC too many; ENOMEM also when hugetlb pages or prealloc
 * memory are missing: see guest_mem_strerror). */
struct guest_region *guest_mem_add(struct guest_mem *m, uint64_t gpa,
				   uint64_t size, enum guest_region_kind kind);
/* Why guest_mem_add of size bytes failed with err, in words (with what
 * to do about missing huge pages), in buf. */
const char *guest_mem_strerror(const struct guest_mem *m, int err,
			       uint64_t size, char *buf, size_t len);
/* What region r got, in words ("THP", "hugetlb 2 MiB, preallocated"). */
const char *guest_mem_describe(const struct guest_region *r, char *buf,
			       size_t len);
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
/* The RAM's pages are DMA-mapped from now on (VFIO pins them): zeroing
 * writes them, as giving one back would leave the device the old page
 * and the guest a new one at its next touch. */
void guest_mem_pin(struct guest_mem *m);
/* Zero len bytes of RAM at gpa, leaving whole pages unallocated where the
 * memory allows (loaders' bss). -EFAULT if not wholly inside one region. */
int guest_mem_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len);

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
