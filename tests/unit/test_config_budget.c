/* Config budgets: what includes may expand to is bounded (CFG_TOKENS_MAX,
 * CFG_INCLUDES_MAX, CFG_INPUT_MAX in src/config/cfg_internal.h), so an
 * include bomb is a `configuration too large` error at the include that
 * crosses the budget, not an out-of-memory abort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "config/config.h"

static char dir[64];
static char name[128];          /* dir/t.qvmconf: relative paths use dir */
static struct vm_config cfg;
static struct cfg_error err;

static void write_file(const char *file, const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

/* A file of `n` lines, each `line`. */
static void write_lines(const char *file, const char *line, unsigned n)
{
	size_t l = strlen(line), len = l * n;
	char *text = malloc(len + 1);

	assert_non_null(text);
	for (unsigned i = 0; i < n; i++)
		memcpy(text + i * l, line, l);
	write_file(file, text, len);
	free(text);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/cvisor-budget-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(name, sizeof(name), "%s/t.qvmconf", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Expect failure at FILE (relative to dir, NULL = the string itself)
 * LINE:COL with message `want`. */
static void bad_at(const char *text, const char *file, unsigned line,
		   unsigned col, const char *want)
{
	char path[256];

	if (!config_from_string(&cfg, name, text, &err)) {
		config_free(&cfg);
		fail_msg("accepted, expected: %s", want);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file ? file : "t.qvmconf");
	assert_string_equal(err.pos.file, path);
	assert_string_equal(err.msg, want);
	assert_int_equal(err.pos.line, line);
	assert_int_equal(err.pos.col, col);
}

/* The case: a includes b 1000 times, b includes c 1000 times.
 * Includes counted: a is 1; each line of a costs 1 + 1000. After four
 * lines of a (4005 includes) the fifth reads b (4006) and 90 c's; the
 * 91st c, on line 91 of b, is the include that crosses 4096. */
/* read(2) calls of this process so far (/proc/self/io's syscr), or -1
 * where the kernel does not count them. */
static long reads_so_far(void)
{
	return unit_proc_io("syscr");
}

static void test_include_bomb(void **state)
{
	long r0, r1;

	write_lines("a.inc", "@b.inc\n", 1000);
	write_lines("b.inc", "@c.inc\n", 1000);
	write_file("c.inc", "reserve intr 5\n", 15);
	r0 = reads_so_far();
	bad_at("ram 1m\n@a.inc\n", "b.inc", 91, 1,
	       "configuration too large: more than 4096 includes");
	r1 = reads_so_far();
	/* It stops early: 4096 small files read, not a million. Counted in
	 * read(2) calls, not in time (a loaded machine's clock says nothing
	 * about the work): read_file() reads a file in one call (a short
	 * read: one more), so 4096 files make 4096 and a few; going on past
	 * the budget would be a million and more. The lower bound says the
	 * count sees the reads at all. */
	if (r0 < 0 || r1 < 0) {
		print_message("SKIP: no /proc/self/io read count on this kernel: "
			      "the error's place was checked, the amount of "
			      "work read was not\n");
		skip();
	}
	assert_true(r1 - r0 >= 4096);          /* the count is live here */
	assert_true(r1 - r0 < 8 * 4096);
}

/* Tokens in the top-level text: the error is at the token past the
 * budget (262145th, two characters each). */
static void test_tokens_top_level(void **state)
{
	unsigned n = (256u << 10) + 10;
	char *text = malloc(2 * n + 1);

	assert_non_null(text);
	for (unsigned i = 0; i < n; i++)
		memcpy(text + 2 * i, "x ", 2);
	text[2 * n] = '\0';
	bad_at(text, NULL, 1, 2 * (256u << 10) + 1,
	       "configuration too large: more than 262144 tokens");
	free(text);
}

/* Tokens from an include: the error names the include (line 2, col 3),
 * not a position inside the big file. */
static void test_tokens_in_include(void **state)
{
	write_lines("many.inc", "x\n", (256u << 10) + 1);
	bad_at("ram 1m\n  @many.inc\n", NULL, 2, 3,
	       "configuration too large: more than 262144 tokens");
	/* one level deeper: the innermost include is the one named */
	write_file("mid.inc", "\n\n@many.inc\n", 11);
	bad_at("@mid.inc\n", "mid.inc", 3, 1,
	       "configuration too large: more than 262144 tokens");
	/* the budget is not one token short */
	write_lines("many.inc", "x\n", 256u << 10);
	bad_at("@many.inc\n", "many.inc", 1, 1, "unknown option 'x'; expected "
	       "one of system, ram, rom, reserve, cpu, load, cmdline, vdev, "
	       "pass, reboot, triplefault");
}

/* Bytes: a 1 MiB file of comments (no tokens) read again and again. The
 * 448-byte text itself counts: 63 reads fit in 64 MiB, the 64th does not. */
static void test_input_bytes(void **state)
{
	char text[64 * 7 + 1] = "";

	write_lines("c.inc", "# a comment line of 32 bytes...\n",
		    (1u << 20) / 32);
	for (int i = 0; i < 64; i++)
		strcat(text, "@c.inc ");
	bad_at(text, NULL, 1, 63 * 7 + 1,
	       "configuration too large: more than 64 MiB read");
}

/* A config that stays under every budget is not affected by them. */
static void test_under_budget(void **state)
{
	write_lines("few.inc", "# nothing\n", 10);
	write_lines("many-few.inc", "@few.inc\n", 4000);
	write_file("blob.dat", "blob\n", 5);
	if (config_from_string(&cfg, name, "@many-few.inc ram 1m load blob.dat",
			       &err))
		fail_msg("rejected: %u:%u: %s", err.pos.line, err.pos.col,
			 err.msg);
	assert_int_equal(cfg.nr_ram, 1);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_include_bomb),
		cmocka_unit_test(test_tokens_top_level),
		cmocka_unit_test(test_tokens_in_include),
		cmocka_unit_test(test_input_bytes),
		cmocka_unit_test(test_under_budget),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
