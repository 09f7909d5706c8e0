/* First pass: the token stream → vm_config, statement by statement.
 *
 * QNX context rules: `vdev`, `cpu`, `reserve` and `pass` open a context that
 * lasts until the next one opens; context options (loc, intr, sched...)
 * apply to it; the other top-level options (ram, load...) may appear
 * anywhere and leave the context open. Checks that need the whole config
 * (defaults, overlaps, duplicate interrupts) are in validate.c.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include "config/cfg_internal.h"
#include "config/help.h"
#include "core/util.h"
#include "devices/registry.h"

typedef int (*stmt_fn)(struct parser *p, const struct token *kw);

const struct token *next_arg(struct parser *p, const struct token *opt,
			     const char *what)
{
	if (p->i >= p->nr_toks) {
		cfg_err(p->err, &opt->pos, "expected %s after '%s'", what,
			opt->text);
		return NULL;
	}
	return &p->toks[p->i++];
}

int check_name(struct parser *p, const struct token *t, char *dst)
{
	size_t len = strlen(t->text);

	if (!len)
		return cfg_err(p->err, &t->pos, "name must not be empty");
	if (len >= CFG_NAME_MAX)
		return cfg_err(p->err, &t->pos, "name '%s' is too long (max %d "
			       "characters)", t->text, CFG_NAME_MAX - 1);
	memcpy(dst, t->text, len + 1);
	return 0;
}

static int twice(struct parser *p, const struct token *kw,
		 const struct cfg_pos *first)
{
	char buf[POS_STR_MAX];

	return cfg_err(p->err, &kw->pos, "'%s' given twice (first at %s)",
		       kw->text, pos_str(first, buf, sizeof(buf)));
}

static int st_system(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "a name");

	if (!a)
		return -1;
	if (p->has_system)
		return twice(p, kw, &p->system_pos);
	p->has_system = true;
	p->system_pos = kw->pos;
	return check_name(p, a, p->cfg->system);
}

static int size_num(struct parser *p, const struct token *a, const char *s,
		    size_t len, const char *what, uint64_t *v)
{
	int rc = parse_u64(s, len, v);

	if (rc == -2)
		return cfg_err(p->err, &a->pos, "%s '%.*s' is too large", what,
			       (int)len, s);
	if (rc)
		return cfg_err(p->err, &a->pos, "invalid %s '%.*s'", what,
			       (int)len, s);
	return 0;
}

/* The end of the highest RAM/ROM so far: where `ram SIZE` goes. */
static uint64_t mem_top(const struct vm_config *cfg)
{
	uint64_t top = 0;

	for (unsigned i = 0; i < cfg->nr_ram; i++)
		top = MAX(top, cfg->ram[i].start + cfg->ram[i].size);
	for (unsigned i = 0; i < cfg->nr_rom; i++)
		top = MAX(top, cfg->rom[i].start + cfg->rom[i].size);
	return top;
}

static int check_range(struct parser *p, const struct token *a,
		       const char *what, uint64_t start, uint64_t size)
{
	if (!size)
		return cfg_err(p->err, &a->pos, "%s size must not be zero", what);
	if (!IS_ALIGNED(start, 4 * KiB))
		return cfg_err(p->err, &a->pos, "%s start 0x%llx is not 4 KiB "
			       "aligned", what, (unsigned long long)start);
	if (!IS_ALIGNED(size, 4 * KiB))
		return cfg_err(p->err, &a->pos, "%s size 0x%llx is not a "
			       "multiple of 4 KiB", what,
			       (unsigned long long)size);
	if (!range_ok(start, size))
		return cfg_err(p->err, &a->pos, "%s 0x%llx,0x%llx wraps around "
			       "the address space", what,
			       (unsigned long long)start,
			       (unsigned long long)size);
	if (start >= CFG_GPA_LIMIT || size > CFG_GPA_LIMIT - start)
		return cfg_err(p->err, &a->pos, "%s 0x%llx,0x%llx is beyond "
			       "the 52-bit guest-physical address space", what,
			       (unsigned long long)start,
			       (unsigned long long)size);
	return 0;
}

/* "[START,]SIZE" of ram and rom. */
static int mem_arg(struct parser *p, const struct token *a, const char *what,
		   bool need_start, uint64_t *start, uint64_t *size)
{
	const char *comma = strchr(a->text, ',');

	if (!comma && need_start)
		return cfg_err(p->err, &a->pos, "expected START,SIZE after '%s', "
			       "got '%s'", what, a->text);
	if (comma) {
		if (size_num(p, a, a->text, (size_t)(comma - a->text),
			     "address", start))
			return -1;
	} else {
		*start = mem_top(p->cfg);
	}
	comma = comma ? comma + 1 : a->text;
	if (size_num(p, a, comma, strlen(comma), "size", size))
		return -1;
	return check_range(p, a, what, *start, *size);
}

static int st_ram(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "[START,]SIZE");
	struct vm_config *cfg = p->cfg;
	uint64_t start, size, total = 0;

	if (!a || mem_arg(p, a, "ram", false, &start, &size))
		return -1;
	if (cfg->nr_ram >= CFG_MAX_RAM)
		return cfg_err(p->err, &a->pos, "too many ram regions (max %d)",
			       CFG_MAX_RAM);
	for (unsigned i = 0; i < cfg->nr_ram; i++)
		total += cfg->ram[i].size;
	if (size > CFG_RAM_LIMIT || total + size > CFG_RAM_LIMIT)
		return cfg_err(p->err, &a->pos, "total ram exceeds the limit "
			       "of 1 TiB");
	cfg->ram[cfg->nr_ram++] = (struct ram_config){
		.start = start, .size = size, .pos = a->pos,
		.implicit = !strchr(a->text, ','),
	};
	return 0;
}

static int st_rom(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "START,SIZE");
	struct vm_config *cfg = p->cfg;
	uint64_t start, size;

	if (!a || mem_arg(p, a, "rom", true, &start, &size))
		return -1;
	if (cfg->nr_rom >= CFG_MAX_ROM)
		return cfg_err(p->err, &a->pos, "too many rom regions (max %d)",
			       CFG_MAX_ROM);
	cfg->rom[cfg->nr_rom++] = (struct rom_config){ start, size, a->pos };
	return 0;
}

static int st_reserve(struct parser *p, const struct token *kw)
{
	p->ctx = CTX_RESERVE;
	return 0;
}

static int st_cpu(struct parser *p, const struct token *kw)
{
	struct vm_config *cfg = p->cfg;

	if (cfg->nr_cpus >= CFG_MAX_CPUS)
		return cfg_err(p->err, &kw->pos, "too many cpus (max %d)",
			       CFG_MAX_CPUS);
	p->cpu = &cfg->cpus[cfg->nr_cpus++];
	memset(p->cpu, 0, sizeof(*p->cpu));
	p->cpu->pos = kw->pos;
	p->ctx = CTX_CPU;
	return 0;
}

/* Relative paths in files are relative to the file's directory. */
static char *resolve_path(struct parser *p, const struct token *t,
			  const char *path)
{
	if (!t->dir || path[0] == '/' || !strcmp(t->dir, "."))
		return arena_strdup(p->arena, path);
	return arena_printf(p->arena, "%s/%s", t->dir, path);
}

static int load_path(struct parser *p, const struct token *a,
		     struct load_config *ld)
{
	const char *comma = strchr(a->text, ',');
	const char *path = a->text;
	uint64_t addr;

	/* ADDR,PATH only when the part before the comma is a number, so
	 * paths with commas still work. */
	if (comma) {
		int rc = parse_u64(a->text, (size_t)(comma - a->text), &addr);

		if (rc == -2)
			return cfg_err(p->err, &a->pos, "address '%.*s' is too "
				       "large", (int)(comma - a->text), a->text);
		if (!rc) {
			ld->has_addr = true;
			ld->addr = addr;
			path = comma + 1;
		}
	}
	if (!path[0])
		return cfg_err(p->err, &a->pos, "expected a path in '%s'",
			       a->text);
	ld->path = resolve_path(p, a, path);
	if (access(ld->path, R_OK)) {
		char ebuf[128];

		snprintf(ebuf, sizeof(ebuf), "%s", strerror(errno));
		if (ebuf[0] >= 'A' && ebuf[0] <= 'Z')
			ebuf[0] = (char)(ebuf[0] - 'A' + 'a');
		return cfg_err(p->err, &a->pos, "cannot read '%s': %s",
			       ld->path, ebuf);
	}
	return 0;
}

static int do_load(struct parser *p, const struct token *kw,
		   enum blob_type type, const char *blob)
{
	const struct token *a = next_arg(p, kw, "[ADDR,]PATH");
	struct vm_config *cfg = p->cfg;
	struct load_config ld = { .type = type };
	char buf[POS_STR_MAX];

	if (!a)
		return -1;
	ld.pos = a->pos;
	if (load_path(p, a, &ld))
		return -1;
	if (type == BLOB_DATA && !ld.has_addr)
		return cfg_err(p->err, &a->pos, "data load needs an address: "
			       "data load ADDR,PATH");
	for (unsigned i = 0; type == BLOB_GUEST && i < cfg->nr_loads; i++)
		if (cfg->loads[i].type == BLOB_GUEST)
			return cfg_err(p->err, &a->pos, "more than one guest "
				       "image (first at %s)",
				       pos_str(&cfg->loads[i].pos, buf,
					       sizeof(buf)));
	if (cfg->nr_loads >= CFG_MAX_LOADS)
		return cfg_err(p->err, &a->pos, "too many %s loads (max %d)",
			       blob, CFG_MAX_LOADS);
	cfg->loads[cfg->nr_loads++] = ld;
	return 0;
}

static int st_load(struct parser *p, const struct token *kw)
{
	return do_load(p, kw, BLOB_GUEST, "load");
}

static int st_pass(struct parser *p, const struct token *kw)
{
	return parse_pass_start(p, kw);
}

/* QNX's `BLOB pass`: a blob in host memory mapped into the guest. */
static int st_blob_pass(struct parser *p, const struct token *kw)
{
	return cfg_err(p->err, &kw->pos, "'%s pass' (host memory mapped into "
		       "the guest) is refused: without VFIO, Linux isolates "
		       "neither DMA nor interrupts; use '%s load'",
		       p->toks[p->i - 2].text, p->toks[p->i - 2].text);
}

static const struct {
	const char *name;
	enum blob_type type;
} blobs[] = {
	{ "guest", BLOB_GUEST }, { "initrd", BLOB_INITRD },
	{ "data", BLOB_DATA }, { "acpi", BLOB_ACPI }, { "fdt", BLOB_FDT },
};

/* `BLOB load ...` (or QNX's `BLOB pass ...`). */
static int st_blob(struct parser *p, const struct token *kw)
{
	const struct token *next = p->i < p->nr_toks ? &p->toks[p->i] : NULL;

	if (next && !strcmp(next->text, "pass")) {
		p->i++;
		return st_blob_pass(p, next);
	}
	if (!next || strcmp(next->text, "load"))
		return cfg_err(p->err, &kw->pos, "expected 'load' after '%s'",
			       kw->text);
	p->i++;
	for (unsigned i = 0; i < ARRAY_SIZE(blobs); i++)
		if (!strcmp(blobs[i].name, kw->text))
			return do_load(p, next, blobs[i].type, kw->text);
	return -1;
}

static int st_cmdline(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "a string");

	if (!a)
		return -1;
	if (p->cfg->cmdline)
		return twice(p, kw, &p->cfg->cmdline_pos);
	p->cfg->cmdline = arena_strdup(p->arena, a->text);
	p->cfg->cmdline_pos = kw->pos;
	return 0;
}

/* `api PATH` (cvisor extension): the JSON control socket (ctl/ctl.h),
 * a path as written (relative to the working directory). */
static int st_api(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "a socket path");

	if (!a)
		return -1;
	if (p->cfg->api_path)
		return twice(p, kw, &p->cfg->api_pos);
	p->cfg->api_path = arena_strdup(p->arena, a->text);
	p->cfg->api_pos = kw->pos;
	return 0;
}

/* `memory OPT{,OPT}` (cvisor extension): thp (the default: anonymous
 * memory with transparent huge pages), hugepages (hugetlbfs), prealloc. */
static int st_memory(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "thp, hugepages or prealloc");
	struct vm_config *c = p->cfg;
	bool thp = false;
	char buf[64];

	if (!a)
		return -1;
	if (c->memory_pos.line)
		return twice(p, kw, &c->memory_pos);
	c->memory_pos = kw->pos;
	for (const char *s = a->text; ; s++) {
		size_t n = strcspn(s, ",");

		snprintf(buf, sizeof(buf), "%.*s", (int)n, s);
		if (!strcmp(buf, "thp"))
			thp = true;
		else if (!strcmp(buf, "hugepages"))
			c->mem_hugepages = true;
		else if (!strcmp(buf, "prealloc"))
			c->mem_prealloc = true;
		else
			return cfg_err(p->err, &a->pos, "memory: '%s': expected "
				       "thp, hugepages or prealloc", buf);
		s += n;
		if (!*s)
			break;
	}
	if (thp && c->mem_hugepages)
		return cfg_err(p->err, &a->pos, "memory: thp and hugepages "
			       "exclude each other");
	return 0;
}

static int st_vdev(struct parser *p, const struct token *kw)
{
	return parse_vdev_start(p, kw);
}

/* `reboot reset|exit` and `triplefault reset|exit` (cvisor extensions). */
static int parse_action(struct parser *p, const struct token *kw,
			enum reboot_action *out, struct cfg_pos *seen)
{
	const struct token *a = next_arg(p, kw, "'reset' or 'exit'");

	if (!a)
		return -1;
	if (seen->line)
		return twice(p, kw, seen);
	if (!strcmp(a->text, "reset"))
		*out = REBOOT_RESET;
	else if (!strcmp(a->text, "exit"))
		*out = REBOOT_EXIT;
	else
		return cfg_err(p->err, &a->pos, "expected 'reset' or 'exit' "
			       "after '%s', got '%s'", kw->text, a->text);
	*seen = kw->pos;
	return 0;
}

static int st_reboot(struct parser *p, const struct token *kw)
{
	return parse_action(p, kw, &p->cfg->reboot, &p->reboot_pos);
}

static int st_triplefault(struct parser *p, const struct token *kw)
{
	return parse_action(p, kw, &p->cfg->triplefault, &p->triplefault_pos);
}

/* `arch x86|arm64` (cvisor extension): the architecture the config is
 * for, so that `cvisor check` applies its rules on any host. */
static int st_arch(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "'x86' or 'arm64'");
	struct vm_config *c = p->cfg;

	if (!a)
		return -1;
	if (c->arch_pos.line)
		return twice(p, kw, &c->arch_pos);
	if (!strcmp(a->text, "x86"))
		c->arch = CFG_ARCH_X86;
	else if (!strcmp(a->text, "arm64"))
		c->arch = CFG_ARCH_ARM64;
	else
		return cfg_err(p->err, &a->pos, "arch: expected 'x86' or "
			       "'arm64', got '%s'", a->text);
	c->arch_pos = kw->pos;
	return 0;
}

static int st_unsupported(struct parser *p, const struct token *kw)
{
	return cfg_err(p->err, &kw->pos, "'%s' is not supported yet", kw->text);
}

static const struct {
	const char *name;
	stmt_fn fn;
} top_stmts[] = {
	{ "system", st_system }, { "ram", st_ram }, { "rom", st_rom },
	{ "reserve", st_reserve }, { "cpu", st_cpu }, { "load", st_load },
	{ "cmdline", st_cmdline }, { "vdev", st_vdev }, { "pass", st_pass },
	{ "reboot", st_reboot }, { "triplefault", st_triplefault },
	{ "arch", st_arch },
	{ "api", st_api }, { "memory", st_memory }, { "cpuid", st_cpuid },
	{ "firmware", st_firmware },
	{ "guest", st_blob }, { "initrd", st_blob }, { "data", st_blob },
	{ "acpi", st_blob }, { "fdt", st_blob },
	{ "multiboot-module", st_unsupported }, { "logger", st_logger },
	{ "debug", st_unsupported }, { "set", st_unsupported },
	{ "unsupported", st_unsupported }, { "dump", st_unsupported },
	{ "safety", st_unsupported },
};

#define IN_VDEV    (1u << CTX_VDEV)
#define IN_RESERVE (1u << CTX_RESERVE)
#define IN_CPU     (1u << CTX_CPU)
#define IN_PASS    (1u << CTX_PASS)

/* Context options, for "only valid after" messages. */
static const struct {
	const char *name;
	unsigned ctxs;
	const char *where;
} ctx_opts[] = {
	{ "loc", IN_VDEV | IN_RESERVE | IN_PASS, "vdev, pass or reserve" },
	{ "intr", IN_VDEV | IN_RESERVE, "vdev, pass or reserve" },
	{ "guest-loc", IN_PASS, "pass" }, { "rombar", IN_PASS, "pass" },
	{ "romfile", IN_PASS, "pass" }, { "mmap", IN_PASS, "pass" },
	{ "name", IN_VDEV, "vdev" }, { "hostdev", IN_VDEV, "vdev" },
	{ "hostvector", IN_VDEV, "vdev" }, { "log", IN_VDEV, "vdev" },
	{ "legacy", IN_VDEV, "vdev" },
	{ "sched", IN_CPU, "cpu" }, { "runmask", IN_CPU, "cpu" },
	{ "cluster", IN_CPU, "cpu" }, { "partition", IN_CPU, "cpu" },
};

bool is_statement(const char *word)
{
	for (unsigned i = 0; i < ARRAY_SIZE(top_stmts); i++)
		if (!strcmp(top_stmts[i].name, word))
			return true;
	return false;
}

/* The words valid where t is: the context's options, then statements. */
static const char *did_you_mean(struct parser *p, const struct token *t)
{
	const char *words[ARRAY_SIZE(top_stmts) + ARRAY_SIZE(ctx_opts) +
			  CFG_SUGGEST_MAX_DEVOPTS];
	size_t n = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(ctx_opts); i++)
		if (ctx_opts[i].ctxs & (1u << p->ctx))
			words[n++] = ctx_opts[i].name;
	if (p->ctx == CTX_VDEV)
		n += vdev_option_words(p->vdev, words + n,
				       CFG_SUGGEST_MAX_DEVOPTS);
	for (unsigned i = 0; i < ARRAY_SIZE(top_stmts); i++)
		if (top_stmts[i].fn != st_unsupported)
			words[n++] = top_stmts[i].name;
	return suggest_word(t->text, words, n);
}

static int unknown_option(struct parser *p, const struct token *t)
{
	const char *s = did_you_mean(p, t);
	char hint[CFG_NAME_MAX + 40] = "";

	/* `cvisor check examples/hello.qvmconf`: a file, without its `@`. */
	if (p->ctx == CTX_TOP && strchr(t->text, '.') &&
	    !access(t->text, R_OK))
		return cfg_err(p->err, &t->pos, "unknown option '%s'; to "
			       "include the file, write '@%s'", t->text,
			       t->text);
	if (s)
		snprintf(hint, sizeof(hint), "; did you mean '%s'?", s);
	switch (p->ctx) {
	case CTX_VDEV:
		if (!s)
			snprintf(hint, sizeof(hint), " (see cvisor help vdev "
				 "%s)", p->vdev->type->name);
		return cfg_err(p->err, &t->pos, "unknown option '%s' for vdev "
			       "%s%s", t->text, p->vdev->type->name, hint);
	case CTX_CPU:
		return cfg_err(p->err, &t->pos, "unknown option '%s' for cpu%s",
			       t->text, s ? hint : "; expected sched or runmask");
	case CTX_RESERVE:
		return cfg_err(p->err, &t->pos, "unknown option '%s' for "
			       "reserve%s", t->text,
			       s ? hint : "; expected loc or intr");
	case CTX_PASS:
		return cfg_err(p->err, &t->pos, "unknown option '%s' for "
			       "pass%s", t->text, s ? hint : "; expected loc, "
			       "guest-loc, rombar, romfile or mmap");
	default:
		return cfg_err(p->err, &t->pos, "unknown option '%s'%s", t->text,
			       s ? hint : "; expected one of system, ram, rom, "
			       "reserve, cpu, load, cmdline, vdev, pass, reboot, "
			       "triplefault");
	}
}

/* Options the current context has none of, or the top level. */
static int parse_other(struct parser *p, const struct token *t)
{
	for (unsigned i = 0; i < ARRAY_SIZE(top_stmts); i++)
		if (!strcmp(top_stmts[i].name, t->text))
			return top_stmts[i].fn(p, t);
	for (unsigned i = 0; i < ARRAY_SIZE(ctx_opts); i++) {
		if (strcmp(ctx_opts[i].name, t->text))
			continue;
		if (ctx_opts[i].ctxs & (1u << p->ctx))
			break;
		return cfg_err(p->err, &t->pos, "'%s' is only valid after %s",
			       t->text, ctx_opts[i].where);
	}
	return unknown_option(p, t);
}

static int parse_one(struct parser *p, const struct token *t)
{
	int rc = 0;

	if (p->ctx == CTX_VDEV)
		rc = parse_vdev_option(p, t);
	else if (p->ctx == CTX_CPU)
		rc = parse_cpu_option(p, t);
	else if (p->ctx == CTX_RESERVE)
		rc = parse_reserve_option(p, t);
	else if (p->ctx == CTX_PASS)
		rc = parse_pass_option(p, t);
	if (rc)
		return rc < 0 ? -1 : 0;
	return parse_other(p, t);
}

int parse_config(struct parser *p)
{
	while (p->i < p->nr_toks) {
		const struct token *t = &p->toks[p->i++];

		if (parse_one(p, t))
			return -1;
	}
	return 0;
}
