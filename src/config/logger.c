/* QNX's logging statements: `logger FILTERS DEST` for the whole VM and the
 * vdev option `log FILTERS DEST` for one device. FILTERS is a comma list
 * of QNX's levels, each shown: fatal, internal and error are cvisor's
 * errors, warning its warnings, info its info, debug and verbose its
 * debug messages; DEST is `stderr` or `slog` (QNX's system logger; on
 * Linux the system log, /dev/log). A level not listed is not shown (QNX
 * filters select, they are not a threshold). -v, -q and --log on the
 * command line win over `logger`. A device's `log` applies to the
 * messages that start with its type (or `name`), in the one destination
 * of the process.
 */
#include <errno.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/log.h"
#include "devices/registry.h"

static const struct {
	const char *name;
	enum log_level lvl;
} filters[] = {
	{ "fatal", LOG_ERR }, { "internal", LOG_ERR }, { "error", LOG_ERR },
	{ "warning", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	{ "verbose", LOG_DEBUG },
};

static int parse_filters(struct parser *p, const struct token *a,
			 unsigned *mask)
{
	const char *s = a->text;

	*mask = 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		unsigned i;

		for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
			if (strlen(filters[i].name) == len &&
			    !strncmp(filters[i].name, s, len))
				break;
		if (i == sizeof(filters) / sizeof(filters[0]))
			return cfg_err(p->err, &a->pos, "unknown log filter "
				       "'%.*s'; expected fatal, internal, error, "
				       "warning, info, debug or verbose",
				       (int)len, s);
		*mask |= 1u << filters[i].lvl;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

int parse_log_spec(struct parser *p, const struct token *kw, unsigned *mask,
		   bool *slog)
{
	const struct token *f = next_arg(p, kw, "log filters (error,warning...)");
	const struct token *d;

	if (!f || parse_filters(p, f, mask))
		return -1;
	d = next_arg(p, kw, "a log destination (stderr or slog)");
	if (!d)
		return -1;
	if (!strcmp(d->text, "slog") || !strcmp(d->text, "stderr")) {
		*slog = !strcmp(d->text, "slog");
		return 0;
	}
	return cfg_err(p->err, &d->pos, "unknown log destination '%s'; "
		       "expected stderr or slog", d->text);
}

int st_logger(struct parser *p, const struct token *kw)
{
	struct vm_config *cfg = p->cfg;
	char buf[POS_STR_MAX];

	if (cfg->has_logger)
		return cfg_err(p->err, &kw->pos, "'logger' given twice (first "
			       "at %s)", pos_str(&cfg->logger_pos, buf,
						  sizeof(buf)));
	cfg->has_logger = true;
	cfg->logger_pos = kw->pos;
	return parse_log_spec(p, kw, &cfg->logger_mask, &cfg->logger_slog);
}

void config_apply_logging(const struct vm_config *cfg)
{
	if (cfg->has_logger) {
		log_set_mask(cfg->logger_mask, false);
		if (cfg->logger_slog && log_open_syslog())
			pr_warn("logger slog: the system log: %s; messages "
				"stay on stderr", strerror(errno));
	}
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];

		if (!vc->has_log)
			continue;
		if (log_set_source_mask(vc->type->name, vc->log_mask) ||
		    (vc->name[0] && log_set_source_mask(vc->name,
							 vc->log_mask)))
			pr_warn("vdev %s: log: too many devices with their "
				"own log levels (max %d)", vc->type->name,
				LOG_MAX_SOURCES);
	}
}
