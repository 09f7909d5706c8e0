/* A passed device's BARs. The guest sizes and places them like any BAR
 * (pci_bar.c), over the device's real sizes and types. A memory BAR VFIO
 * lets us mmap (a page or more) becomes a KVM memory slot wherever the
 * guest puts it: its accesses go to the device with no exit at all. The
 * rest (I/O BARs, small or unmappable ones, or a slot KVM refused because
 * the guest aimed the BAR over its RAM) is trapped here and forwarded with
 * pread/pwrite on the device fd.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "vfio/vfio_priv.h"

/* Two slots per BAR: the pages before the hole (the MSI-X table and PBA
 * pages, which must trap) and the pages after it. */
static unsigned slot_of(const struct vfio_pass *p, unsigned bar,
			unsigned piece)
{
	return p->ctx->first_slot + p->idx * VFIO_SLOTS_PER_DEV + 2 * bar +
	       piece;
}

static int set_slot(struct vfio_pass *p, unsigned bar, unsigned piece,
		    uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region m = {
		.slot = slot_of(p, bar, piece), .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)host,
	};

	if (p->ctx->vm_fd < 0)
		return -EBADF;
	return ioctl(p->ctx->vm_fd, KVM_SET_USER_MEMORY_REGION, &m) ? -errno : 0;
}

/* Map the BAR at gpa (size 0: unmap), around its hole. */
static int set_slots(struct vfio_pass *p, unsigned bar, uint64_t gpa,
		     bool map)
{
	struct vfio_bar *b = &p->bars[bar];
	uint8_t *host = b->map;
	int ret = 0;

	if (b->split)
		ret = set_slot(p, bar, 0, gpa, map ? b->split : 0, host);
	if (!ret && b->split_end < b->size)
		ret = set_slot(p, bar, 1, gpa + b->split_end,
			       map ? b->size - b->split_end : 0,
			       host + b->split_end);
	if (ret && map && b->split)
		set_slot(p, bar, 0, gpa, 0, host);
	return ret;
}

void vfio_bar_hole(struct vfio_pass *p, unsigned bar, uint64_t off,
		   uint64_t len)
{
	struct vfio_bar *b = &p->bars[bar];
	uint64_t start = off & ~4095ull, end = ALIGN_UP(off + len, 4096);

	if (bar >= PCI_NUM_BARS || !b->size)
		return;
	if (b->split == b->size && b->split_end == b->size) {
		b->split = start;
		b->split_end = end;
	} else {
		b->split = MIN(b->split, start);
		b->split_end = MAX(b->split_end, end);
	}
	b->split = MIN(b->split, b->size);
	b->split_end = MIN(b->split_end, b->size);
}

static bool in_hole(const struct vfio_bar *b, uint64_t off, unsigned size)
{
	return off + size > b->split && off < b->split_end;
}

static int region_info(struct vfio_pass *p, unsigned index,
		       struct vfio_region_info *ri)
{
	*ri = (struct vfio_region_info){ .argsz = sizeof(*ri), .index = index };
	return ioctl(p->fd, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int init_bar(struct vfio_pass *p, unsigned n, bool *is64)
{
	struct vfio_bar *b = &p->bars[n];
	struct vfio_region_info ri;
	uint32_t lo;
	uint8_t flags;

	*is64 = false;
	if (region_info(p, n, &ri) || !ri.size)
		return 0;
	if (vfio_cfg_read_dev(p, PCI_BAR0 + 4 * n, 4, &lo))
		return -EIO;
	if (lo & PCI_BAR_SPACE_IO)
		flags = PCI_BAR_SPACE_IO;
	else
		flags = (((lo >> 1) & 3) == 2 ? PCI_BAR_MEM_TYPE_64 : 0) |
			(lo & PCI_BAR_MEM_PREFETCH);
	*is64 = flags & PCI_BAR_MEM_TYPE_64;
	if (!is_pow2(ri.size) || pci_func_add_bar(&p->f, n, ri.size, flags)) {
		pr_err("pass %s: BAR%u (%s, %#llx bytes) cannot be given to the "
		       "guest%s", p->host.name, n, flags & PCI_BAR_SPACE_IO ?
		       "io" : "memory", (unsigned long long)ri.size,
		       flags & PCI_BAR_SPACE_IO ? " (I/O BARs up to 256 "
		       "bytes)" : "");
		return -ENOTSUP;
	}
	b->size = ri.size;
	b->region_off = ri.offset;
	b->flags = flags;
	b->split = b->split_end = ri.size;
	if (!(flags & PCI_BAR_SPACE_IO) && !p->mmap_off &&
	    (ri.flags & VFIO_REGION_INFO_FLAG_MMAP) &&
	    IS_ALIGNED(ri.size, 4096)) {
		void *m = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       p->fd, (off_t)ri.offset);

		if (m == MAP_FAILED)
			pr_warn("pass %s: BAR%u cannot be mapped (%s): every "
				"access traps", p->host.name, n, strerror(errno));
		else
			b->map = m;
	}
	pr_info("pass %s: BAR%u %s %#llx bytes%s", p->host.name, n,
		flags & PCI_BAR_SPACE_IO ? "io" : *is64 ? "mem64" : "mem32",
		(unsigned long long)ri.size, b->map ? ", mapped" : ", trapped");
	return 0;
}

int vfio_bars_init(struct vfio_pass *p)
{
	for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
		bool is64;
		int ret = init_bar(p, n, &is64);

		if (ret)
			return ret;
		if (is64)
			n++;
	}
	return 0;
}

/* The guest moved BAR bar (or turned its decoding off): the slot follows. */
void vfio_bar_moved(struct pci_func *f, unsigned bar, uint64_t addr)
{
	static struct ratelimit rl = RATELIMIT_INIT(5, 10);
	struct vfio_pass *p = pass_of(f);
	struct vfio_bar *b = &p->bars[bar];
	int ret;

	if (bar >= PCI_NUM_BARS || !b->map)
		return;
	if (b->slot_gpa != PCI_BAR_UNMAPPED) {
		set_slots(p, bar, b->slot_gpa, false);
		b->slot_gpa = PCI_BAR_UNMAPPED;
	}
	if (addr == PCI_BAR_UNMAPPED)
		return;
	ret = set_slots(p, bar, addr, true);
	if (!ret) {
		b->slot_gpa = addr;
		return;
	}
	pr_warn_ratelimited(&rl, "pass %s: BAR%u at %#llx: no memory slot "
			    "(%s): its accesses trap", p->host.name, bar,
			    (unsigned long long)addr, strerror(-ret));
}

static bool in_bar(const struct vfio_bar *b, uint64_t off, unsigned size)
{
	return size && size <= 8 && off < b->size && size <= b->size - off;
}

/* Through the mapping only naturally aligned (a device mapping faults on
 * an unaligned access on arm64, and x86 splits it into accesses the
 * device sees); the rest through the region, as VFIO takes it. */
static bool direct(const struct vfio_bar *b, uint64_t off, unsigned size)
{
	return b->map && !(off & (size - 1)) && !in_hole(b, off, size);
}

uint64_t vfio_bar_read(struct pci_func *f, unsigned bar, uint64_t off,
		       unsigned size)
{
	struct vfio_pass *p = pass_of(f);
	struct vfio_bar *b;
	uint64_t v = 0;

	if (bar >= PCI_NUM_BARS || !in_bar(b = &p->bars[bar], off, size))
		return ~0ull;
	if (direct(b, off, size)) {
		volatile uint8_t *a = (uint8_t *)b->map + off;

		switch (size) {
		case 1: return *a;
		case 2: return *(volatile uint16_t *)a;
		case 4: return *(volatile uint32_t *)a;
		case 8: return *(volatile uint64_t *)a;
		}
	}
	if (pread(p->fd, &v, size, (off_t)(b->region_off + off)) != size)
		return ~0ull;
	return v;
}

void vfio_bar_write(struct pci_func *f, unsigned bar, uint64_t off,
		    unsigned size, uint64_t v)
{
	static struct ratelimit rl = RATELIMIT_INIT(5, 10);
	struct vfio_pass *p = pass_of(f);
	struct vfio_bar *b;

	if (bar >= PCI_NUM_BARS || !in_bar(b = &p->bars[bar], off, size))
		return;
	if (direct(b, off, size)) {
		volatile uint8_t *a = (uint8_t *)b->map + off;

		switch (size) {
		case 1: *a = (uint8_t)v; return;
		case 2: *(volatile uint16_t *)a = (uint16_t)v; return;
		case 4: *(volatile uint32_t *)a = (uint32_t)v; return;
		case 8: *(volatile uint64_t *)a = v; return;
		}
	}
	if (pwrite(p->fd, &v, size, (off_t)(b->region_off + off)) != size)
		pr_warn_ratelimited(&rl, "pass %s: BAR%u write at %#llx: %s",
				    p->host.name, bar,
				    (unsigned long long)off, strerror(errno));
}

void vfio_bars_free(struct vfio_pass *p)
{
	for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
		struct vfio_bar *b = &p->bars[n];

		if (b->slot_gpa != PCI_BAR_UNMAPPED)
			set_slots(p, n, b->slot_gpa, false);
		b->slot_gpa = PCI_BAR_UNMAPPED;
		if (b->map)
			munmap(b->map, b->size);
		b->map = NULL;
	}
}
