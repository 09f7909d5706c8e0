/* The fw_cfg device: items by key, the file directory, the selector and
 * data ports, and the DMA interface (see fw_cfg.h).
 *
 * Items are added while the VM is built and are read-only afterwards, so
 * the access path reads them without a lock; the lock covers what the
 * guest changes (selected key, offset into it, the DMA address being
 * written) and serialises vCPUs, as one fw_cfg has one cursor.
 *
 * Hostile-guest rules: an unknown or empty key reads zeros; a DMA
 * descriptor or buffer that is not wholly inside guest memory (RAM for
 * anything the device writes) fails the transfer with the error bit, and
 * nothing is written; writes to items are always refused (QEMU allows a
 * few writable items; cvisor offers none).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "devices/fw_cfg.h"
#include "mem/guest_mem.h"

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg_file {
	char name[FW_CFG_NAME_MAX];
	struct fw_cfg_item item;
};

struct fw_cfg {
	struct device dev;
	struct dev_env env;
	struct fw_cfg_item fixed[FW_CFG_FILE_FIRST];
	struct fw_cfg_file files[FW_CFG_MAX_FILES];   /* sorted by name */
	unsigned nr_files;

	pthread_mutex_t lock;
	uint16_t cur;          /* selected key, FW_CFG_INVALID for none */
	uint32_t off;          /* next byte of it */
	uint64_t dma_addr;     /* the high half written so far */
};

static const struct device_ops fw_cfg_ops;

static struct fw_cfg *to_fw(struct device *dev)
{
	return container_of(dev, struct fw_cfg, dev);
}

struct fw_cfg *fw_cfg_of(struct device *dev)
{
	return dev && dev->ops == &fw_cfg_ops ? to_fw(dev) : NULL;
}

struct device *fw_cfg_device(struct fw_cfg *s)
{
	return &s->dev;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ---- items ---- */

/* The item a key selects; the write-channel bit is ignored, as by QEMU
 * since 2.4. Arch-local keys (0x8000+) hold nothing here. */
static const struct fw_cfg_item *item_of(const struct fw_cfg *s, uint16_t key)
{
	unsigned k;

	if (key == FW_CFG_INVALID || (key & FW_CFG_ARCH_LOCAL))
		return NULL;
	k = key & ~FW_CFG_WRITE_CHANNEL;
	if (k < FW_CFG_FILE_FIRST)
		return s->fixed[k].data ? &s->fixed[k] : NULL;
	k -= FW_CFG_FILE_FIRST;
	return k < s->nr_files ? &s->files[k].item : NULL;
}

static int set_item(struct fw_cfg_item *it, const void *data, size_t len)
{
	if (len >= UINT32_MAX)
		return -EFBIG;
	/* one spare byte so that an empty item still has data */
	it->data = xcalloc(1, len + 1);
	if (len)
		memcpy(it->data, data, len);
	it->len = (uint32_t)len;
	return 0;
}

/* FW_CFG_FILE_DIR: be32 count, then per file be32 size, be16 key, be16
 * reserved, the name NUL-padded to 56 bytes. */
static void rebuild_dir(struct fw_cfg *s)
{
	struct fw_cfg_item *dir = &s->fixed[FW_CFG_FILE_DIR];
	size_t len = 4 + (size_t)s->nr_files * (8 + FW_CFG_NAME_MAX);
	uint8_t *p = xcalloc(1, len);

	put_be32(p, s->nr_files);
	for (unsigned i = 0; i < s->nr_files; i++) {
		uint8_t *e = p + 4 + i * (8 + FW_CFG_NAME_MAX);
		uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);

		put_be32(e, s->files[i].item.len);
		e[4] = (uint8_t)(key >> 8);
		e[5] = (uint8_t)key;
		memcpy(e + 8, s->files[i].name, strlen(s->files[i].name));
	}
	free(dir->data);
	dir->data = p;
	dir->len = (uint32_t)len;
}

int fw_cfg_add_bytes(struct fw_cfg *s, uint16_t key, const void *data,
		     size_t len)
{
	if (key >= FW_CFG_FILE_FIRST || key == FW_CFG_FILE_DIR)
		return -EINVAL;
	if (s->fixed[key].data)
		return -EEXIST;
	return set_item(&s->fixed[key], data, len);
}

int fw_cfg_add_u16(struct fw_cfg *s, uint16_t key, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *s, uint16_t key, uint32_t v)
{
	uint8_t b[4];

	for (unsigned i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_u64(struct fw_cfg *s, uint16_t key, uint64_t v)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add_bytes(s, key, b, sizeof(b));
}

int fw_cfg_add_file(struct fw_cfg *s, const char *name, const void *data,
		    size_t len)
{
	size_t n = strlen(name);
	unsigned at = 0;
	int ret;

	if (!n || n >= FW_CFG_NAME_MAX)
		return -EINVAL;
	if (s->nr_files >= FW_CFG_MAX_FILES)
		return -ENOSPC;
	while (at < s->nr_files && strcmp(s->files[at].name, name) < 0)
		at++;
	if (at < s->nr_files && !strcmp(s->files[at].name, name))
		return -EEXIST;
	memmove(&s->files[at + 1], &s->files[at],
		(s->nr_files - at) * sizeof(s->files[0]));
	memset(&s->files[at], 0, sizeof(s->files[at]));
	ret = set_item(&s->files[at].item, data, len);
	if (ret) {
		memmove(&s->files[at], &s->files[at + 1],
			(s->nr_files - at) * sizeof(s->files[0]));
		return ret;
	}
	memcpy(s->files[at].name, name, n);
	s->nr_files++;
	rebuild_dir(s);
	return 0;
}

const uint8_t *fw_cfg_file_data(const struct fw_cfg *s, const char *name,
				size_t *len)
{
	for (unsigned i = 0; i < s->nr_files; i++)
		if (!strcmp(s->files[i].name, name)) {
			*len = s->files[i].item.len;
			return s->files[i].item.data;
		}
	return NULL;
}

/* ---- the guest's side (under s->lock) ---- */

static void select_key(struct fw_cfg *s, uint16_t key)
{
	s->cur = key;
	s->off = 0;
}

static uint8_t next_byte(struct fw_cfg *s)
{
	const struct fw_cfg_item *it = item_of(s, s->cur);

	if (!it || s->off >= it->len)
		return 0;
	return it->data[s->off++];
}

/* Up to 4 GiB of zeros on a vCPU thread: whole pages are given back
 * rather than written (a memset of that size faulted in as much host
 * memory, for seconds, in one exit). RAM only, as guest_mem_ptr_rw. */
static bool zero_guest(struct fw_cfg *s, uint64_t gpa, uint64_t len)
{
	return guest_mem_zero(s->env.mem, gpa, len) == 0;
}

/* One DMA step at the current item: returns the bytes it covered, and
 * sets FW_CFG_DMA_ERROR in *status when the guest's buffer is not RAM or
 * the operation is a write. Past the item's end a read stores zeros. */
static uint32_t dma_step(struct fw_cfg *s, uint32_t op, uint64_t addr,
			 uint32_t len, uint32_t *status)
{
	const struct fw_cfg_item *it = item_of(s, s->cur);
	uint32_t n = len;

	if (it && s->off < it->len) {
		n = MIN(len, it->len - s->off);
		if (op == FW_CFG_DMA_READ &&
		    guest_mem_write(s->env.mem, addr, it->data + s->off, n))
			*status |= FW_CFG_DMA_ERROR;
		s->off += n;
	} else if (op == FW_CFG_DMA_READ && !zero_guest(s, addr, n)) {
		*status |= FW_CFG_DMA_ERROR;
	}
	if (op == FW_CFG_DMA_WRITE)
		*status |= FW_CFG_DMA_ERROR;
	return n;
}

/* The operation the control word asks for: read wins over write, write
 * over skip, as in QEMU; none of them is an empty transfer. */
static uint32_t dma_op(uint32_t control)
{
	if (control & FW_CFG_DMA_READ)
		return FW_CFG_DMA_READ;
	if (control & FW_CFG_DMA_WRITE)
		return FW_CFG_DMA_WRITE;
	if (control & FW_CFG_DMA_SKIP)
		return FW_CFG_DMA_SKIP;
	return 0;
}

static void dma_transfer(struct fw_cfg *s)
{
	uint64_t desc = s->dma_addr, addr = 0;
	uint32_t control, len, op, status = 0;
	uint8_t d[FW_CFG_DMA_DESC_LEN], st[4];

	s->dma_addr = 0;
	if (guest_mem_read(s->env.mem, desc, d, sizeof(d))) {
		status = FW_CFG_DMA_ERROR;
		goto out;
	}
	control = get_be32(d);
	len = get_be32(d + 4);
	addr = (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12);
	if (control & FW_CFG_DMA_SELECT)
		select_key(s, (uint16_t)(control >> 16));
	op = dma_op(control);
	if (!op)
		len = 0;
	while (len && !(status & FW_CFG_DMA_ERROR)) {
		uint32_t n = dma_step(s, op, addr, len, &status);

		addr += n;
		len -= n;
	}
out:
	/* The guest polls the control word for 0 (or the error bit); a
	 * descriptor outside RAM gets nothing, as on QEMU. */
	put_be32(st, status);
	(void)guest_mem_write(s->env.mem, desc, st, sizeof(st));
}

static uint64_t dma_reg_read(uint64_t off, unsigned size)
{
	uint64_t v = 0;

	/* The signature's bytes in memory order: the register is big-endian. */
	for (unsigned i = 0; i < size; i++) {
		uint64_t at = off + i;
		uint8_t b = at < 8 ? (uint8_t)(FW_CFG_DMA_SIGNATURE >>
					       (8 * (7 - at))) : 0;

		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static uint32_t bswap32(uint32_t v)
{
	return __builtin_bswap32(v);
}

static void dma_reg_write(struct fw_cfg *s, uint64_t off, unsigned size,
			  uint64_t v)
{
	if (size == 4 && off == 0) {
		s->dma_addr = (uint64_t)bswap32((uint32_t)v) << 32;
	} else if (size == 4 && off == 4) {
		s->dma_addr |= bswap32((uint32_t)v);
		dma_transfer(s);
	} else if (size == 8 && off == 0) {
		s->dma_addr = __builtin_bswap64(v);
		dma_transfer(s);
	}
}

static uint64_t fw_read(struct device *dev, unsigned region, uint64_t off,
			unsigned size)
{
	struct fw_cfg *s = to_fw(dev);
	uint64_t v = 0;

	if (off >= FW_CFG_OFF_DMA)
		return dma_reg_read(off - FW_CFG_OFF_DMA, size);
	if (off > FW_CFG_OFF_DATA)
		return ~0ULL;            /* 0x512-0x513 decode nothing */
	/* Byte reads are the interface; a wider one gets that many bytes
	 * in memory order. */
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)next_byte(s) << (8 * i);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void fw_write(struct device *dev, unsigned region, uint64_t off,
		     unsigned size, uint64_t value)
{
	struct fw_cfg *s = to_fw(dev);

	pthread_mutex_lock(&s->lock);
	if (off >= FW_CFG_OFF_DMA)
		dma_reg_write(s, off - FW_CFG_OFF_DMA, size, value);
	else if (off == FW_CFG_OFF_SEL && size == 2)
		select_key(s, (uint16_t)value);
	/* A byte written to the data port is ignored, as by QEMU. */
	pthread_mutex_unlock(&s->lock);
}

static void fw_reset(struct device *dev)
{
	struct fw_cfg *s = to_fw(dev);

	pthread_mutex_lock(&s->lock);
	select_key(s, FW_CFG_SIGNATURE);
	s->dma_addr = 0;
	pthread_mutex_unlock(&s->lock);
}

static void fw_free(struct device *dev)
{
	struct fw_cfg *s = to_fw(dev);

	for (unsigned i = 0; i < FW_CFG_FILE_FIRST; i++)
		free(s->fixed[i].data);
	for (unsigned i = 0; i < s->nr_files; i++)
		free(s->files[i].item.data);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct device_ops fw_cfg_ops = {
	.read = fw_read,
	.write = fw_write,
	.reset = fw_reset,
	.free = fw_free,
};

struct fw_cfg *fw_cfg_new(const struct dev_env *env)
{
	struct fw_cfg *s = xcalloc(1, sizeof(*s));

	s->env = *env;
	pthread_mutex_init(&s->lock, NULL);
	s->cur = FW_CFG_SIGNATURE;
	s->dev.ops = &fw_cfg_ops;
	s->dev.name = FW_CFG_NAME;
	device_add_region(&s->dev, BUS_PIO, FW_CFG_IO_BASE, FW_CFG_IO_LEN);
	fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
	fw_cfg_add_u32(s, FW_CFG_ID, FW_CFG_ID_TRAD | FW_CFG_ID_DMA);
	rebuild_dir(s);
	return s;
}
