/* The lexer turns argv and .qvmconf text into one flat token stream, with
 * `@file` includes expanded in place, so the parser never sees files.
 *
 * File rules: tokens are separated by whitespace (newlines included); `#`
 * outside quotes starts a comment to the end of the line; `"..."` quotes may
 * appear anywhere in a token and span lines, a backslash-newline inside them
 * is removed and `\"` is a literal quote. argv rules: every element is one
 * token as given; an element starting with `@` includes a file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "core/util.h"

struct scan {
	const char *text;
	size_t len, i;
	unsigned line, col;
	const char *file;      /* interned name for positions */
	const char *dir;       /* for relative includes and paths */
	char *buf;             /* the token being built */
	size_t buf_len, buf_cap;
};

static int include_file(struct lexer *lx, const char *path, const char *dir,
			const struct cfg_pos *at);

/* A budget is spent: the error is at the include whose expansion crossed
 * it (the innermost one being read), or at `pos` in the top-level input. */
static int too_large(struct lexer *lx, const struct cfg_pos *pos,
		     unsigned limit, const char *what)
{
	if (lx->depth && lx->has_inc[lx->depth - 1])
		pos = &lx->inc_at[lx->depth - 1];
	return cfg_err(lx->err, pos, "configuration too large: more than %u %s",
		       limit, what);
}

static int no_memory(struct lexer *lx, const struct cfg_pos *pos)
{
	return cfg_err(lx->err, pos, "out of memory");
}

static int push_token(struct lexer *lx, const char *text, bool quoted,
		      const char *dir, struct cfg_pos pos)
{
	if (lx->nr_toks >= CFG_TOKENS_MAX)
		return too_large(lx, &pos, CFG_TOKENS_MAX, "tokens");
	if (lx->nr_toks == lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 64;
		struct token *toks = reallocarray(lx->toks, cap, sizeof(*toks));

		if (!toks)
			return no_memory(lx, &pos);
		lx->toks = toks;
		lx->cap = cap;
	}
	pos.seq = (unsigned)lx->nr_toks + 1;
	lx->toks[lx->nr_toks++] = (struct token){
		.text = arena_strdup(lx->arena, text), .quoted = quoted,
		.dir = dir, .pos = pos,
	};
	return 0;
}

void lexer_release(struct lexer *lx)
{
	free(lx->toks);
	lx->toks = NULL;
	lx->nr_toks = lx->cap = 0;
}

/* "dir/path" unless path is absolute or dir is the cwd. */
static const char *join_path(struct arena *a, const char *dir,
			     const char *path)
{
	if (!dir || path[0] == '/' || !strcmp(dir, "."))
		return arena_strdup(a, path);
	return arena_printf(a, "%s/%s", dir, path);
}

static const char *dir_of(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return ".";
	if (slash == path)
		return "/";
	return arena_strndup(a, path, (size_t)(slash - path));
}

/* strerror() is capitalised; config messages are lower case. */
static const char *lc_strerror(int e, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* The token buffer is bounded by the file (CFG_FILE_MAX). */
static int scan_putc(struct lexer *lx, struct scan *s, char c)
{
	if (s->buf_len + 1 >= s->buf_cap) {
		size_t cap = s->buf_cap ? s->buf_cap * 2 : 256;
		char *buf = realloc(s->buf, cap);

		if (!buf) {
			struct cfg_pos at = { s->file, s->line, s->col, 0 };

			return no_memory(lx, &at);
		}
		s->buf = buf;
		s->buf_cap = cap;
	}
	s->buf[s->buf_len++] = c;
	s->buf[s->buf_len] = '\0';
	return 0;
}

static void advance(struct scan *s)
{
	if (s->text[s->i] == '\n') {
		s->line++;
		s->col = 1;
	} else {
		s->col++;
	}
	s->i++;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\v' || c == '\f';
}

/* Skip whitespace and comments; false at end of input. */
static bool skip_blank(struct scan *s)
{
	while (s->i < s->len) {
		char c = s->text[s->i];

		if (c == '#') {
			while (s->i < s->len && s->text[s->i] != '\n')
				advance(s);
		} else if (is_space(c)) {
			advance(s);
		} else {
			return true;
		}
	}
	return false;
}

static int scan_quoted(struct lexer *lx, struct scan *s)
{
	struct cfg_pos open = { s->file, s->line, s->col, 0 };

	advance(s);
	while (s->i < s->len) {
		char c = s->text[s->i];
		const char *rest = s->text + s->i + 1;
		size_t left = s->len - s->i - 1;

		if (c == '"') {
			advance(s);
			return 0;
		}
		if (c == '\0')
			break;
		if (c == '\\' && left >= 1 && rest[0] == '\n') {
			advance(s);
			advance(s);
			continue;
		}
		if (c == '\\' && left >= 2 && rest[0] == '\r' && rest[1] == '\n') {
			advance(s);
			advance(s);
			advance(s);
			continue;
		}
		if (c == '\\' && left >= 1 && rest[0] == '"') {
			advance(s);
			c = '"';
		}
		if (scan_putc(lx, s, c))
			return -1;
		advance(s);
	}
	if (s->i < s->len) {
		struct cfg_pos at = { s->file, s->line, s->col, 0 };

		return cfg_err(lx->err, &at, "unexpected nul byte");
	}
	return cfg_err(lx->err, &open, "unterminated string");
}

/* One token starting at s->i; *quoted tells whether any part was quoted. */
static int scan_token(struct lexer *lx, struct scan *s, bool *quoted)
{
	if (!s->buf && scan_putc(lx, s, '\0'))   /* "" is a valid token */
		return -1;
	s->buf_len = 0;
	s->buf[0] = '\0';
	*quoted = false;
	while (s->i < s->len) {
		char c = s->text[s->i];

		if (is_space(c) || c == '#')
			break;
		if (c == '\0') {
			struct cfg_pos at = { s->file, s->line, s->col, 0 };

			return cfg_err(lx->err, &at, "unexpected nul byte");
		}
		if (c == '"') {
			*quoted = true;
			if (scan_quoted(lx, s))
				return -1;
			continue;
		}
		if (scan_putc(lx, s, c))
			return -1;
		advance(s);
	}
	return 0;
}

static int lex_text(struct lexer *lx, const char *name, const char *dir,
		    const char *text, size_t len)
{
	struct scan s = {
		.text = text, .len = len, .line = 1, .col = 1,
		.file = arena_strdup(lx->arena, name), .dir = dir,
	};
	int ret = 0;

	if (!lx->has_start) {
		lx->start = (struct cfg_pos){ s.file, 1, 1, 0 };
		lx->has_start = true;
	}
	while (!ret && skip_blank(&s)) {
		struct cfg_pos pos = { s.file, s.line, s.col, 0 };
		bool quoted;

		ret = scan_token(lx, &s, &quoted);
		if (ret)
			break;
		if (!quoted && s.buf[0] == '@')
			ret = include_file(lx, s.buf + 1, dir, &pos);
		else
			ret = push_token(lx, s.buf, quoted, dir, pos);
	}
	free(s.buf);
	return ret;
}

static int include_body(struct lexer *lx, const char *path,
			const struct cfg_pos *at)
{
	char ebuf[128];
	size_t len;
	char *text, *real;
	int ret;

	text = read_file(path, CFG_FILE_MAX, &len);
	if (!text)
		return cfg_err(lx->err, at, "cannot read '%s': %s", path,
			       lc_strerror(errno, ebuf, sizeof(ebuf)));
	if (len > CFG_INPUT_MAX - lx->input_bytes) {
		free(text);
		return cfg_err(lx->err, at, "configuration too large: more "
			       "than %u MiB read", CFG_INPUT_MAX >> 20);
	}
	lx->input_bytes += len;
	real = realpath(path, NULL);
	for (unsigned i = 0; real && i < lx->depth; i++) {
		if (lx->stack[i] && !strcmp(lx->stack[i], real)) {
			free(real);
			free(text);
			return cfg_err(lx->err, at,
				       "include cycle: '%s' is already being read",
				       path);
		}
	}
	lx->inc_at[lx->depth] = *at;
	lx->has_inc[lx->depth] = true;
	lx->stack[lx->depth++] = real;
	ret = lex_text(lx, path, dir_of(lx->arena, path), text, len);
	lx->depth--;
	free(real);
	free(text);
	return ret;
}

static int include_file(struct lexer *lx, const char *path, const char *dir,
			const struct cfg_pos *at)
{
	if (!path[0])
		return cfg_err(lx->err, at, "expected a file name after '@'");
	if (lx->depth >= CFG_INCLUDE_DEPTH)
		return cfg_err(lx->err, at, "include depth limit of %d exceeded",
			       CFG_INCLUDE_DEPTH);
	if (lx->nr_includes >= CFG_INCLUDES_MAX)
		return cfg_err(lx->err, at, "configuration too large: more "
			       "than %u includes", CFG_INCLUDES_MAX);
	lx->nr_includes++;
	return include_body(lx, join_path(lx->arena, dir, path), at);
}

int lex_args(struct lexer *lx, int argc, char **argv)
{
	const char *file = arena_strdup(lx->arena, CFG_ARGV_FILE);

	lx->start = (struct cfg_pos){ file, 1, 1, 0 };
	for (int i = 0; i < argc; i++) {
		struct cfg_pos pos = { file, 1, (unsigned)i + 1, 0 };

		if (argv[i][0] == '@') {
			if (include_file(lx, argv[i] + 1, NULL, &pos))
				return -1;
		} else if (push_token(lx, argv[i], false, NULL, pos)) {
			return -1;
		}
	}
	/* An empty command line (or only empty files): input starts at argv. */
	lx->has_start = true;
	return 0;
}

/* A string named like a file: relative includes and paths resolve against
 * the name's directory, and the name takes part in cycle detection when it
 * names a real file. */
int lex_buffer(struct lexer *lx, const char *name, const char *text,
	       size_t len)
{
	char *real = realpath(name, NULL);
	int ret;

	if (len > CFG_INPUT_MAX) {
		struct cfg_pos at = { arena_strdup(lx->arena, name), 1, 1, 0 };

		free(real);
		return cfg_err(lx->err, &at, "configuration too large: more "
			       "than %u MiB read", CFG_INPUT_MAX >> 20);
	}
	lx->input_bytes = len;
	lx->has_inc[lx->depth] = false;
	lx->stack[lx->depth++] = real;
	ret = lex_text(lx, name, dir_of(lx->arena, name), text, len);
	lx->depth--;
	free(real);
	return ret;
}
