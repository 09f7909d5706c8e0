/* Helpers shared by the libFuzzer harnesses: a private temporary
 * directory for the files a target reads (disk images, include files,
 * guest images), a little-endian input reader, and quiet logging (a
 * fuzzer that formats a warning per input spends its time on stderr). */
#ifndef CVISOR_TESTS_FUZZ_COMMON_H
#define CVISOR_TESTS_FUZZ_COMMON_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The target's directory, /tmp/cvisor-fuzz-NAME-XXXXXX, made once and
 * removed at exit. */
static char fz_dir[64];

static inline void fz_rmdir(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fz_dir);
	if (system(cmd))
		fprintf(stderr, "fuzz: could not remove %s\n", fz_dir);
}

static inline void fz_mkdir(const char *name)
{
	snprintf(fz_dir, sizeof(fz_dir), "/tmp/cvisor-fuzz-%s-XXXXXX", name);
	if (!mkdtemp(fz_dir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fz_rmdir);
	log_threshold = LOG_ERR;
}

/* dir/name, in a static buffer of the caller's. */
static inline const char *fz_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", fz_dir, name);
	return buf;
}

/* Replace dir/name with len bytes of data. */
static inline void fz_write(const char *name, const void *data, size_t len)
{
	char path[128];
	int fd = open(fz_path(path, sizeof(path), name),
		      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len)) {
		perror("fuzz: write");
		abort();
	}
	close(fd);
}

/* Consume the input front to back; past the end everything reads 0. */
struct fz_in {
	const uint8_t *p;
	size_t left;
};

static inline uint64_t fz_take(struct fz_in *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->left; i++, in->p++, in->left--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static inline uint8_t fz_u8(struct fz_in *in) { return (uint8_t)fz_take(in, 1); }
static inline uint16_t fz_u16(struct fz_in *in) { return (uint16_t)fz_take(in, 2); }
static inline uint32_t fz_u32(struct fz_in *in) { return (uint32_t)fz_take(in, 4); }
static inline uint64_t fz_u64(struct fz_in *in) { return fz_take(in, 8); }

#endif
