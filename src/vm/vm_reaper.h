/* The VM's teardown off the exit's critical path (issue 12). */
#ifndef CVISOR_VM_VM_REAPER_H
#define CVISOR_VM_VM_REAPER_H

#include <stdbool.h>

/* Hand the KVM descriptors in KEEP (the VM's, its vCPUs', its device
 * fds) and the address space to a reaper process that outlives this one
 * and lets the kernel destroy the VM only once we have exited. True if
 * the reaper took them; false, and nothing changed, otherwise. Main
 * thread, once every other thread has stopped. */
bool vm_reaper_start(const int *keep, unsigned nr_keep);

#endif
