/* A shell command beside the VM, for `hostdev >"|cmd"` (child.c). */
#ifndef CVISOR_BACKENDS_CHILD_H
#define CVISOR_BACKENDS_CHILD_H

#include <sys/types.h>

/* Run `/bin/sh -c cmd` with fd as its fd `target` (0 or 1), no other fd of
 * ours, a minimal environment, default signals, killed when we die.
 * Returns the pid or -errno. */
pid_t child_spawn(const char *cmd, int fd, int target);
/* Give it grace_ms to exit (its input was closed), then SIGTERM, then
 * SIGKILL, each after as long again; always reaped unless unkillable. */
void child_reap(pid_t pid, int grace_ms);

#endif
