/* Private interfaces of the config layer: the arena that owns everything a
 * vm_config points to, the token stream the lexer builds (includes already
 * expanded), the parser state, and the number/location helpers.
 */
#ifndef CVISOR_CONFIG_CFG_INTERNAL_H
#define CVISOR_CONFIG_CFG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define CFG_INCLUDE_DEPTH 16
#define CFG_FILE_MAX      (16u << 20)     /* bigger files are not configs */
#define CFG_RAM_LIMIT     (1ULL << 40)    /* 1 TiB of guest RAM in total */
#define CFG_ARGV_FILE     "<command line>"

/* Budgets on what includes can expand to, so that a small file including
 * another many times (a billion-laughs config) ends in an error and not in
 * an out-of-memory death. Real configs are a few hundred tokens in a few
 * files; each limit is far above that (docs/config.md). Files are counted
 * each time they are read. */
#define CFG_TOKENS_MAX    (256u << 10)    /* tokens, includes expanded */
#define CFG_INCLUDES_MAX  4096u           /* `@file` includes read */
#define CFG_INPUT_MAX     (64u << 20)     /* bytes of all files read */

/* ---- arena: one owner for every string and file name in a config ---- */
struct arena;
struct arena *arena_new(void);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- errors ---- */
int cfg_err(struct cfg_error *err, const struct cfg_pos *pos,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "file:line:col" into buf, for messages that name a second position. */
const char *pos_str(const struct cfg_pos *pos, char *buf, size_t size);
#define POS_STR_MAX 320

/* ---- tokens ---- */
struct token {
	const char *text;      /* quotes removed, NUL-terminated */
	bool quoted;           /* some part was inside "..." */
	const char *dir;       /* directory for relative paths; NULL = cwd */
	struct cfg_pos pos;
};

struct lexer {
	struct arena *arena;
	struct cfg_error *err;
	struct token *toks;
	size_t nr_toks, cap;
	const char *stack[CFG_INCLUDE_DEPTH + 1]; /* realpaths being read */
	/* The `@file` that opened each level (has_inc false for the top
	 * level): where a budget error inside that file is reported. */
	struct cfg_pos inc_at[CFG_INCLUDE_DEPTH + 1];
	bool has_inc[CFG_INCLUDE_DEPTH + 1];
	unsigned depth;
	unsigned nr_includes;  /* budgets spent so far */
	size_t input_bytes;
	struct cfg_pos start;  /* where input begins, for "no ram" errors */
	bool has_start;
};

int lex_args(struct lexer *lx, int argc, char **argv);
int lex_buffer(struct lexer *lx, const char *name, const char *text,
	       size_t len);
void lexer_release(struct lexer *lx);

/* ---- numbers, locations, interrupts ---- */
/* Decimal or 0x hex with an optional K/M/G suffix (x1024^n). Returns 0,
 * -1 for a malformed number, -2 on overflow. */
int parse_u64(const char *s, size_t len, uint64_t *out);
/* Parse one `loc` argument. `bare` is the space a plain ADDR means. */
int parse_loc(const char *text, enum cfg_space bare, struct cfg_loc *loc,
	      const struct cfg_pos *pos, struct cfg_error *err);
/* One `NAME:LINE`, `apic`, or (allow_bare) a plain line of the ioapic. */
int parse_intr_item(const char *s, size_t len, bool allow_bare,
		    struct cfg_intr *intr, const struct cfg_pos *pos,
		    struct cfg_error *err);
const char *space_name(enum cfg_space s);

/* ---- parser ---- */
enum cfg_ctx { CTX_TOP, CTX_VDEV, CTX_RESERVE, CTX_CPU, CTX_PASS };

struct parser {
	struct vm_config *cfg;
	struct arena *arena;
	struct cfg_error *err;
	const struct token *toks;
	size_t nr_toks, i;
	enum cfg_ctx ctx;
	struct vdev_config *vdev;   /* current vdev context */
	struct cpu_config *cpu;     /* current cpu context */
	struct cfg_pos system_pos, reboot_pos, triplefault_pos, start;
	bool has_system;
};

/* The token after `opt`, or an "expected WHAT after 'opt'" error. */
const struct token *next_arg(struct parser *p, const struct token *opt,
			     const char *what);
int parse_config(struct parser *p);
int parse_vdev_start(struct parser *p, const struct token *kw);
/* 1: handled, 0: not a vdev option, -1: error */
int parse_vdev_option(struct parser *p, const struct token *t);
int parse_cpu_option(struct parser *p, const struct token *t);
int parse_reserve_option(struct parser *p, const struct token *t);
/* pass.c: `pass` and its options; the whole-config checks */
int parse_pass_start(struct parser *p, const struct token *kw);
int parse_pass_option(struct parser *p, const struct token *t);
int validate_passes(const struct vm_config *cfg, struct cfg_error *err);
/* The `loc` argument text; QNX 7.0's `loc io 0xcf,0x8` form takes the
 * following token too. NULL (error set) when missing. */
const char *loc_text(struct parser *p, const struct token *kw,
		     const struct token **arg);
int parse_intr_list(struct parser *p, const struct token *arg,
		    bool allow_bare, struct cfg_intr *out, unsigned *nr,
		    unsigned max);
int check_name(struct parser *p, const struct token *t, char *dst);
/* A top-level statement keyword (vdev, ram, ...). */
bool is_statement(const char *word);
/* "Did you mean": the option words of a vdev's type (common and its own),
 * at most max of them into words; returns how many. */
#define CFG_SUGGEST_MAX_DEVOPTS 32
size_t vdev_option_words(const struct vdev_config *vc, const char **words,
			 size_t max);

/* ---- validation (second pass) ---- */
int validate_config(struct vm_config *cfg, const struct cfg_pos *start,
		    struct cfg_error *err);
int check_conflicts(struct vm_config *cfg, struct cfg_error *err);
/* QNX `FILTERS DEST` of `logger` and vdev `log` (logger.c): the level
 * mask and whether DEST is slog. */
int parse_log_spec(struct parser *p, const struct token *kw,
		   unsigned *mask, bool *slog);
int st_logger(struct parser *p, const struct token *kw);
/* `cpuid ITEM{,ITEM}` (cpuid_stmt.c). */
int st_cpuid(struct parser *p, const struct token *kw);
/* `firmware seabios|PATH` (firmware_stmt.c). */
int st_firmware(struct parser *p, const struct token *kw);
/* A `firmware` config boots no kernel of cvisor's: no guest or initrd
 * load, no cmdline; x86 only. */
int validate_firmware(const struct vm_config *cfg, struct cfg_error *err);
/* `ram SIZE` regions placed, split around the device window below 4 GiB
 * (ram_split.c); needs on_pci resolved. */
int place_implicit_ram(struct vm_config *cfg, struct cfg_error *err);

#endif
