/* What outlives a guest reset (persist.c). A reset rebuilds the VM, but
 * not the host side the user set up: a `>FILE` log is not reopened (and
 * truncated), a `|cmd` not respawned, buffered console bytes not lost,
 * CMOS NVRAM and the time the guest set not forgotten. Devices find such
 * objects here by their vdev (its config entry, which lives as long) and
 * a kind, and leave them here when they are freed.
 */
#ifndef CVISOR_CORE_PERSIST_H
#define CVISOR_CORE_PERSIST_H

enum persist_kind {
	PERSIST_CHARDEV,
	PERSIST_RTC,
	PERSIST_KVM_FD,
	PERSIST_BLOCK,
	PERSIST_FILE,
	PERSIST_NET,            /* a tap's fds (backends/net_tap.c) */
};

struct persist;

struct persist *persist_new(void);
/* Frees every object with its free function, newest first. */
void persist_free(struct persist *p);
/* The object kept for (owner, kind), or NULL. */
void *persist_get(struct persist *p, const void *owner,
		  enum persist_kind kind);
/* Keep obj for (owner, kind) until persist_free(). 0 or -ENOSPC. */
int persist_put(struct persist *p, const void *owner, enum persist_kind kind,
		void *obj, void (*free_fn)(void *obj));

#endif
