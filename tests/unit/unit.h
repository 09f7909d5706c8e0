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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The limit unit_cap_fds() lowered, for unit_uncap_fds(), which a
 * fixture's teardown calls too: a failed assertion in between would
 * otherwise leave the later tests of the binary without descriptors. */
static struct rlimit unit_fds_old __attribute__((unused));
static bool unit_fds_capped __attribute__((unused));

/* From here until unit_uncap_fds(), no new descriptor can be made
 * (EMFILE): the soft limit is set to the lowest free number. */
static inline void unit_cap_fds(void)
{
	struct rlimit now;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &unit_fds_old), 0);
	now = (struct rlimit){ .rlim_cur = (rlim_t)fd,
			       .rlim_max = unit_fds_old.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &now), 0);
	unit_fds_capped = true;
}

static inline void unit_uncap_fds(void)
{
	if (!unit_fds_capped)
		return;
	unit_fds_capped = false;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &unit_fds_old), 0);
}

/* A counter of this process from /proc/self/io ("syscr" for read(2)
 * calls, "syscw" for write(2)), or -1 where the kernel keeps none. */
static inline long unit_proc_io(const char *key)
{
	char line[64], fmt[32];
	long n = -1;
	FILE *f = fopen("/proc/self/io", "r");

	snprintf(fmt, sizeof(fmt), "%s: %%ld", key);
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* A new directory made from tmpl (a path ending in XXXXXX, copied into
 * dir) with one file in it, blob: a loadable image of one byte, which
 * a config needs. 0, or -1 (a setup's failure). */
static inline int unit_blob_dir(char *dir, size_t dir_len, const char *tmpl,
				char *blob, size_t blob_len)
{
	FILE *f;

	snprintf(dir, dir_len, "%s", tmpl);
	if (!mkdtemp(dir))
		return -1;
	snprintf(blob, blob_len, "%s/g.bin", dir);
	f = fopen(blob, "w");
	if (!f)
		return -1;
	fputs("x", f);
	fclose(f);
	return 0;
}

#endif
