/* The boot images a guest reset loads again (kernel, initrd, firmware,
 * data blobs), kept by the process from the first build on.
 *
 * What is kept is the open file, not a copy of its bytes (issue 12: the
 * copy was most of cvisor's peak RSS beyond the bare KVM program's): a
 * build reads it into anonymous pages, the loader copies it into guest
 * memory, and vm_kept_files_unmap() drops those pages once the boot is
 * loaded, so no copy stays resident beside the guest's. Read, not mapped:
 * a mapped file cut short meanwhile (cp over it) would kill us with
 * SIGBUS in the loader; a short read is an error instead. A reset reads
 * the same descriptor again: that needs no path (it works in the jail's
 * chroot, after dropping privileges), and a file replaced on disk
 * meanwhile (a rebuild writes a new file) still loads as it was. A file
 * written in place since loads as it is now, with a warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/persist.h"
#include "core/util.h"
#include "vm/vm.h"

struct kept_file {
	int fd;
	struct stat st;         /* at the first build */
	void *map;              /* its bytes while a VM is being built */
	size_t len;
	bool warned;
};

static void free_kept_file(void *obj)
{
	struct kept_file *k = obj;

	if (k->map && k->len)
		munmap(k->map, k->len);
	close(k->fd);
	free(k);
}

static struct kept_file *open_kept(const struct load_config *l, size_t max)
{
	struct kept_file *k = xcalloc(1, sizeof(*k));
	int e;

	/* O_NONBLOCK: a FIFO with no writer would hang the open (and with it
	 * the start, which even SIGTERM does not end); it is refused below,
	 * as anything but a regular file is, with read_file()'s EINVAL, so
	 * that a run says what `cvisor check` says. A regular file ignores
	 * the flag; O_NOCTTY keeps a terminal named here from becoming ours. */
	k->fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (k->fd < 0)
		goto fail;
	if (fstat(k->fd, &k->st) < 0)
		goto fail;
	errno = !S_ISREG(k->st.st_mode) ? EINVAL :
		(uint64_t)k->st.st_size > max ? EFBIG : 0;
	if (!errno)
		return k;
fail:
	e = errno;
	if (k->fd >= 0)
		close(k->fd);
	free(k);
	errno = e;
	return NULL;
}

/* Written to (not ctime: unlinking a replaced file changes that too) */
static bool changed(const struct stat *a, const struct stat *b)
{
	return a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	       a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

/* The whole file into fresh anonymous pages (whose length is k->len). */
static void *read_all(struct kept_file *k)
{
	uint8_t *buf = mmap(NULL, k->len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t done = 0;
	ssize_t n;

	if (buf == MAP_FAILED)
		return NULL;
	while (done < k->len) {
		n = pread(k->fd, buf + done, k->len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)         /* cut short since the fstat */
				errno = EIO;
			munmap(buf, k->len);
			return NULL;
		}
		done += (size_t)n;
	}
	return buf;
}

/* The file's bytes, read for this build. */
static void *map_kept(struct kept_file *k, const struct load_config *l,
		      size_t max)
{
	static char empty[1];
	struct stat st;

	if (fstat(k->fd, &st) < 0)
		return NULL;
	if (changed(&st, &k->st) && !k->warned) {
		pr_warn("%s changed on disk since the VM was first built; "
			"the reset loads it as it is now", l->path);
		k->warned = true;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		return NULL;
	}
	k->len = (size_t)st.st_size;
	if (!k->len)
		return k->map = empty;
	k->map = read_all(k);
	return k->map;
}

const void *vm_kept_file(void *ctx, const struct load_config *l,
			 size_t max, size_t *len)
{
	struct persist *p = ctx;
	struct kept_file *k = persist_get(p, l, PERSIST_FILE);

	if (!k) {
		k = open_kept(l, max);
		if (!k)
			return NULL;
		if (persist_put(p, l, PERSIST_FILE, k, free_kept_file)) {
			free_kept_file(k);
			errno = ENOSPC;
			return NULL;
		}
	}
	if (!k->map && !map_kept(k, l, max))
		return NULL;
	*len = k->len;
	return k->map;
}

static void unmap_kept(struct persist *p, const struct load_config *l)
{
	struct kept_file *k = persist_get(p, l, PERSIST_FILE);

	if (!k || !k->map)
		return;
	if (k->len)
		munmap(k->map, k->len);
	k->map = NULL;
}

void vm_kept_files_unmap(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	if (!vm->env.persist)
		return;
	for (unsigned i = 0; i < cfg->nr_loads && i < CFG_MAX_LOADS; i++)
		unmap_kept(vm->env.persist, &cfg->loads[i]);
	unmap_kept(vm->env.persist, &cfg->firmware);
}
