/* The `vdev TYPE` context: common options (loc, intr, name, hostdev, log,
 * legacy) and the type's own options from its table in devices/. */
#include <stdio.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "config/help.h"
#include "core/util.h"
#include "devices/registry.h"

static unsigned type_count(const struct vm_config *cfg,
			   const struct vdev_type *type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		n += cfg->vdevs[i].type == type;
	return n;
}

static int unknown_type(struct parser *p, const struct token *a)
{
	const char *names[64];
	const char *s;
	size_t n = 0;

	for (const struct vdev_type *const *t = vdev_types;
	     *t && n < ARRAY_SIZE(names); t++)
		names[n++] = (*t)->name;
	s = suggest_word(a->text, names, n);
	if (s)
		return cfg_err(p->err, &a->pos, "unknown vdev type '%s'; did "
			       "you mean '%s'?", a->text, s);
	return cfg_err(p->err, &a->pos, "unknown vdev type '%s' (cvisor "
		       "--help lists them)", a->text);
}

int parse_vdev_start(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "a vdev type");
	struct vm_config *cfg = p->cfg;
	const struct vdev_type *type;
	struct vdev_config *vc;
	unsigned index;

	if (!a)
		return -1;
	type = vdev_type_find(a->text);
	if (!type)
		return unknown_type(p, a);
	if (!type->supported)
		return cfg_err(p->err, &a->pos, "vdev type '%s' is not supported "
			       "yet", type->name);
	index = type_count(cfg, type);
	if (type->max_instances && index >= type->max_instances)
		return cfg_err(p->err, &a->pos, "too many %s vdevs (max %u)",
			       type->name, type->max_instances);
	if (cfg->nr_vdevs >= CFG_MAX_VDEVS)
		return cfg_err(p->err, &a->pos, "too many vdevs (max %d)",
			       CFG_MAX_VDEVS);
	vc = &cfg->vdevs[cfg->nr_vdevs++];
	memset(vc, 0, sizeof(*vc));
	vc->type = type;
	vc->index = index;
	vc->pos = a->pos;
	p->vdev = vc;
	p->ctx = CTX_VDEV;
	return 0;
}

static int vdev_twice(struct parser *p, const struct token *t,
		      const struct cfg_pos *first)
{
	char buf[POS_STR_MAX];

	return cfg_err(p->err, &t->pos, "'%s' given twice for vdev %s "
		       "(first at %s)", t->text, p->vdev->type->name,
		       pos_str(first, buf, sizeof(buf)));
}

static int vdev_loc(struct parser *p, const struct token *t)
{
	struct vdev_config *vc = p->vdev;
	enum cfg_space bare = vc->type->loc_space;
	const struct token *a;
	const char *text;

	if (vc->nr_locs)
		return vdev_twice(p, t, &vc->locs[0].pos);
	text = loc_text(p, t, &a);
	/* QNX: a plain address means the device's own space (`8259 loc
	 * 0x20` is an io port); mem for devices that have none. */
	if (bare == LOC_NONE || vc->type->class == VDEV_VIRTIO)
		bare = LOC_MEM;
	/* arm64 has no port I/O: a 16550 there sits in memory */
	if (bare == LOC_IO && vc->type->mem_loc_too &&
	    p->cfg->arch == CFG_ARCH_ARM64)
		bare = LOC_MEM;
	if (!text || parse_loc(text, bare, &vc->locs[0], &a->pos, p->err))
		return -1;
	vc->nr_locs = 1;
	return 0;
}

static int vdev_intr(struct parser *p, const struct token *t)
{
	const struct token *a = next_arg(p, t, "an interrupt");

	if (!a)
		return -1;
	return parse_intr_list(p, a, false, p->vdev->intrs, &p->vdev->nr_intrs,
			       CFG_MAX_INTRS);
}

/* Interrupt controller names are used in `intr NAME:LINE`, so a ':' would
 * make them unreferenceable (QNX rejects it too). */
static int vdev_name(struct parser *p, const struct token *t)
{
	const struct token *a = next_arg(p, t, "a name");
	struct vdev_config *vc = p->vdev;
	bool irqchip = vc->type->class == VDEV_IRQCHIP;
	char buf[POS_STR_MAX];

	if (!a)
		return -1;
	if (vc->name[0])
		return cfg_err(p->err, &t->pos, "'name' given twice for vdev %s",
			       vc->type->name);
	if (irqchip && strchr(a->text, ':'))
		return cfg_err(p->err, &a->pos, "interrupt controller name '%s' "
			       "must not contain ':'", a->text);
	if (irqchip && !strcmp(a->text, "apic"))
		return cfg_err(p->err, &a->pos, "name 'apic' is reserved for the "
			       "local apic");
	for (unsigned i = 0; i + 1 < p->cfg->nr_vdevs; i++)
		if (!strcmp(p->cfg->vdevs[i].name, a->text))
			return cfg_err(p->err, &a->pos, "name '%s' already used "
				       "by vdev %s at %s", a->text,
				       p->cfg->vdevs[i].type->name,
				       pos_str(&p->cfg->vdevs[i].pos, buf,
					       sizeof(buf)));
	return check_name(p, a, vc->name);
}

static bool hostdev_keeps_path(const char *path)
{
	return path[0] == '/' || !strcmp(path, "-") || !strcmp(path, "pty") ||
	       strchr(path, ':');
}

/* `[<|>]PATH`, `>-`, `-`, or the QNX 8.0 pipe `>"|command"` (on the command
 * line the quotes arrive verbatim). */
static int vdev_hostdev(struct parser *p, const struct token *t)
{
	const struct token *a = p->i < p->nr_toks ? &p->toks[p->i] : NULL;
	struct vdev_config *vc = p->vdev;
	struct cfg_hostdev *hd;
	const char *s;
	size_t len;

	/* A shell eats an unquoted `>-` or `<file` on the command line: the
	 * hostdev is then missing, or the next statement follows it. */
	if (!a || (!a->quoted && is_statement(a->text)))
		return cfg_err(p->err, &t->pos, "expected a host device after "
			       "'hostdev'%s", t->pos.file &&
			       !strcmp(t->pos.file, CFG_ARGV_FILE) ?
			       " (a shell takes an unquoted >- or <FILE as "
			       "a redirection: write hostdev '>-')" : "");
	p->i++;
	if (!vc->type->allow_hostdev)
		return cfg_err(p->err, &t->pos, "vdev %s does not take 'hostdev'",
			       vc->type->name);
	if (vc->nr_hostdevs >= CFG_MAX_HOSTDEVS)
		return cfg_err(p->err, &t->pos, "too many hostdev options for "
			       "vdev %s (max %d)", vc->type->name,
			       CFG_MAX_HOSTDEVS);
	hd = &vc->hostdevs[vc->nr_hostdevs];
	memset(hd, 0, sizeof(*hd));
	hd->pos = a->pos;
	s = a->text;
	hd->dir = s[0] == '<' ? HOSTDEV_IN : s[0] == '>' ? HOSTDEV_OUT
						       : HOSTDEV_BOTH;
	if (hd->dir != HOSTDEV_BOTH)
		s++;
	len = strlen(s);
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	if (len && s[0] == '|') {
		if (hd->dir != HOSTDEV_OUT)
			return cfg_err(p->err, &a->pos, "a hostdev pipe must be "
				       "an output: hostdev >\"|command\"");
		hd->is_pipe = true;
		s++;
		len--;
	}
	if (!len)
		return cfg_err(p->err, &a->pos, "expected a path in hostdev '%s'",
			       a->text);
	hd->path = arena_strndup(p->arena, s, len);
	if (vc->type->check_hostdev) {
		const char *why = vc->type->check_hostdev(hd->path);

		if (why)
			return cfg_err(p->err, &a->pos, "vdev %s: hostdev '%s': "
				       "%s", vc->type->name, hd->path, why);
	} else if (!hd->is_pipe && a->dir && strcmp(a->dir, ".") &&
		   !hostdev_keeps_path(hd->path))
		hd->path = arena_printf(p->arena, "%s/%s", a->dir, hd->path);
	vc->nr_hostdevs++;
	return 0;
}

static bool enum_has(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *c = choices; c;) {
		const char *bar = strchr(c, '|');
		size_t len = bar ? (size_t)(bar - c) : strlen(c);

		if (len == n && !strncmp(c, v, n))
			return true;
		c = bar ? bar + 1 : NULL;
	}
	return false;
}

static bool number_list_ok(const char *s)
{
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		uint64_t v;

		if (parse_u64(s, len, &v))
			return false;
		if (!comma)
			return true;
		s = comma + 1;
	}
}

static int devopt_value(struct parser *p, const struct token *t,
			const struct devopt_spec *o, struct cfg_devopt *d)
{
	static const char *const what[] = {
		[DEVOPT_NUM] = "a number", [DEVOPT_STR] = "a value",
		[DEVOPT_ENUM] = "a value", [DEVOPT_LIST] = "a list of numbers",
	};
	const struct token *a = next_arg(p, t, what[o->kind]);

	if (!a)
		return -1;
	d->value = arena_strdup(p->arena, a->text);
	switch (o->kind) {
	case DEVOPT_NUM:
		if (parse_u64(a->text, strlen(a->text), &d->num))
			return cfg_err(p->err, &a->pos, "invalid number '%s' for "
				       "'%s'", a->text, o->key);
		if (d->num < o->min || d->num > o->max)
			return cfg_err(p->err, &a->pos, "value %llu for '%s' out "
				       "of range (%llu-%llu)",
				       (unsigned long long)d->num, o->key,
				       (unsigned long long)o->min,
				       (unsigned long long)o->max);
		return 0;
	case DEVOPT_ENUM:
		if (!enum_has(o->choices, a->text))
			return cfg_err(p->err, &a->pos, "invalid value '%s' for "
				       "'%s'; expected one of %s", a->text,
				       o->key, o->choices);
		return 0;
	case DEVOPT_LIST:
		if (!number_list_ok(a->text))
			return cfg_err(p->err, &a->pos, "invalid number list "
				       "'%s' for '%s'", a->text, o->key);
		return 0;
	default:
		if (o->check) {
			const char *why = o->check(a->text);

			if (why)
				return cfg_err(p->err, &a->pos, "invalid value "
					       "'%s' for '%s': %s", a->text,
					       o->key, why);
		}
		return 0;
	}
}

static struct cfg_devopt *new_devopt(struct parser *p, const struct token *t,
				     const char *key, bool repeatable)
{
	struct vdev_config *vc = p->vdev;
	const struct cfg_devopt *old = vdev_opt(vc, key);

	if (old && !repeatable) {
		vdev_twice(p, t, &old->pos);
		return NULL;
	}
	if (vc->nr_opts >= CFG_MAX_DEVOPTS) {
		cfg_err(p->err, &t->pos, "too many options for vdev %s (max %d)",
			vc->type->name, CFG_MAX_DEVOPTS);
		return NULL;
	}
	vc->opts[vc->nr_opts] = (struct cfg_devopt){ .key = key, .pos = t->pos };
	return &vc->opts[vc->nr_opts];
}

static int vdev_devopt(struct parser *p, const struct token *t,
		       const struct devopt_spec *o)
{
	struct cfg_devopt *d = new_devopt(p, t, o->key, o->repeatable);

	if (!d)
		return -1;
	if (o->kind != DEVOPT_FLAG && devopt_value(p, t, o, d))
		return -1;
	p->vdev->nr_opts++;
	return 0;
}

/* `legacy` (virtio 0.9.5 interface) is common to the virtio types. */
static int vdev_legacy(struct parser *p, const struct token *t)
{
	struct cfg_devopt *d;

	if (p->vdev->type->class != VDEV_VIRTIO)
		return cfg_err(p->err, &t->pos, "vdev %s does not take 'legacy'",
			       p->vdev->type->name);
	d = new_devopt(p, t, "legacy", false);
	if (!d)
		return -1;
	p->vdev->nr_opts++;
	return 0;
}

/* `shared` (cvisor extension): the disk image may be used by other
 * processes at the same time; no lock is taken (config/disk_lock.c). */
static int vdev_shared(struct parser *p, const struct token *t)
{
	struct cfg_devopt *d;

	if (p->vdev->type != &virtio_blk_type &&
	    p->vdev->type != &lsi53c895a_type)
		return cfg_err(p->err, &t->pos, "vdev %s does not take 'shared'",
			       p->vdev->type->name);
	d = new_devopt(p, t, "shared", false);
	if (!d)
		return -1;
	p->vdev->nr_opts++;
	return 0;
}

static int vdev_log(struct parser *p, const struct token *t)
{
	struct vdev_config *vc = p->vdev;
	bool slog;

	if (vc->has_log)
		return cfg_err(p->err, &t->pos, "'log' given twice for vdev %s",
			       vc->type->name);
	vc->has_log = true;
	return parse_log_spec(p, t, &vc->log_mask, &slog);
}

static const struct {
	const char *name;
	int (*fn)(struct parser *p, const struct token *t);
} common_opts[] = {
	{ "loc", vdev_loc }, { "intr", vdev_intr }, { "name", vdev_name },
	{ "hostdev", vdev_hostdev }, { "legacy", vdev_legacy },
	{ "log", vdev_log }, { "shared", vdev_shared },
};

size_t vdev_option_words(const struct vdev_config *vc, const char **words,
			 size_t max)
{
	size_t n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(common_opts) && n < max; i++)
		words[n++] = common_opts[i].name;
	for (const struct devopt_spec *o = vc->type->opts; o && o->key &&
	     n < max; o++)
		words[n++] = o->key;
	return n;
}

int parse_vdev_option(struct parser *p, const struct token *t)
{
	const struct devopt_spec *o;

	for (unsigned i = 0; i < ARRAY_SIZE(common_opts); i++)
		if (!strcmp(common_opts[i].name, t->text))
			return common_opts[i].fn(p, t) ? -1 : 1;
	o = vdev_type_opt(p->vdev->type, t->text);
	if (o)
		return vdev_devopt(p, t, o) ? -1 : 1;
	return 0;
}
