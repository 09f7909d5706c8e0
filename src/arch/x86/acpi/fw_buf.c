#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi/fw_buf.h"
#include "core/util.h"

void fw_buf_init(struct fw_buf *b)
{
	*b = (struct fw_buf){ 0 };
}

void fw_buf_free(struct fw_buf *b)
{
	free(b->data);
	fw_buf_init(b);
}

static void grow(struct fw_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + n <= b->cap)
		return;
	while (cap < b->len + n)
		cap *= 2;
	b->data = realloc(b->data, cap);
	if (!b->data)
		out_of_memory();
	b->cap = cap;
}

size_t fw_buf_zero(struct fw_buf *b, size_t n)
{
	size_t off = b->len;

	grow(b, n);
	memset(b->data + off, 0, n);
	b->len += n;
	return off;
}

void fw_buf_put(struct fw_buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void fw_buf_insert(struct fw_buf *b, size_t off, const void *p, size_t n)
{
	grow(b, n);
	memmove(b->data + off + n, b->data + off, b->len - off);
	memcpy(b->data + off, p, n);
	b->len += n;
}

void fw_buf_u8(struct fw_buf *b, uint8_t v)
{
	fw_buf_put(b, &v, 1);
}

void fw_buf_u16(struct fw_buf *b, uint16_t v)
{
	uint8_t p[2];

	fw_le16(p, v);
	fw_buf_put(b, p, sizeof(p));
}

void fw_buf_u32(struct fw_buf *b, uint32_t v)
{
	uint8_t p[4];

	fw_le32(p, v);
	fw_buf_put(b, p, sizeof(p));
}

void fw_buf_u64(struct fw_buf *b, uint64_t v)
{
	uint8_t p[8];

	fw_le64(p, v);
	fw_buf_put(b, p, sizeof(p));
}

uint8_t fw_checksum(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint8_t sum = 0;

	while (n--)
		sum += *s++;
	return (uint8_t)-sum;
}
