/* Small helpers shared by every layer. */
#ifndef CVISOR_CORE_UTIL_H
#define CVISOR_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/* [a, a+alen) and [b, b+blen) intersect; lengths may be 0 (no overlap). */
/* A spin-wait's pause: lets the sibling hardware thread run. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline bool ranges_overlap(uint64_t a, uint64_t alen,
				  uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* base + len does not wrap past 2^64 (len 0 is allowed). */
static inline bool range_ok(uint64_t base, uint64_t len)
{
	return len == 0 || base + (len - 1) >= base;
}

/* "cvisor: out of memory" on stderr, and exit 64. */
_Noreturn void out_of_memory(void);
void *xcalloc(size_t n, size_t size);
/* Zeroed, at a multiple of align (a power of two, at least a pointer's
 * size); free() releases it. */
void *xmemalign(size_t align, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);

/* Read a whole file; returns a malloc'd buffer and sets *len, or NULL with
 * errno set. Refuses files larger than max. */
void *read_file(const char *path, size_t max, size_t *len);

#endif
