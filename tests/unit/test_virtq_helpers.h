/* Fake guest memory and hand-built split rings for the virtio unit tests.
 *
 * Guest memory is malloc'd (not mmap'd) so that ASan puts redzones right
 * after each region: any host access outside the fake RAM is reported.
 *
 *   0x100000  RAM  4 MiB   rings at RING_DESC/AVAIL/USED, buffers above
 *   0x500000  RAM  1 MiB   adjacent to the first: buffers may span both
 *   0x600000  hole
 *   0x800000  ROM  64 KiB
 */
#ifndef CVISOR_TESTS_VIRTQ_HELPERS_H
#define CVISOR_TESTS_VIRTQ_HELPERS_H

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "virtio/queue.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x400000ULL
#define RAM2_GPA	0x500000ULL
#define RAM2_SIZE	0x100000ULL
#define ROM_GPA		0x800000ULL
#define ROM_SIZE	0x10000ULL
#define HOLE_GPA	0x600000ULL

#define RING_DESC	0x100000ULL
#define RING_AVAIL	0x110000ULL
#define RING_USED	0x120000ULL
#define BUF_GPA		0x200000ULL   /* data buffers */
#define TABLE_GPA	0x300000ULL   /* indirect tables */

struct fake_vm {
	struct guest_mem mem;
	uint8_t *ram, *ram2, *rom;
	uint16_t size;          /* queue size the rings are built for */
	uint16_t avail_idx;     /* driver's next avail idx */
};

static inline void fake_vm_init(struct fake_vm *vm, uint16_t size)
{
	memset(vm, 0, sizeof(*vm));
	guest_mem_init(&vm->mem);
	vm->ram = calloc(1, RAM_SIZE);
	vm->ram2 = calloc(1, RAM2_SIZE);
	vm->rom = calloc(1, ROM_SIZE);
	guest_mem_add_host(&vm->mem, RAM_GPA, RAM_SIZE, vm->ram, GUEST_RAM);
	guest_mem_add_host(&vm->mem, RAM2_GPA, RAM2_SIZE, vm->ram2, GUEST_RAM);
	guest_mem_add_host(&vm->mem, ROM_GPA, ROM_SIZE, vm->rom, GUEST_ROM);
	vm->size = size;
}

static inline void fake_vm_free(struct fake_vm *vm)
{
	guest_mem_free(&vm->mem);
	free(vm->ram);
	free(vm->ram2);
	free(vm->rom);
}

/* Host pointer of a GPA the test knows to be in RAM. */
static inline void *gpa_host(struct fake_vm *vm, uint64_t gpa)
{
	return guest_mem_ptr(&vm->mem, gpa, 1);
}

static inline void put_desc(struct fake_vm *vm, uint64_t table, unsigned i,
			    uint64_t addr, uint32_t len, uint16_t flags,
			    uint16_t next)
{
	struct virtq_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	memcpy(gpa_host(vm, table + 16 * (uint64_t)i), &d, sizeof(d));
}

static inline void set_desc(struct fake_vm *vm, unsigned i, uint64_t addr,
			    uint32_t len, uint16_t flags, uint16_t next)
{
	put_desc(vm, RING_DESC, i, addr, len, flags, next);
}

static inline uint16_t *avail_word(struct fake_vm *vm, unsigned w)
{
	return (uint16_t *)gpa_host(vm, RING_AVAIL + 2 * (uint64_t)w);
}

static inline uint16_t *used_word(struct fake_vm *vm, unsigned w)
{
	return (uint16_t *)gpa_host(vm, RING_USED + 2 * (uint64_t)w);
}

static inline void set_avail_idx(struct fake_vm *vm, uint16_t idx)
{
	vm->avail_idx = idx;
	*avail_word(vm, 1) = htole16(idx);
}

/* Driver makes chain `head` available. */
static inline void avail_add(struct fake_vm *vm, uint16_t head)
{
	*avail_word(vm, 2 + (vm->avail_idx & (vm->size - 1))) = htole16(head);
	set_avail_idx(vm, vm->avail_idx + 1);
}

static inline void set_used_event(struct fake_vm *vm, uint16_t v)
{
	*avail_word(vm, 2 + vm->size) = htole16(v);
}

static inline uint16_t get_avail_event(struct fake_vm *vm)
{
	return le16toh(*used_word(vm, 2 + 4 * vm->size));
}

static inline uint16_t get_used_idx(struct fake_vm *vm)
{
	return le16toh(*used_word(vm, 1));
}

static inline struct virtq_used_elem get_used(struct fake_vm *vm, unsigned i)
{
	struct virtq_used_elem e;

	memcpy(&e, gpa_host(vm, RING_USED + 4 + 8 * (uint64_t)(i & (vm->size - 1))),
	       sizeof(e));
	e.id = le32toh(e.id);
	e.len = le32toh(e.len);
	return e;
}

/* Is [p, p+len) inside one of the fake regions' host buffers? */
static inline int host_in_guest(struct fake_vm *vm, const void *p, size_t len)
{
	const uint8_t *b = p;

	return (b >= vm->ram && b + len <= vm->ram + RAM_SIZE) ||
	       (b >= vm->ram2 && b + len <= vm->ram2 + RAM2_SIZE) ||
	       (b >= vm->rom && b + len <= vm->rom + ROM_SIZE);
}

#endif
