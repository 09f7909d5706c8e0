/* Options of the `cpu` and `reserve` contexts, and argument forms shared
 * with `vdev` (loc text, interrupt lists). */
#include <stdio.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/util.h"

const char *loc_text(struct parser *p, const struct token *kw,
		     const struct token **arg)
{
	const struct token *a = next_arg(p, kw, "a location");
	const struct token *b;

	*arg = a;
	if (!a)
		return NULL;
	if (strcmp(a->text, "io") && strcmp(a->text, "mem") &&
	    strcmp(a->text, "pci"))
		return a->text;
	b = next_arg(p, a, "a location");
	if (!b)
		return NULL;
	return arena_printf(p->arena, "%s:%s", a->text, b->text);
}

int parse_intr_list(struct parser *p, const struct token *arg,
		    bool allow_bare, struct cfg_intr *out, unsigned *nr,
		    unsigned max)
{
	const char *s = arg->text;

	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);

		if (*nr >= max)
			return cfg_err(p->err, &arg->pos, "too many interrupts "
				       "(max %u)", max);
		if (parse_intr_item(s, len, allow_bare, &out[*nr], &arg->pos,
				    p->err))
			return -1;
		(*nr)++;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

/* ---- cpu ---- */

static int cpu_twice(struct parser *p, const struct token *t)
{
	char buf[POS_STR_MAX];

	return cfg_err(p->err, &t->pos, "'%s' given twice for the cpu at %s",
		       t->text, pos_str(&p->cpu->pos, buf, sizeof(buf)));
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* `sched PRIO[r|f|o]`; QNX's sporadic form `hi,lo,max,period,budget s` is
 * recognised so it can be refused by name. */
static int cpu_sched(struct parser *p, const struct token *t)
{
	const struct token *a = next_arg(p, t, "a priority");
	const char *s;
	size_t n;
	uint64_t prio;
	char pol;

	if (!a)
		return -1;
	if (p->cpu->has_sched)
		return cpu_twice(p, t);
	s = a->text;
	n = strlen(s);
	if (strchr(s, ',') || (n && s[n - 1] == 's'))
		return cfg_err(p->err, &a->pos, "sporadic scheduling is not "
			       "supported yet");
	pol = n && strchr("rfo", s[n - 1]) ? s[n - 1] : 'r';
	if (n && strchr("rfo", s[n - 1]))
		n--;
	if (!all_digits(s, n) || parse_u64(s, n, &prio))
		return cfg_err(p->err, &a->pos, "invalid priority '%s'; "
			       "expected PRIO[r|f|o]", s);
	if (prio < 1 || prio > 99)
		return cfg_err(p->err, &a->pos, "priority %llu out of range "
			       "(1-99)", (unsigned long long)prio);
	p->cpu->has_sched = true;
	p->cpu->priority = (int)prio;
	p->cpu->policy = pol == 'f' ? SCHED_POL_FIFO :
			 pol == 'o' ? SCHED_POL_OTHER : SCHED_POL_RR;
	return 0;
}

static int cpu_runmask(struct parser *p, const struct token *t)
{
	const struct token *a = next_arg(p, t, "a cpu list");
	const char *s;

	if (!a)
		return -1;
	if (p->cpu->has_runmask)
		return cpu_twice(p, t);
	CPU_ZERO(&p->cpu->runmask);
	for (s = a->text;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		uint64_t n;

		if (parse_u64(s, len, &n))
			return cfg_err(p->err, &a->pos, "invalid cpu '%.*s' in "
				       "runmask", (int)len, s);
		if (n >= CPU_SETSIZE)
			return cfg_err(p->err, &a->pos, "cpu %llu in runmask out "
				       "of range (0-%d)", (unsigned long long)n,
				       CPU_SETSIZE - 1);
		CPU_SET(n, &p->cpu->runmask);
		if (!comma)
			break;
		s = comma + 1;
	}
	p->cpu->has_runmask = true;
	return 0;
}

int parse_cpu_option(struct parser *p, const struct token *t)
{
	if (!strcmp(t->text, "sched"))
		return cpu_sched(p, t) ? -1 : 1;
	if (!strcmp(t->text, "runmask"))
		return cpu_runmask(p, t) ? -1 : 1;
	if (!strcmp(t->text, "cluster") || !strcmp(t->text, "partition")) {
		cfg_err(p->err, &t->pos, "'%s' is not supported yet", t->text);
		return -1;
	}
	return 0;
}

/* ---- reserve ---- */

static struct reserve_config *new_reserve(struct parser *p,
					  const struct token *t)
{
	struct vm_config *cfg = p->cfg;

	if (cfg->nr_reserve >= CFG_MAX_RESERVE) {
		cfg_err(p->err, &t->pos, "too many reserve entries (max %d)",
			CFG_MAX_RESERVE);
		return NULL;
	}
	return &cfg->reserve[cfg->nr_reserve++];
}

static int reserve_loc(struct parser *p, const struct token *t)
{
	const struct token *a;
	const char *text = loc_text(p, t, &a);
	struct reserve_config *r;
	struct cfg_loc loc;

	if (!text || parse_loc(text, LOC_MEM, &loc, &a->pos, p->err))
		return -1;
	r = new_reserve(p, a);
	if (!r)
		return -1;
	*r = (struct reserve_config){ .kind = RESERVE_LOC, .loc = loc,
				      .pos = a->pos };
	return 0;
}

static int reserve_intr(struct parser *p, const struct token *t)
{
	const struct token *a = next_arg(p, t, "an interrupt");
	struct cfg_intr intrs[CFG_MAX_INTRS];
	unsigned nr = 0;

	if (!a || parse_intr_list(p, a, true, intrs, &nr, CFG_MAX_INTRS))
		return -1;
	for (unsigned i = 0; i < nr; i++) {
		struct reserve_config *r = new_reserve(p, a);

		if (!r)
			return -1;
		*r = (struct reserve_config){ .kind = RESERVE_INTR,
					      .intr = intrs[i], .pos = a->pos };
	}
	return 0;
}

int parse_reserve_option(struct parser *p, const struct token *t)
{
	if (!strcmp(t->text, "loc"))
		return reserve_loc(p, t) ? -1 : 1;
	if (!strcmp(t->text, "intr"))
		return reserve_intr(p, t) ? -1 : 1;
	return 0;
}
