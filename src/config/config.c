/* Entry points of the config layer: argv or a string → tokens (lexer.c) →
 * vm_config (parser.c, vdev.c) → checks (validate.c, conflicts.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "devices/registry.h"
#include "core/util.h"

int cfg_err(struct cfg_error *err, const struct cfg_pos *pos,
	    const char *fmt, ...)
{
	va_list ap;

	err->pos = *pos;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *pos_str(const struct cfg_pos *pos, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%u:%u", pos->file ? pos->file : "?",
		 pos->line, pos->col);
	return buf;
}

void cfg_error_print(const struct cfg_error *err)
{
	if (!err->file[0]) {      /* about the VM, not one place */
		fprintf(stderr, "cvisor: error: %s\n", err->msg);
		return;
	}
	fprintf(stderr, "%s:%u:%u: %s\n", err->file, err->pos.line,
		err->pos.col, err->msg);
}

const struct cfg_devopt *vdev_opt(const struct vdev_config *vc,
				  const char *key)
{
	for (unsigned i = 0; i < vc->nr_opts; i++)
		if (!strcmp(vc->opts[i].key, key))
			return &vc->opts[i];
	return NULL;
}

bool vm_config_has_pci(const struct vm_config *cfg)
{
	if (cfg->nr_pass)
		return true;
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (cfg->vdevs[i].on_pci)
			return true;
	return false;
}

/* Not a memset of the whole struct: a config from calloc has most of its
 * ~200 KiB never touched, and zeroing it here would make it resident. */
void config_free(struct vm_config *cfg)
{
	arena_free(cfg->arena);
	cfg->arena = NULL;
}

enum cfg_arch config_default_arch = CFG_ARCH_HOST;

static void config_init(struct vm_config *cfg, struct cfg_error *err,
			bool zeroed)
{
	if (!zeroed)
		memset(cfg, 0, sizeof(*cfg));
	memset(err, 0, sizeof(*err));
	cfg->arena = arena_new();
	cfg->reboot = REBOOT_RESET;
	cfg->triplefault = REBOOT_EXIT;
	strcpy(cfg->ioapic_name, "ioapic");
	cfg->arch = config_default_arch;
}

/* The arena dies with a failed config, so the error takes its own copy of
 * the file name. */
static int config_fail(struct vm_config *cfg, struct cfg_error *err)
{
	snprintf(err->file, sizeof(err->file), "%s",
		 err->pos.file ? err->pos.file : "?");
	err->pos.file = err->file;
	config_free(cfg);
	return -1;
}

/* Each hostdev learns whose it is: "vdev NAME", or "vdev TYPE" (with its
 * index when there are several), for the backends' messages. */
static void label_hostdevs(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		struct vdev_config *vc = &cfg->vdevs[i];
		const char *label;

		if (!vc->nr_hostdevs)
			continue;
		if (vc->name[0])
			label = arena_printf(cfg->arena, "vdev %s", vc->name);
		else if (vc->index)
			label = arena_printf(cfg->arena, "vdev %s#%u",
					     vc->type->name, vc->index);
		else
			label = arena_printf(cfg->arena, "vdev %s",
					     vc->type->name);
		for (unsigned h = 0; h < vc->nr_hostdevs; h++)
			vc->hostdevs[h].owner = label;
	}
}

static int config_finish(struct vm_config *cfg, struct lexer *lx,
			 struct cfg_error *err)
{
	struct parser p = {
		.cfg = cfg, .arena = cfg->arena, .err = err,
		.toks = lx->toks, .nr_toks = lx->nr_toks,
	};
	int ret;

	p.start = lx->nr_toks ? lx->toks[0].pos : lx->start;
	ret = parse_config(&p);
	if (!ret)
		ret = validate_config(cfg, &p.start, err);
	if (!ret)
		label_hostdevs(cfg);
	lexer_release(lx);
	if (ret)
		return config_fail(cfg, err);
	snprintf(err->file, sizeof(err->file), "%s", "");
	return 0;
}

static int from_args(struct vm_config *cfg, int argc, char **argv,
		     struct cfg_error *err, bool zeroed)
{
	struct lexer lx;

	config_init(cfg, err, zeroed);
	memset(&lx, 0, sizeof(lx));
	lx.arena = cfg->arena;
	lx.err = err;
	if (lex_args(&lx, argc, argv)) {
		lexer_release(&lx);
		return config_fail(cfg, err);
	}
	return config_finish(cfg, &lx, err);
}

int config_from_args(struct vm_config *cfg, int argc, char **argv,
		     struct cfg_error *err)
{
	return from_args(cfg, argc, argv, err, false);
}

struct vm_config *config_new_from_args(int argc, char **argv,
				       struct cfg_error *err)
{
	struct vm_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg) {
		memset(err, 0, sizeof(*err));
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return NULL;
	}
	if (from_args(cfg, argc, argv, err, true) < 0) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

void config_destroy(struct vm_config *cfg)
{
	if (cfg)
		config_free(cfg);
	free(cfg);
}

int config_from_string(struct vm_config *cfg, const char *name,
		       const char *text, struct cfg_error *err)
{
	struct lexer lx;

	config_init(cfg, err, false);
	memset(&lx, 0, sizeof(lx));
	lx.arena = cfg->arena;
	lx.err = err;
	if (lex_buffer(&lx, name, text, strlen(text))) {
		lexer_release(&lx);
		return config_fail(cfg, err);
	}
	return config_finish(cfg, &lx, err);
}
