#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "core/util.h"
#include "mem/guest_mem.h"

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

struct guest_region *guest_mem_add(struct guest_mem *m, uint64_t gpa,
				   uint64_t size, enum guest_region_kind kind)
{
	struct guest_region *r;
	void *host;

	if (!size || !IS_ALIGNED(gpa | size, 4096)) {
		errno = EINVAL;
		return NULL;
	}
	/* NORESERVE: a 4 GiB guest that touches 20 MiB costs 20 MiB. */
	host = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (host == MAP_FAILED)
		return NULL;
	r = insert(m, gpa, size, kind);
	if (!r) {
		int e = errno;
		munmap(host, size);
		errno = e;
		return NULL;
	}
	r->host = host;
	r->owned = true;
	/* Guest RAM in a core dump is noise and may hold secrets. */
	madvise(host, size, MADV_DONTDUMP);
	return r;
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
			munmap(m->regions[i].host, m->regions[i].size);
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
