/* Common includes for cmocka unit tests. Each tests/unit/test_*.c is one
 * executable linked against build/libcvisor.a; tests/run.sh runs them all. */
#ifndef CVISOR_TESTS_UNIT_H
#define CVISOR_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/* From here until unit_uncap_fds(), no new descriptor can be made
 * (EMFILE): the soft limit is set to the lowest free number. */
static inline struct rlimit unit_cap_fds(void)
{
	struct rlimit old, now;
	int fd = fcntl(0, F_DUPFD, 0);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	now = (struct rlimit){ .rlim_cur = (rlim_t)fd, .rlim_max = old.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &now), 0);
	return old;
}

static inline void unit_uncap_fds(struct rlimit old)
{
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
}

#endif
