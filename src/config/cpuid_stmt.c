/* `cpuid ITEM{,ITEM}` (cvisor extension): the vCPUs' CPUID bits, as QEMU's
 * `-cpu host,-x2apic`. An ITEM is
 *   -NAME, +NAME or NAME      clear or set a named bit (cpuid_features.c)
 *   [+|-]LEAF[:SUB].REG.BIT   any bit: -0x7:0.ebx.5, +1.ecx.21
 *   vendor=STRING             the 12-character vendor string of leaf 0
 * The statement may be repeated; edits apply in order, to every vCPU. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpuid_features.h"
#include "config/cfg_internal.h"
#include "config/help.h"
#include "core/util.h"

#define VENDOR_LEN 12

/* The position of the item starting at offset off of the token: a plain
 * token in a file is on one line, so its column moves with the offset (a
 * command-line token's column is its argv index: it stays). */
static struct cfg_pos item_pos(const struct token *t, size_t off)
{
	struct cfg_pos pos = t->pos;

	if (!t->quoted && pos.file && strcmp(pos.file, CFG_ARGV_FILE))
		pos.col += (unsigned)off;
	return pos;
}

static int unknown(struct parser *p, const struct cfg_pos *pos,
		   const char *name)
{
	const char *words[256];
	size_t nr, n = 0;
	const struct cpuid_feature *f = x86_cpuid_features(&nr);
	const char *s;

	for (size_t i = 0; i < nr && n < ARRAY_SIZE(words); i++)
		words[n++] = f[i].name;
	s = suggest_word(name, words, n);
	if (s)
		return cfg_err(p->err, pos, "cpuid: unknown feature '%s'; did "
			       "you mean '%s'?", name, s);
	return cfg_err(p->err, pos, "cpuid: unknown feature '%s' (cvisor "
		       "help cpuid lists them; LEAF[:SUB].REG.BIT names any "
		       "bit)", name);
}

static int parse_reg(const char *s, enum cpuid_reg *reg)
{
	static const char *const names[] = { "eax", "ebx", "ecx", "edx" };

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(s, names[i])) {
			*reg = (enum cpuid_reg)i;
			return 0;
		}
	return -1;
}

static int parse_num32(const char *s, size_t len, uint32_t *v)
{
	uint64_t x;

	if (!len || parse_u64(s, len, &x) || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* LEAF[:SUB].REG.BIT */
static int parse_raw(const char *s, struct cpuid_edit *e)
{
	char buf[64], *reg, *bit, *sub, *end;
	unsigned long b;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	reg = strchr(buf, '.');
	if (!reg)
		return -1;
	*reg++ = '\0';
	bit = strchr(reg, '.');
	if (!bit)
		return -1;
	*bit++ = '\0';
	sub = strchr(buf, ':');
	if (sub)
		*sub++ = '\0';
	if (parse_num32(buf, strlen(buf), &e->leaf) ||
	    (sub && parse_num32(sub, strlen(sub), &e->subleaf)) ||
	    parse_reg(reg, &e->reg) || !isdigit((unsigned char)*bit))
		return -1;
	b = strtoul(bit, &end, 10);
	if (*end || b > 31)
		return -1;
	e->bit = (uint8_t)b;
	return 0;
}

static int vendor(struct parser *p, const struct cfg_pos *pos, const char *v)
{
	struct vm_config *c = p->cfg;
	char buf[POS_STR_MAX];

	if (c->cpuid_vendor_pos.line)
		return cfg_err(p->err, pos, "cpuid: vendor given twice (first "
			       "at %s)", pos_str(&c->cpuid_vendor_pos, buf,
						 sizeof(buf)));
	if (strlen(v) != VENDOR_LEN)
		return cfg_err(p->err, pos, "cpuid: vendor '%s' is not %d "
			       "characters long (GenuineIntel, AuthenticAMD)",
			       v, VENDOR_LEN);
	memcpy(c->cpuid_vendor, v, VENDOR_LEN + 1);
	c->cpuid_vendor_pos = *pos;
	return 0;
}

static int item(struct parser *p, const struct cfg_pos *pos, const char *s)
{
	struct vm_config *c = p->cfg;
	struct cpuid_edit e = { .set = true, .pos = *pos };
	const struct cpuid_feature *f;

	if (!strncmp(s, "vendor=", 7))
		return vendor(p, pos, s + 7);
	if (*s == '-' || *s == '+')
		e.set = *s++ == '+';
	if (!*s)
		return cfg_err(p->err, pos, "cpuid: empty feature name");
	if (isdigit((unsigned char)*s) && strchr(s, '.')) {
		if (parse_raw(s, &e))
			return cfg_err(p->err, pos, "cpuid: '%s': expected "
				       "LEAF[:SUBLEAF].REG.BIT, REG one of "
				       "eax, ebx, ecx, edx and BIT 0-31", s);
	} else {
		f = x86_cpuid_feature_find(s, strlen(s));
		if (!f)
			return unknown(p, pos, s);
		e.leaf = f->leaf;
		e.subleaf = f->subleaf;
		e.reg = f->reg;
		e.bit = f->bit;
	}
	if (c->nr_cpuid >= CFG_MAX_CPUID)
		return cfg_err(p->err, pos, "cpuid: more than %d bits changed",
			       CFG_MAX_CPUID);
	c->cpuid[c->nr_cpuid++] = e;
	return 0;
}

int st_cpuid(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "-FEATURE, +FEATURE or "
					 "vendor=STRING");
	const char *s;

	if (!a)
		return -1;
	for (s = a->text; ; ) {
		size_t n = strcspn(s, ",");
		struct cfg_pos pos = item_pos(a, (size_t)(s - a->text));
		char buf[80];

		if (n >= sizeof(buf))
			return cfg_err(p->err, &pos, "cpuid: '%.*s' is too "
				       "long", (int)n, s);
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (item(p, &pos, buf))
			return -1;
		s += n;
		if (!*s++)
			break;
	}
	return 0;
}

void help_cpuid(FILE *f)
{
	static const char *const regs[] = { "eax", "ebx", "ecx", "edx" };
	size_t nr;
	const struct cpuid_feature *t = x86_cpuid_features(&nr);

	fputs("cpuid -NAME,+NAME,...  (or LEAF[:SUB].REG.BIT, vendor=STRING)\n"
	      "NAME                 LEAF:SUB REG BIT\n", f);
	for (size_t i = 0; i < nr; i++)
		fprintf(f, "%-20s 0x%x:%u %s %u\n", t[i].name, t[i].leaf,
			t[i].subleaf, regs[t[i].reg], t[i].bit);
}
