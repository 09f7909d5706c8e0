/* Numbers, locations and interrupt references: the argument syntax shared
 * by ram/rom/load/reserve/vdev. */
#include <string.h>

#include "config/cfg_internal.h"
#include "core/util.h"

static int digit_value(char c, unsigned base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < (int)base ? v : -1;
}

static int suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	default: return -1;
	}
}

static int parse_digits(const char *s, size_t len, unsigned base,
			uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = digit_value(s[i], base);

		if (d < 0)
			return -1;
		if (__builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, (uint64_t)d, &v))
			return -2;
	}
	*out = v;
	return 0;
}

int parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	int shift = 0, ret;
	uint64_t v;

	if (len && suffix_shift(s[len - 1]) >= 0) {
		/* k/m/g are not hex digits, so "0x10m" is unambiguous */
		shift = suffix_shift(s[len - 1]);
		len--;
	}
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	ret = parse_digits(s, len, base, &v);
	if (ret)
		return ret;
	if (shift && v > (UINT64_MAX >> shift))
		return -2;
	*out = v << shift;
	return 0;
}

const char *space_name(enum cfg_space s)
{
	switch (s) {
	case LOC_MEM: return "mem";
	case LOC_IO: return "io";
	case LOC_PCI: return "pci";
	default: return "none";
	}
}

static int bad_loc(struct cfg_error *err, const struct cfg_pos *pos,
		   const char *text)
{
	return cfg_err(err, pos, "invalid location '%s'; expected mem:ADDR[,LEN], "
		       "io:PORT[,LEN], pci:BUS:DEV[.FN] or pci:VID/DID", text);
}

static int num_err(struct cfg_error *err, const struct cfg_pos *pos,
		   const char *what, const char *s, size_t len, int rc)
{
	if (rc == -2)
		return cfg_err(err, pos, "%s '%.*s' is too large", what,
			       (int)len, s);
	return cfg_err(err, pos, "invalid %s '%.*s'", what, (int)len, s);
}

static int parse_addr_len(const char *text, const char *s,
			  struct cfg_loc *loc, const struct cfg_pos *pos,
			  struct cfg_error *err)
{
	const char *comma = strchr(s, ',');
	size_t alen = comma ? (size_t)(comma - s) : strlen(s);
	int rc;

	if (comma && strchr(comma + 1, ','))
		return bad_loc(err, pos, text);
	rc = parse_u64(s, alen, &loc->addr);
	if (rc == -1)
		return bad_loc(err, pos, text);
	if (rc)
		return num_err(err, pos, "address", s, alen, rc);
	if (!comma)
		return 0;
	rc = parse_u64(comma + 1, strlen(comma + 1), &loc->len);
	if (rc)
		return num_err(err, pos, "length", comma + 1,
			       strlen(comma + 1), rc);
	if (!loc->len)
		return cfg_err(err, pos, "location length must not be zero");
	loc->has_len = true;
	if (!range_ok(loc->addr, loc->len))
		return cfg_err(err, pos, "location '%s' wraps around the "
			       "address space", text);
	return 0;
}

static int check_io(const char *text, struct cfg_loc *loc,
		    const struct cfg_pos *pos, struct cfg_error *err)
{
	uint64_t len = loc->has_len ? loc->len : 1;

	if (loc->addr > 0xffff || len > 0x10000 - loc->addr)
		return cfg_err(err, pos, "io location '%s' is beyond port 0xffff",
			       text);
	return 0;
}

static int pci_field(const char *s, size_t len, uint64_t max,
		     const char *what, uint64_t *v, const char *text,
		     const struct cfg_pos *pos, struct cfg_error *err)
{
	if (parse_u64(s, len, v))
		return bad_loc(err, pos, text);
	if (*v > max)
		return cfg_err(err, pos, "pci %s %llu out of range (0-%llu)",
			       what, (unsigned long long)*v,
			       (unsigned long long)max);
	return 0;
}

static int parse_pci_id(const char *text, const char *s, struct cfg_loc *loc,
			const struct cfg_pos *pos, struct cfg_error *err)
{
	const char *slash = strchr(s, '/');
	const char *d = slash + 1;
	uint64_t vid, did;

	/* ids are hex with or without 0x, as lspci prints them */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
		d += 2;
	if (parse_digits(s, (size_t)(slash - s), 16, &vid) ||
	    parse_digits(d, strlen(d), 16, &did) ||
	    vid > 0xffff || did > 0xffff)
		return bad_loc(err, pos, text);
	loc->pci_by_id = true;
	loc->vid = (uint16_t)vid;
	loc->did = (uint16_t)did;
	return 0;
}

static int parse_pci(const char *text, const char *s, struct cfg_loc *loc,
		     const struct cfg_pos *pos, struct cfg_error *err)
{
	const char *colon = strchr(s, ':'), *dot;
	uint64_t bus, dev, fn = 0;

	if (strchr(s, '/'))
		return parse_pci_id(text, s, loc, pos, err);
	if (!colon)
		return bad_loc(err, pos, text);
	dot = strchr(colon + 1, '.');
	if (pci_field(s, (size_t)(colon - s), 255, "bus", &bus, text, pos, err))
		return -1;
	if (pci_field(colon + 1, dot ? (size_t)(dot - colon - 1)
				     : strlen(colon + 1),
		      31, "device", &dev, text, pos, err))
		return -1;
	if (dot && pci_field(dot + 1, strlen(dot + 1), 7, "function", &fn,
			     text, pos, err))
		return -1;
	loc->bus = (uint8_t)bus;
	loc->dev = (uint8_t)dev;
	loc->fn = (uint8_t)fn;
	return 0;
}

int parse_loc(const char *text, enum cfg_space bare, struct cfg_loc *loc,
	      const struct cfg_pos *pos, struct cfg_error *err)
{
	const char *s = text;

	memset(loc, 0, sizeof(*loc));
	loc->pos = *pos;
	loc->space = bare;
	if (!strncmp(s, "mem:", 4)) {
		loc->space = LOC_MEM;
		s += 4;
	} else if (!strncmp(s, "io:", 3)) {
		loc->space = LOC_IO;
		s += 3;
	} else if (!strncmp(s, "pci:", 4)) {
		loc->space = LOC_PCI;
		return parse_pci(text, s + 4, loc, pos, err);
	}
	if (parse_addr_len(text, s, loc, pos, err))
		return -1;
	if (loc->space == LOC_IO)
		return check_io(text, loc, pos, err);
	/* Below the limit, no sum of an address and a device's size can
	 * wrap, and KVM could map it on some host. */
	if (loc->space == LOC_MEM &&
	    (loc->addr >= CFG_GPA_LIMIT ||
	     (loc->has_len && loc->len > CFG_GPA_LIMIT - loc->addr)))
		return cfg_err(err, pos, "location '%s' is beyond the 52-bit "
			       "guest-physical address space", text);
	return 0;
}

static int bad_intr(struct cfg_error *err, const struct cfg_pos *pos,
		    const char *s, size_t len)
{
	return cfg_err(err, pos, "invalid interrupt '%.*s'; expected "
		       "NAME:LINE or apic", (int)len, s);
}

int parse_intr_item(const char *s, size_t len, bool allow_bare,
		    struct cfg_intr *intr, const struct cfg_pos *pos,
		    struct cfg_error *err)
{
	const char *colon = memrchr(s, ':', len);
	uint64_t line;
	size_t nlen;

	memset(intr, 0, sizeof(*intr));
	intr->pos = *pos;
	if (len == 4 && !memcmp(s, "apic", 4)) {
		intr->is_apic = true;
		strcpy(intr->pic, "apic");
		return 0;
	}
	if (!colon) {
		/* `reserve intr N`: a line of the implicit ioapic, pic "" */
		if (!allow_bare || parse_u64(s, len, &line))
			return bad_intr(err, pos, s, len);
	} else {
		nlen = (size_t)(colon - s);
		if (!nlen || parse_u64(colon + 1, len - nlen - 1, &line))
			return bad_intr(err, pos, s, len);
		if (nlen >= CFG_NAME_MAX)
			return cfg_err(err, pos, "interrupt controller name "
				       "'%.*s' is too long (max %d characters)",
				       (int)nlen, s, CFG_NAME_MAX - 1);
		memcpy(intr->pic, s, nlen);
	}
	if (line > UINT32_MAX)
		return cfg_err(err, pos, "interrupt line %llu is too large",
			       (unsigned long long)line);
	intr->line = (uint32_t)line;
	return 0;
}
