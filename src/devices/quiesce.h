/* Devices that hold with the VM while it is paused (vm_pause, the control
 * socket's pause). Once every vCPU is parked the VM asks each device to
 * stop touching guest memory and raising interrupts, then waits, with a
 * deadline (src/vm/lifecycle.c), until none has I/O in flight: a paused
 * VM's memory stays as it is, and no completion is lost. virtio devices
 * hold through virtio_quiesce_all (virtio/quiesce.c); any other device
 * with I/O in flight or work of its own registers a struct dev_quiesce.
 */
#ifndef CVISOR_DEVICES_QUIESCE_H
#define CVISOR_DEVICES_QUIESCE_H

#include <stdbool.h>

struct dev_quiesce {
	/* on: hold from now on (a completion meanwhile is kept, and acted
	 * on after the resume); returns the requests still in flight.
	 * !on: go on with what was held (return value unused). Called on
	 * the event loop thread with the registry's lock held: it must not
	 * register or unregister. */
	unsigned (*set)(struct dev_quiesce *q, bool on);
	struct dev_quiesce *next;
};

/* From create until free (one VM per process, as virtio's device list). */
void dev_quiesce_add(struct dev_quiesce *q);
void dev_quiesce_del(struct dev_quiesce *q);

/* Every registered device held (on) or let go (!on); the sum of what
 * they have in flight. */
unsigned dev_quiesce_all(bool on);

#endif
