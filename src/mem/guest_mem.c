#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/util.h"
#include "mem/guest_mem.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26)   /* log2(2 MiB) << MFD_HUGE_SHIFT */
#endif

void guest_mem_init(struct guest_mem *m)
{
	memset(m, 0, sizeof(*m));
}

static struct guest_region *insert(struct guest_mem *m, uint64_t gpa,
				   uint64_t size, enum guest_region_kind kind)
{
	unsigned i;

	if (!size || !range_ok(gpa, size)) {
		errno = EINVAL;
		return NULL;
	}
	if (m->nr == GUEST_MEM_MAX_REGIONS) {
		errno = ENOSPC;
		return NULL;
	}
	for (i = 0; i < m->nr; i++)
		if (ranges_overlap(gpa, size, m->regions[i].gpa,
				   m->regions[i].size)) {
			errno = EEXIST;
			return NULL;
		}
	for (i = m->nr; i > 0 && m->regions[i - 1].gpa > gpa; i--)
		m->regions[i] = m->regions[i - 1];
	m->nr++;
	m->regions[i] = (struct guest_region){ .gpa = gpa, .size = size,
					       .kind = kind };
	return &m->regions[i];
}

void guest_mem_set_backing(struct guest_mem *m, unsigned flags)
{
	m->backing = flags;
}

/* THP "never" makes MADV_HUGEPAGE a silent no-op: say so in -v. */
static bool thp_possible(void)
{
	char buf[64] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled",
		      O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return true;          /* cannot tell: assume the default */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return !strstr(buf, "[never]");
}

/* Fault every page in now. MADV_POPULATE_WRITE (Linux 5.14) fails with
 * ENOMEM when the memory is not there, where touching would be killed by
 * the OOM killer later; older kernels get the touch. */
static int populate(void *host, uint64_t size)
{
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
	if (!madvise(host, size, MADV_POPULATE_WRITE))
		return 0;
	if (errno != EINVAL)
		return -1;
	for (uint64_t off = 0; off < size; off += 4096)
		((volatile uint8_t *)host)[off] = 0;
	return 0;
}

/* Anonymous memory, placed so that host address and gpa agree modulo
 * 2 MiB (a huge page then backs a guest 2 MiB frame, which KVM maps with
 * one large entry), THP asked for on the whole 2 MiB frames inside the
 * region only: a 640 KiB region gets no huge page, so a small guest does
 * not pay 2 MiB of RSS for it. NORESERVE: a 4 GiB guest that touches
 * 20 MiB costs 20 MiB. */
static int map_anon(struct guest_region *r, unsigned backing)
{
	uint64_t off = r->gpa % GUEST_MEM_HUGE_SIZE;
	uint64_t len = ALIGN_UP(off + r->size, GUEST_MEM_HUGE_SIZE);
	uint64_t slack = r->kind == GUEST_RAM ? GUEST_MEM_HUGE_SIZE : 0;
	uint8_t *raw, *base;
	uintptr_t lo, hi;

	if (!slack)
		len = r->size, off = 0;
	raw = mmap(NULL, len + slack, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return -1;
	base = raw;
	if (slack) {
		base = (uint8_t *)ALIGN_UP((uintptr_t)raw, GUEST_MEM_HUGE_SIZE);
		if (base > raw)
			munmap(raw, (size_t)(base - raw));
		if (raw + slack > base)
			munmap(base + len, (size_t)(raw + slack - base));
	}
	r->map = base;
	r->map_len = len;
	r->host = base + off;
	if (r->kind != GUEST_RAM)
		return 0;
	lo = ALIGN_UP((uintptr_t)r->host, GUEST_MEM_HUGE_SIZE);
	hi = ALIGN_DOWN((uintptr_t)r->host + r->size, GUEST_MEM_HUGE_SIZE);
	r->thp = hi > lo && thp_possible() &&
		 !madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	r->backing = backing & GUEST_MEM_PREALLOC;
	if ((backing & GUEST_MEM_PREALLOC) && populate(r->host, r->size))
		return -1;
	return 0;
}

/* hugetlbfs through a memfd: the pages are reserved at mmap time, so a
 * host without enough free huge pages fails here (ENOMEM), not later in
 * the guest. The file starts gpa % 2 MiB before the region, for the same
 * frame alignment as map_anon; the mapping keeps it alive. */
static int map_hugetlb(struct guest_region *r, unsigned backing)
{
	uint64_t off = r->gpa % GUEST_MEM_HUGE_SIZE;
	uint64_t len = ALIGN_UP(off + r->size, GUEST_MEM_HUGE_SIZE);
	int fd, e;
	void *p;

	fd = memfd_create("cvisor-ram", MFD_CLOEXEC | MFD_HUGETLB |
			  MFD_HUGE_2MB);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED |
		 ((backing & GUEST_MEM_PREALLOC) ? MAP_POPULATE : 0), fd, 0);
	e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = e;
		return -1;
	}
	r->map = p;
	r->map_len = len;
	r->host = (uint8_t *)p + off;
	r->backing = backing & (GUEST_MEM_HUGETLB | GUEST_MEM_PREALLOC);
	return 0;
}

struct guest_region *guest_mem_add(struct guest_mem *m, uint64_t gpa,
				   uint64_t size, enum guest_region_kind kind)
{
	struct guest_region *r, tmp = { .gpa = gpa, .size = size,
					.kind = kind };
	unsigned backing = kind == GUEST_RAM ? m->backing : 0;
	int rc;

	if (!size || !IS_ALIGNED(gpa | size, 4096) || !range_ok(gpa, size)) {
		errno = EINVAL;
		return NULL;
	}
	rc = (backing & GUEST_MEM_HUGETLB) ? map_hugetlb(&tmp, backing) :
					     map_anon(&tmp, backing);
	if (rc) {
		int e = errno;
		if (tmp.map)
			munmap(tmp.map, tmp.map_len);
		errno = e;
		return NULL;
	}
	r = insert(m, gpa, size, kind);
	if (!r) {
		int e = errno;
		munmap(tmp.map, tmp.map_len);
		errno = e;
		return NULL;
	}
	*r = tmp;
	r->owned = true;
	/* Guest RAM in a core dump is noise and may hold secrets. */
	madvise(r->map, r->map_len, MADV_DONTDUMP);
	return r;
}

/* HugePages_Free of /proc/meminfo, or -1. */
static long free_huge_pages(void)
{
	char line[128];
	long n = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

const char *guest_mem_strerror(const struct guest_mem *m, int err,
			       uint64_t size, char *buf, size_t len)
{
	uint64_t need = (size + 2 * GUEST_MEM_HUGE_SIZE - 1) /
			GUEST_MEM_HUGE_SIZE;
	long avail;

	if (!(m->backing & GUEST_MEM_HUGETLB) || (err != ENOMEM &&
						  err != EINVAL)) {
		if (err == ENOMEM && (m->backing & GUEST_MEM_PREALLOC))
			snprintf(buf, len, "cannot preallocate it: %s",
				 strerror(err));
		else
			snprintf(buf, len, "%s", strerror(err));
		return buf;
	}
	if (err == EINVAL) {
		snprintf(buf, len, "hugepages: this kernel has no 2 MiB "
			 "hugetlbfs pages (memfd MFD_HUGETLB: %s)",
			 strerror(err));
		return buf;
	}
	avail = free_huge_pages();
	snprintf(buf, len, "hugepages: not enough free 2 MiB huge pages on "
		 "the host (HugePages_Free %ld; this region needs up to %llu): "
		 "reserve them as root (`sysctl vm.nr_hugepages=N`, N the "
		 "total for every region) or drop `memory hugepages`", avail,
		 (unsigned long long)need);
	return buf;
}

const char *guest_mem_describe(const struct guest_region *r, char *buf,
			       size_t len)
{
	const char *pre = (r->backing & GUEST_MEM_PREALLOC) ?
			  ", preallocated" : "";

	if (r->kind != GUEST_RAM)
		snprintf(buf, len, "anonymous");
	else if (r->backing & GUEST_MEM_HUGETLB)
		snprintf(buf, len, "hugetlb 2 MiB pages%s", pre);
	else if (r->thp)
		snprintf(buf, len, "anonymous, transparent huge pages%s", pre);
	else
		snprintf(buf, len, "anonymous, 4 KiB pages%s", pre);
	return buf;
}

struct guest_region *guest_mem_add_host(struct guest_mem *m, uint64_t gpa,
					uint64_t size, void *host,
					enum guest_region_kind kind)
{
	struct guest_region *r = insert(m, gpa, size, kind);

	if (r)
		r->host = host;
	return r;
}

void guest_mem_free(struct guest_mem *m)
{
	for (unsigned i = 0; i < m->nr; i++)
		if (m->regions[i].owned)
			munmap(m->regions[i].map, m->regions[i].map_len);
	m->nr = 0;
}

const struct guest_region *guest_mem_find(const struct guest_mem *m,
					  uint64_t gpa, uint64_t len)
{
	unsigned lo = 0, hi = m->nr;

	if (!len)
		len = 1;
	if (!range_ok(gpa, len))
		return NULL;
	/* Binary search for the last region starting at or below gpa. */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (m->regions[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct guest_region *r = &m->regions[lo - 1];
	uint64_t off = gpa - r->gpa;
	if (off >= r->size || len > r->size - off)
		return NULL;
	return r;
}

void *guest_mem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct guest_region *r = guest_mem_find(m, gpa, len);

	return r ? r->host + (gpa - r->gpa) : NULL;
}

void *guest_mem_ptr_rw(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct guest_region *r = guest_mem_find(m, gpa, len);

	if (!r || r->kind != GUEST_RAM)
		return NULL;
	return r->host + (gpa - r->gpa);
}

/* Whole pages of a private anonymous mapping are zeroed by giving them
 * back: they read as zeros again, and a loader clearing a guest's bss (or
 * any other large range) leaves them unallocated until the guest writes
 * there. Prealloc'd memory stays populated, and shared (hugetlb) or
 * caller-owned memory would not read zeros after MADV_DONTNEED: memset.
 * So is pinned memory (guest_mem_pin). */
void guest_mem_pin(struct guest_mem *m)
{
	m->pinned = true;
}

int guest_mem_zero(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct guest_region *r = guest_mem_find(m, gpa, len);
	uint8_t *p, *lo, *hi;

	if (!r || r->kind != GUEST_RAM)
		return -EFAULT;
	p = r->host + (gpa - r->gpa);
	lo = (uint8_t *)ALIGN_UP((uintptr_t)p, 4096);
	hi = (uint8_t *)ALIGN_DOWN((uintptr_t)p + len, 4096);
	if (!r->owned || r->backing || m->pinned || hi <= lo ||
	    madvise(lo, (size_t)(hi - lo), MADV_DONTNEED)) {
		memset(p, 0, len);
		return 0;
	}
	memset(p, 0, (size_t)(lo - p));
	memset(hi, 0, (size_t)(p + len - hi));
	return 0;
}

int guest_mem_read(const struct guest_mem *m, uint64_t gpa, void *buf,
		   size_t len)
{
	const void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *m, uint64_t gpa, const void *buf,
		    size_t len)
{
	void *p = guest_mem_ptr_rw(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

int guest_mem_load(const struct guest_mem *m, uint64_t gpa, const void *buf,
		   size_t len)
{
	void *p = guest_mem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

uint64_t guest_mem_ram_size(const struct guest_mem *m)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < m->nr; i++)
		if (m->regions[i].kind == GUEST_RAM)
			total += m->regions[i].size;
	return total;
}

uint64_t guest_mem_ram_end(const struct guest_mem *m)
{
	for (unsigned i = m->nr; i > 0; i--)
		if (m->regions[i - 1].kind == GUEST_RAM)
			return m->regions[i - 1].gpa + m->regions[i - 1].size;
	return 0;
}
