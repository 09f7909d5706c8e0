/* Shared by the LSI 53C895A unit tests: a controller on fake guest RAM
 * with one disk (target 0) and one CD-ROM (target 2), a tiny SCRIPTS
 * assembler and register access as a driver does it. */
#ifndef CVISOR_TESTS_LSI_H
#define CVISOR_TESTS_LSI_H

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "core/util.h"
#include "devices/lsi53c895a.h"
#include "devices/lsi53c895a_priv.h"
#include "mem/guest_mem.h"

#define RAM_SIZE	(4u << 20)
#define SCRIPT_GPA	0x10000u
#define TABLE_GPA	0x20000u      /* DSA */
#define BUF_GPA		0x30000u
#define DATA_GPA	0x100000u
#define MMIO_BASE	0xfe000000u   /* where the test "maps" the BARs */
#define RAM_BASE	0xfe100000u
#define DISK_BYTES	(1u << 20)

struct lsi_fix {
	struct guest_mem mem;
	struct dev_env env;
	struct pci_func *f;
	struct lsi *s;
	char disk[64], cd[64];
	uint32_t pc;                  /* assembler: next word's address */
};

static inline void lsi_mkimg(char *path, size_t len, off_t size)
{
	int fd;

	snprintf(path, len, "/tmp/cvisor-lsi-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static inline int lsi_setup(void **state)
{
	struct lsi_fix *x = calloc(1, sizeof(*x));
	struct lsi_disk d[2];

	guest_mem_init(&x->mem);
	assert_non_null(guest_mem_add(&x->mem, 0, RAM_SIZE, GUEST_RAM));
	x->env.mem = &x->mem;
	lsi_mkimg(x->disk, sizeof(x->disk), DISK_BYTES);
	lsi_mkimg(x->cd, sizeof(x->cd), 64 * 2048);
	d[0] = (struct lsi_disk){ .path = x->disk, .target = 0 };
	d[1] = (struct lsi_disk){ .path = x->cd, .target = 2, .cdrom = true };
	x->f = lsi53c895a_new(d, 2, &x->env);
	assert_non_null(x->f);
	x->s = container_of(x->f, struct lsi, f);
	/* Commands stay with the disk until the test drains it (a register
	 * read would otherwise complete them whenever the worker is done). */
	x->s->vcpu_reap = false;
	x->f->bars[LSI_BAR_MMIO].mapped = MMIO_BASE;
	x->f->bars[LSI_BAR_RAM].mapped = RAM_BASE;
	x->f->ops->bar_write(x->f, LSI_BAR_IO, SCID, 1, 0x47);  /* ID 7 */
	*state = x;
	return 0;
}

static inline int lsi_teardown(void **state)
{
	struct lsi_fix *x = *state;

	if (x->f)                       /* NULL: the test freed it */
		x->f->dev.ops->free(&x->f->dev);
	guest_mem_free(&x->mem);
	unlink(x->disk);
	unlink(x->cd);
	free(x);
	return 0;
}

static inline uint32_t rd(struct lsi_fix *x, unsigned off, unsigned size)
{
	return (uint32_t)x->f->ops->bar_read(x->f, LSI_BAR_IO, off, size);
}

static inline void wr(struct lsi_fix *x, unsigned off, unsigned size,
		      uint32_t v)
{
	x->f->ops->bar_write(x->f, LSI_BAR_IO, off, size, v);
}

static inline void *gp(struct lsi_fix *x, uint32_t gpa)
{
	return guest_mem_ptr(&x->mem, gpa, 1);
}

static inline void put32(struct lsi_fix *x, uint32_t gpa, uint32_t v)
{
	uint32_t le = htole32(v);

	memcpy(gp(x, gpa), &le, 4);
}

/* The assembler: words at x->pc. */
static inline void asm_at(struct lsi_fix *x, uint32_t gpa)
{
	x->pc = gpa;
}

static inline uint32_t emit(struct lsi_fix *x, uint32_t w0, uint32_t w1)
{
	uint32_t at = x->pc;

	put32(x, x->pc, w0);
	put32(x, x->pc + 4, w1);
	x->pc += 8;
	return at;
}

#define I_MOVE(ph, n)		(0x08000000u | (uint32_t)(ph) << 24 | (n))
#define I_MOVE_TBL(ph)		(0x18000000u | (uint32_t)(ph) << 24)
#define I_MOVE_IND(ph, n)	(0x28000000u | (uint32_t)(ph) << 24 | (n))
#define I_SELECT_ATN(id)	(0x41000000u | (uint32_t)(id) << 16)
#define I_SELECT_TBL_ATN(off)	(0x43000000u | (off))
#define I_WAIT_DISC		0x48000000u
#define I_WAIT_RESEL		0x50000000u
#define I_SET(b)		(0x58000000u | (b))
#define I_CLEAR(b)		(0x60000000u | (b))
#define B_ATN			0x008u
#define B_ACK			0x040u
#define B_CARRY			0x400u
#define I_REG(kind, op, reg, d)	((uint32_t)(kind) << 27 | 0x40000000u | \
				 (uint32_t)(op) << 24 | (uint32_t)(reg) << 16 | \
				 (uint32_t)(d) << 8)
#define I_JUMP			0x80080000u
#define I_JUMP_REL		0x80880000u
#define I_JUMP_WHEN(ph)		(0x800b0000u | (uint32_t)(ph) << 24)
#define I_JUMP_IF_NOT(ph)	(0x80030000u | (uint32_t)(ph) << 24)
#define I_JUMP_DATA(mask, d)	(0x800c0000u | (uint32_t)(mask) << 8 | (d))
#define I_JUMP_CARRY		0x80280000u
#define I_CALL			0x88080000u
#define I_RETURN		0x90080000u
#define I_INT			0x98080000u
#define I_INTFLY		0x98180000u
#define I_MEMMOVE(n)		(0xc0000000u | (n))
#define I_LOAD(reg, n)		(0xe1000000u | (uint32_t)(reg) << 16 | (n))
#define I_STORE(reg, n)		(0xe0000000u | (uint32_t)(reg) << 16 | (n))
#define I_LOAD_DSA(reg, n)	(0xf1000000u | (uint32_t)(reg) << 16 | (n))

/* Start the SCRIPTS at addr (a write of DSP, as drivers do). */
static inline void lsi_start(struct lsi_fix *x, uint32_t addr)
{
	wr(x, DSP, 4, addr);
}

/* Complete what the disks have (on this thread, as the loop would). */
static inline void lsi_drain(struct lsi_fix *x)
{
	for (unsigned t = 0; t < LSI_MAX_TARGETS; t++)
		for (unsigned l = 0; l < SCSI_MAX_LUNS; l++)
			if (x->s->targets[t].t.luns[l])
				blk_backend_drain(x->s->targets[t].t.luns[l]->be);
}

static inline bool irq_level(struct lsi_fix *x)
{
	return x->f->intx.level;
}

#endif
