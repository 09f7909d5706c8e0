/* Shared by the block backend tests: an image file of a given size and a
 * backend on it with the engine asked for (CVISOR_BLOCK_ENGINE), or NULL
 * where that engine cannot run here (no io_uring: seccomp, sysctl). */
#ifndef CVISOR_TESTS_BLOCK_H
#define CVISOR_TESTS_BLOCK_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "backends/block_priv.h"

struct blk_fix {
	char path[64];
	struct blk_backend *b;
};

static inline struct blk_fix *blk_fix_new(const char *engine, off_t size)
{
	struct blk_fix *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/cvisor-blk-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
	setenv("CVISOR_BLOCK_ENGINE", engine, 1);
	f->b = blk_backend_open(f->path, false, false, 1, NULL);
	if (f->b)
		assert_string_equal(blk_backend_info(f->b)->engine, engine);
	else
		assert_string_equal(engine, "uring");
	return f;
}

static inline void blk_fix_free(struct blk_fix *f)
{
	blk_backend_close(f->b);
	unlink(f->path);
	free(f);
	unsetenv("CVISOR_BLOCK_ENGINE");
}

#endif
