/* A growable little-endian byte buffer: what the ACPI, AML and MP table
 * builders write into before anything reaches guest memory. Allocation
 * failure exits like xcalloc (firmware tables are built once, at start). */
#ifndef CVISOR_ARCH_X86_ACPI_FW_BUF_H
#define CVISOR_ARCH_X86_ACPI_FW_BUF_H

#include <stddef.h>
#include <stdint.h>

struct fw_buf {
	uint8_t *data;
	size_t len, cap;
};

void fw_buf_init(struct fw_buf *b);
void fw_buf_free(struct fw_buf *b);
/* Append n zero bytes; returns their offset (pointers move on growth). */
size_t fw_buf_zero(struct fw_buf *b, size_t n);
void fw_buf_put(struct fw_buf *b, const void *p, size_t n);
/* Insert n bytes at off, moving the tail up. */
void fw_buf_insert(struct fw_buf *b, size_t off, const void *p, size_t n);
void fw_buf_u8(struct fw_buf *b, uint8_t v);
void fw_buf_u16(struct fw_buf *b, uint16_t v);
void fw_buf_u32(struct fw_buf *b, uint32_t v);
void fw_buf_u64(struct fw_buf *b, uint64_t v);

/* The byte that makes the sum of p[0..n) plus itself zero. */
uint8_t fw_checksum(const void *p, size_t n);

static inline void fw_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fw_le32(uint8_t *p, uint32_t v)
{
	fw_le16(p, (uint16_t)v);
	fw_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void fw_le64(uint8_t *p, uint64_t v)
{
	fw_le32(p, (uint32_t)v);
	fw_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
