/* The filters compiled when cvisor was built (tools/seccomp_gen.c) are
 * the ones a start would compile: for every thread kind, the same BPF as
 * sandbox_build_filter() makes now for `--seccomp on` without a jail's
 * ids. A list changed without the table being rebuilt, or a build that
 * runs with another libseccomp than it was made with, shows here. */
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "sandbox/sandbox_priv.h"

static void test_same_as_built_now(void **state)
{
	(void)state;
	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		struct sock_fprog now, pre;

		assert_true(sandbox_prebuilt_filter((enum sandbox_kind)k, &pre));
		assert_int_equal(sandbox_build_filter((enum sandbox_kind)k,
						      SANDBOX_ON, NULL, &now), 0);
		assert_int_equal(pre.len, now.len);
		assert_memory_equal(pre.filter, now.filter,
				    now.len * sizeof(now.filter[0]));
		free(now.filter);
	}
}

/* Only that case: a jail's ids or `log` are compiled at start. */
static void test_none_beyond_the_kinds(void **state)
{
	struct sock_fprog p;

	(void)state;
	assert_false(sandbox_prebuilt_filter(SANDBOX_NR_KINDS, &p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_built_now),
		cmocka_unit_test(test_none_beyond_the_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
