/* `pass`: a host PCI device given to the guest through VFIO (src/vfio/).
 *
 *   pass loc HOST [guest-loc pci:0:DEV[.FN]] [rombar on|off] [romfile PATH]
 *        [mmap on|off]
 *   pass loc pci:0:DEV.FN=HOST          (QNX: guest location = host one)
 *
 * HOST is pci:BUS:DEV.FN, pci:SEG:BUS:DEV.FN, pci:VID/DID[/INDEX] (the
 * INDEXth such device, from 0, in address order) or sysfs:/sys/... (a
 * mediated device or an SR-IOV VF by its sysfs path). Numbers as in every
 * loc: decimal or 0x hex; ids are hex as lspci prints them.
 *
 * QNX's `pass loc mem:`/`io:` (host memory or ports mapped straight into
 * the guest) is refused: without VFIO, Linux isolates neither the
 * device's DMA nor its interrupts, so a guest could reach all of host
 * memory through it.
 */
#include <stdio.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/util.h"

static struct pass_config *cur(struct parser *p)
{
	return &p->cfg->passes[p->cfg->nr_pass - 1];
}

int parse_pass_start(struct parser *p, const struct token *kw)
{
	struct vm_config *cfg = p->cfg;

	if (cfg->nr_pass >= CFG_MAX_PASS)
		return cfg_err(p->err, &kw->pos, "too many pass devices (max %d)",
			       CFG_MAX_PASS);
	memset(&cfg->passes[cfg->nr_pass], 0, sizeof(cfg->passes[0]));
	cfg->passes[cfg->nr_pass++].pos = kw->pos;
	p->ctx = CTX_PASS;
	return 0;
}

static int bad_host(struct parser *p, const struct token *a, const char *s)
{
	return cfg_err(p->err, &a->pos, "invalid pass location '%s': expected "
		       "pci:BUS:DEV.FN, pci:SEG:BUS:DEV.FN, pci:VID/DID[/INDEX] "
		       "or sysfs:/sys/PATH", s);
}

static int field(struct parser *p, const struct token *a, const char *s,
		 size_t len, uint64_t max, const char *what, uint64_t *v)
{
	if (parse_u64(s, len, v))
		return cfg_err(p->err, &a->pos, "invalid pci %s '%.*s'", what,
			       (int)len, s);
	if (*v > max)
		return cfg_err(p->err, &a->pos, "pci %s %llu out of range "
			       "(0-%llu)", what, (unsigned long long)*v,
			       (unsigned long long)max);
	return 0;
}

static int hex_id(struct parser *p, const struct token *a, const char *s,
		  size_t len, uint16_t *out)
{
	uint64_t v = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		len -= 2;
	}
	if (!len || len > 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v * 16 + (uint64_t)d;
	}
	*out = (uint16_t)v;
	return 0;
}

/* VID/DID[/INDEX] */
static int host_by_id(struct parser *p, const struct token *a,
		      const char *s, struct pass_config *pc)
{
	const char *s1 = strchr(s, '/'), *s2 = strchr(s1 + 1, '/');
	size_t dlen = s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1);
	uint64_t idx = 0;

	if (hex_id(p, a, s, (size_t)(s1 - s), &pc->vid) ||
	    hex_id(p, a, s1 + 1, dlen, &pc->did))
		return cfg_err(p->err, &a->pos, "invalid pci id in '%s': "
			       "expected VID/DID in hex (0x8086/0x10d3)", s);
	if (s2 && field(p, a, s2 + 1, strlen(s2 + 1), 255, "index", &idx))
		return -1;
	pc->kind = PASS_PCI_ID;
	pc->index = (unsigned)idx;
	return 0;
}

/* [SEG:]BUS:DEV.FN */
static int host_by_addr(struct parser *p, const struct token *a,
			const char *s, struct pass_config *pc)
{
	const char *c1 = strchr(s, ':'), *c2, *dot;
	uint64_t seg = 0, bus, dev, fn;

	if (!c1)
		return bad_host(p, a, a->text);
	c2 = strchr(c1 + 1, ':');
	if (c2) {
		if (field(p, a, s, (size_t)(c1 - s), 0xffff, "segment", &seg))
			return -1;
		s = c1 + 1;
		c1 = c2;
	}
	dot = strchr(c1 + 1, '.');
	if (!dot)
		return cfg_err(p->err, &a->pos, "pass location '%s' needs a "
			       "function: BUS:DEV.FN", a->text);
	if (field(p, a, s, (size_t)(c1 - s), 255, "bus", &bus) ||
	    field(p, a, c1 + 1, (size_t)(dot - c1 - 1), 31, "device", &dev) ||
	    field(p, a, dot + 1, strlen(dot + 1), 7, "function", &fn))
		return -1;
	pc->kind = PASS_PCI_ADDR;
	pc->seg = (uint16_t)seg;
	pc->bus = (uint8_t)bus;
	pc->dev = (uint8_t)dev;
	pc->fn = (uint8_t)fn;
	return 0;
}

static int refuse_mem(struct parser *p, const struct token *a, const char *s)
{
	if (strncmp(s, "mem:", 4) && strncmp(s, "io:", 3) &&
	    (s[0] < '0' || s[0] > '9'))
		return 0;
	return cfg_err(p->err, &a->pos, "pass of host memory or ports ('%s') "
		       "is refused: without VFIO, Linux isolates neither the "
		       "device's DMA nor its interrupts, so the guest could "
		       "reach all of host memory; pass a PCI device instead "
		       "(pass loc pci:...)", s);
}

static int host_loc(struct parser *p, const struct token *a, const char *s,
		    struct pass_config *pc)
{
	if (refuse_mem(p, a, s))
		return -1;
	if (!strncmp(s, "sysfs:", 6)) {
		if (strncmp(s + 6, "/sys/", 5) || strstr(s, "/../") ||
		    strlen(s + 6) >= CFG_PASS_PATH_MAX)
			return cfg_err(p->err, &a->pos, "invalid pass location "
				       "'%s': expected sysfs:/sys/... (the "
				       "device's directory)", s);
		pc->kind = PASS_SYSFS;
		pc->sysfs = arena_strdup(p->arena, s + 6);
		return 0;
	}
	if (strncmp(s, "pci:", 4))
		return bad_host(p, a, s);
	s += 4;
	if (strchr(s, '/'))
		return host_by_id(p, a, s, pc);
	return host_by_addr(p, a, s, pc);
}

/* guest-loc pci:0:DEV[.FN]: the guest's bus has one segment and bus 0. */
static int guest_slot(struct parser *p, const struct token *a,
		      const char *s, struct pass_config *pc)
{
	struct cfg_loc loc;

	if (strncmp(s, "pci:", 4) || strchr(s, '/'))
		return cfg_err(p->err, &a->pos, "invalid guest location '%s': "
			       "expected pci:0:DEV[.FN]", s);
	if (parse_loc(s, LOC_PCI, &loc, &a->pos, p->err))
		return -1;
	if (loc.bus)
		return cfg_err(p->err, &a->pos, "pci bus %u does not exist in "
			       "the guest (there is only bus 0)", loc.bus);
	if (!loc.dev)
		return cfg_err(p->err, &a->pos, "pci slot 0 is the host bridge");
	if (pc->has_guest_slot)
		return cfg_err(p->err, &a->pos, "the guest location is given "
			       "twice");
	pc->has_guest_slot = true;
	pc->guest_dev = loc.dev;
	pc->guest_fn = loc.fn;
	pc->guest_pos = a->pos;
	return 0;
}

static int pass_loc(struct parser *p, const struct token *t)
{
	const struct token *a;
	const char *text = loc_text(p, t, &a);
	struct pass_config *pc = cur(p);
	const char *eq;

	if (!text)
		return -1;
	if (pc->has_host)
		return cfg_err(p->err, &a->pos, "pass takes one device; start "
			       "another 'pass' for the next one");
	if (refuse_mem(p, a, text))
		return -1;
	eq = strchr(text, '=');
	if (eq) {
		/* QNX: GUEST=HOST */
		const char *g = arena_strndup(p->arena, text,
					      (size_t)(eq - text));

		if (guest_slot(p, a, g, pc))
			return -1;
		text = eq + 1;
	}
	if (host_loc(p, a, text, pc))
		return -1;
	pc->has_host = true;
	pc->loc_pos = a->pos;
	return 0;
}

static int on_off(struct parser *p, const struct token *t, bool *off)
{
	const struct token *a = next_arg(p, t, "'on' or 'off'");

	if (!a)
		return -1;
	if (!strcmp(a->text, "on"))
		*off = false;
	else if (!strcmp(a->text, "off"))
		*off = true;
	else
		return cfg_err(p->err, &a->pos, "expected 'on' or 'off' after "
			       "'%s', got '%s'", t->text, a->text);
	return 0;
}

static int pass_romfile(struct parser *p, const struct token *t)
{
	const struct token *a = next_arg(p, t, "a file");
	struct pass_config *pc = cur(p);

	if (!a)
		return -1;
	if (pc->romfile)
		return cfg_err(p->err, &a->pos, "romfile given twice");
	if (!a->text[0])
		return cfg_err(p->err, &a->pos, "romfile needs a path");
	pc->romfile = a->dir && a->text[0] != '/' && strcmp(a->dir, ".") ?
		      arena_printf(p->arena, "%s/%s", a->dir, a->text) :
		      arena_strdup(p->arena, a->text);
	pc->rom_pos = a->pos;
	return 0;
}

int parse_pass_option(struct parser *p, const struct token *t)
{
	struct pass_config *pc = cur(p);
	const struct token *a;

	if (!strcmp(t->text, "loc"))
		return pass_loc(p, t) ? -1 : 1;
	if (!strcmp(t->text, "guest-loc")) {
		const char *text = loc_text(p, t, &a);

		return !text || guest_slot(p, a, text, pc) ? -1 : 1;
	}
	if (!strcmp(t->text, "rombar"))
		return on_off(p, t, &pc->rombar_off) ? -1 : 1;
	if (!strcmp(t->text, "romfile"))
		return pass_romfile(p, t) ? -1 : 1;
	if (!strcmp(t->text, "mmap"))
		return on_off(p, t, &pc->mmap_off) ? -1 : 1;
	if (!strcmp(t->text, "intr")) {
		cfg_err(p->err, &t->pos, "a passed PCI device takes no 'intr': "
			"its INTx line follows its guest slot (ioapic "
			"16-19, as for every PCI device) and its MSI/MSI-X "
			"vectors are the guest's to program");
		return -1;
	}
	return 0;
}

static int check_one(const struct vm_config *cfg, unsigned i,
		     struct cfg_error *err)
{
	const struct pass_config *pc = &cfg->passes[i];
	char buf[POS_STR_MAX];

	if (!pc->has_host)
		return cfg_err(err, &pc->pos, "pass needs 'loc' (pci:BUS:DEV.FN, "
			       "pci:VID/DID or sysfs:/sys/...)");
	if (pc->romfile && pc->rombar_off)
		return cfg_err(err, &pc->rom_pos, "romfile with rombar off: the "
			       "guest would not see it");
	for (unsigned j = 0; j < i; j++) {
		const struct pass_config *o = &cfg->passes[j];
		bool same = o->kind == pc->kind &&
			(pc->kind == PASS_PCI_ADDR ?
			 o->seg == pc->seg && o->bus == pc->bus &&
			 o->dev == pc->dev && o->fn == pc->fn :
			 pc->kind == PASS_PCI_ID ?
			 o->vid == pc->vid && o->did == pc->did &&
			 o->index == pc->index :
			 !strcmp(o->sysfs, pc->sysfs));

		if (same)
			return cfg_err(err, &pc->loc_pos, "this device is "
				       "already passed at %s",
				       pos_str(&o->loc_pos, buf, sizeof(buf)));
	}
	return 0;
}

int validate_passes(const struct vm_config *cfg, struct cfg_error *err)
{
	for (unsigned i = 0; i < cfg->nr_pass; i++)
		if (check_one(cfg, i, err))
			return -1;
	return 0;
}
