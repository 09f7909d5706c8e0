#include <string.h>

#include "arch/x86/acpi/aml.h"

/* AML opcodes (ACPI 6.x section 20.3). */
#define AML_ZERO          0x00
#define AML_ONE           0x01
#define AML_NAME          0x08
#define AML_BYTE_PREFIX   0x0a
#define AML_WORD_PREFIX   0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX  0x0e
#define AML_SCOPE         0x10
#define AML_METHOD        0x14
#define AML_AND           0x7b
#define AML_NOTIFY        0x86
#define AML_IF            0xa0
#define AML_OPREGION      0x80    /* after AML_EXT_PREFIX */
#define AML_FIELD         0x81    /* after AML_EXT_PREFIX */
#define AML_FIELD_BYTE_ACC      0x01
#define AML_FIELD_WRITE_ZEROS   (2u << 5)
#define AML_BUFFER        0x11
#define AML_PACKAGE       0x12
#define AML_DUAL_NAME     0x2e
#define AML_MULTI_NAME    0x2f
#define AML_EXT_PREFIX    0x5b
#define AML_DEVICE        0x82    /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR     0x5c
#define AML_PARENT_CHAR   0x5e
#define AML_ONES          0xff

static unsigned count_segments(const char *p)
{
	unsigned n = *p ? 1 : 0;

	for (; *p; p++)
		if (*p == '.')
			n++;
	return n;
}

/* One NameSeg: up to four characters, padded with '_'. */
static const char *put_segment(struct fw_buf *b, const char *p)
{
	char seg[4] = { '_', '_', '_', '_' };

	for (unsigned i = 0; *p && *p != '.'; p++)
		if (i < 4)
			seg[i++] = *p;
	fw_buf_put(b, seg, 4);
	return *p == '.' ? p + 1 : p;
}

void aml_name_string(struct fw_buf *b, const char *path)
{
	unsigned n;

	for (; *path == '\\' || *path == '^'; path++)
		fw_buf_u8(b, *path == '\\' ? AML_ROOT_CHAR : AML_PARENT_CHAR);
	n = count_segments(path);
	if (n == 0) {
		fw_buf_u8(b, AML_ZERO);         /* NullName */
		return;
	}
	if (n == 2)
		fw_buf_u8(b, AML_DUAL_NAME);
	if (n > 2) {
		fw_buf_u8(b, AML_MULTI_NAME);
		fw_buf_u8(b, (uint8_t)n);
	}
	while (*path)
		path = put_segment(b, path);
}

void aml_integer(struct fw_buf *b, uint64_t v)
{
	if (v == 0) {
		fw_buf_u8(b, AML_ZERO);
	} else if (v == 1) {
		fw_buf_u8(b, AML_ONE);
	} else if (v == UINT64_MAX) {
		fw_buf_u8(b, AML_ONES);
	} else if (v <= UINT8_MAX) {
		fw_buf_u8(b, AML_BYTE_PREFIX);
		fw_buf_u8(b, (uint8_t)v);
	} else if (v <= UINT16_MAX) {
		fw_buf_u8(b, AML_WORD_PREFIX);
		fw_buf_u16(b, (uint16_t)v);
	} else if (v <= UINT32_MAX) {
		fw_buf_u8(b, AML_DWORD_PREFIX);
		fw_buf_u32(b, (uint32_t)v);
	} else {
		fw_buf_u8(b, AML_QWORD_PREFIX);
		fw_buf_u64(b, v);
	}
}

void aml_string(struct fw_buf *b, const char *s)
{
	fw_buf_u8(b, AML_STRING_PREFIX);
	fw_buf_put(b, s, strlen(s) + 1);
}

static unsigned hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	return 0;
}

/* Three letters in 5 bits each ('A' = 1), then four hex digits; the
 * result is stored big-endian, hence the byte swap. */
uint32_t aml_eisaid_value(const char *id)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < 3; i++)
		v = v << 5 | ((uint32_t)(id[i] - '@') & 0x1f);
	for (unsigned i = 3; i < 7; i++)
		v = v << 4 | hex_digit(id[i]);
	return __builtin_bswap32(v);
}

void aml_eisaid(struct fw_buf *b, const char *id)
{
	fw_buf_u8(b, AML_DWORD_PREFIX);
	fw_buf_u32(b, aml_eisaid_value(id));
}

void aml_name(struct fw_buf *b, const char *name)
{
	fw_buf_u8(b, AML_NAME);
	aml_name_string(b, name);
}

void aml_name_int(struct fw_buf *b, const char *name, uint64_t v)
{
	aml_name(b, name);
	aml_integer(b, v);
}

void aml_name_str(struct fw_buf *b, const char *name, const char *s)
{
	aml_name(b, name);
	aml_string(b, s);
}

void aml_name_eisaid(struct fw_buf *b, const char *name, const char *id)
{
	aml_name(b, name);
	aml_eisaid(b, id);
}

/* PkgLength counts its own bytes: 1 byte holds up to 63, otherwise the
 * lead byte says how many follow (bits 7:6) and holds the low nibble. */
unsigned aml_pkglength(uint8_t out[4], size_t len)
{
	size_t total;
	unsigned n;

	if (len + 1 <= 0x3f) {
		out[0] = (uint8_t)(len + 1);
		return 1;
	}
	for (n = 2; n <= 4; n++) {
		total = len + n;
		if (total < (size_t)1 << (4 + 8 * (n - 1)))
			break;
	}
	if (n > 4)
		return 0;
	out[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
	for (unsigned i = 1; i < n; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return n;
}

void aml_close(struct fw_buf *b, size_t mark)
{
	uint8_t pl[4];
	unsigned n = aml_pkglength(pl, b->len - mark);

	/* 2^28 bytes of AML cannot come from a config of bounded size. */
	fw_buf_insert(b, mark, pl, n);
}

size_t aml_scope_open(struct fw_buf *b, const char *name)
{
	size_t mark;

	fw_buf_u8(b, AML_SCOPE);
	mark = b->len;
	aml_name_string(b, name);
	return mark;
}

size_t aml_device_open(struct fw_buf *b, const char *name)
{
	size_t mark;

	fw_buf_u8(b, AML_EXT_PREFIX);
	fw_buf_u8(b, AML_DEVICE);
	mark = b->len;
	aml_name_string(b, name);
	return mark;
}

size_t aml_package_open(struct fw_buf *b, uint8_t nr_elements)
{
	size_t mark;

	fw_buf_u8(b, AML_PACKAGE);
	mark = b->len;
	fw_buf_u8(b, nr_elements);
	return mark;
}

size_t aml_method_open(struct fw_buf *b, const char *name, unsigned nargs,
		       bool serialized)
{
	size_t mark;

	fw_buf_u8(b, AML_METHOD);
	mark = b->len;
	aml_name_string(b, name);
	/* MethodFlags: ArgCount in bits 0-2, SerializeFlag bit 3 */
	fw_buf_u8(b, (uint8_t)((nargs & 7) | (serialized ? 1u << 3 : 0)));
	return mark;
}

size_t aml_if_open(struct fw_buf *b)
{
	fw_buf_u8(b, AML_IF);
	return b->len;
}

void aml_opregion(struct fw_buf *b, const char *name, uint8_t space,
		  uint64_t base, uint64_t len)
{
	fw_buf_u8(b, AML_EXT_PREFIX);
	fw_buf_u8(b, AML_OPREGION);
	aml_name_string(b, name);
	fw_buf_u8(b, space);
	aml_integer(b, base);
	aml_integer(b, len);
}

void aml_field_byte(struct fw_buf *b, const char *region, const char *name,
		    uint8_t bits)
{
	size_t mark;

	fw_buf_u8(b, AML_EXT_PREFIX);
	fw_buf_u8(b, AML_FIELD);
	mark = b->len;
	aml_name_string(b, region);
	fw_buf_u8(b, AML_FIELD_BYTE_ACC | AML_FIELD_WRITE_ZEROS);
	/* NamedField: a NameSeg, then the width in bits as a PkgLength
	 * value (not counting itself); one byte holds up to 63. */
	aml_name_string(b, name);
	fw_buf_u8(b, bits & 0x3f);
	aml_close(b, mark);
}

void aml_and(struct fw_buf *b)
{
	fw_buf_u8(b, AML_AND);
}

void aml_notify(struct fw_buf *b, const char *object, uint8_t value)
{
	fw_buf_u8(b, AML_NOTIFY);
	aml_name_string(b, object);
	aml_integer(b, value);
}

void aml_buffer(struct fw_buf *b, const void *data, size_t len)
{
	size_t mark;

	fw_buf_u8(b, AML_BUFFER);
	mark = b->len;
	aml_integer(b, len);
	fw_buf_put(b, data, len);
	aml_close(b, mark);
}

/* Small resource items: tag byte = type << 3 | length. */
#define RES_IRQ_NOFLAGS  (0x04 << 3 | 2)    /* 0x22 */
#define RES_IO           (0x08 << 3 | 7)    /* 0x47 */
#define RES_END          (0x0f << 3 | 1)    /* 0x79 */
/* Large resource items: 0x80 | type, then a 16-bit length. */
#define RES_MEM32_FIXED  0x86
#define RES_DWORD_ADDR   0x87
#define RES_WORD_ADDR    0x88
#define RES_EXT_IRQ      0x89
#define RES_QWORD_ADDR   0x8a

/* Address space descriptors (ACPI 6.4.3.5): resource type, flags. */
#define RES_ADDR_MEM     0
#define RES_ADDR_IO      1
#define RES_ADDR_BUS     2
#define RES_ADDR_FIXED   (1 << 3 | 1 << 2)  /* _MAF, _MIF; producer, +decode */
#define RES_IO_ENTIRE    3                  /* _RNG: ISA and non-ISA ports */
#define RES_MEM_RW       1
#define RES_MEM_CACHE    (1 << 1)           /* _MEM = Cacheable */

void res_io(struct fw_buf *r, uint16_t base, uint8_t len)
{
	fw_buf_u8(r, RES_IO);
	fw_buf_u8(r, 1);               /* decodes 16 address bits */
	fw_buf_u16(r, base);           /* minimum */
	fw_buf_u16(r, base);           /* maximum: fixed at base */
	fw_buf_u8(r, 1);               /* alignment */
	fw_buf_u8(r, len);
}

void res_irq(struct fw_buf *r, uint8_t irq)
{
	fw_buf_u8(r, RES_IRQ_NOFLAGS);
	fw_buf_u16(r, (uint16_t)(1u << (irq & 15)));
}

void res_mem32_fixed(struct fw_buf *r, uint32_t base, uint32_t len, bool rw)
{
	fw_buf_u8(r, RES_MEM32_FIXED);
	fw_buf_u16(r, 9);
	fw_buf_u8(r, rw ? 1 : 0);
	fw_buf_u32(r, base);
	fw_buf_u32(r, len);
}

void res_interrupt(struct fw_buf *r, uint32_t gsi, bool level, bool active_low)
{
	uint8_t flags = 1;             /* consumer; exclusive; not wake */

	if (!level)
		flags |= 1 << 1;       /* edge */
	if (active_low)
		flags |= 1 << 2;
	fw_buf_u8(r, RES_EXT_IRQ);
	fw_buf_u16(r, 6);
	fw_buf_u8(r, flags);
	fw_buf_u8(r, 1);               /* one interrupt number */
	fw_buf_u32(r, gsi);
}

static void put_width(struct fw_buf *r, unsigned width, uint64_t v)
{
	if (width == 2)
		fw_buf_u16(r, (uint16_t)v);
	else if (width == 4)
		fw_buf_u32(r, (uint32_t)v);
	else
		fw_buf_u64(r, v);
}

/* The Word, DWord and QWord forms differ only in the width of their five
 * numbers: granularity, minimum, maximum, translation offset, length. */
static void res_addr(struct fw_buf *r, unsigned width, uint8_t type,
		     uint8_t type_flags, uint64_t min, uint64_t max)
{
	static const uint8_t tag[9] = { [2] = RES_WORD_ADDR,
					[4] = RES_DWORD_ADDR,
					[8] = RES_QWORD_ADDR };

	fw_buf_u8(r, tag[width]);
	fw_buf_u16(r, (uint16_t)(3 + 5 * width));
	fw_buf_u8(r, type);
	fw_buf_u8(r, RES_ADDR_FIXED);
	fw_buf_u8(r, type_flags);
	put_width(r, width, 0);                 /* granularity */
	put_width(r, width, min);
	put_width(r, width, max);
	put_width(r, width, 0);                 /* translation */
	put_width(r, width, max - min + 1);     /* length */
}

void res_word_bus(struct fw_buf *r, uint16_t min, uint16_t max)
{
	res_addr(r, 2, RES_ADDR_BUS, 0, min, max);
}

void res_word_io(struct fw_buf *r, uint16_t min, uint16_t max)
{
	res_addr(r, 2, RES_ADDR_IO, RES_IO_ENTIRE, min, max);
}

void res_dword_mem(struct fw_buf *r, uint32_t min, uint32_t max,
		   bool cacheable)
{
	res_addr(r, 4, RES_ADDR_MEM,
		 RES_MEM_RW | (cacheable ? RES_MEM_CACHE : 0), min, max);
}

void res_qword_mem(struct fw_buf *r, uint64_t min, uint64_t max,
		   bool cacheable)
{
	res_addr(r, 8, RES_ADDR_MEM,
		 RES_MEM_RW | (cacheable ? RES_MEM_CACHE : 0), min, max);
}

void aml_crs(struct fw_buf *b, struct fw_buf *r)
{
	fw_buf_u8(r, RES_END);
	fw_buf_u8(r, 0);               /* checksum 0: "treat as valid" */
	aml_name(b, "_CRS");
	aml_buffer(b, r->data, r->len);
}
