/* The exit trace (docs/trace.md), after ACRN's acrntrace: each vCPU
 * appends a fixed-size record per exit to its own ring (trace/ring.h),
 * a drain thread moves the rings to a file, and `cvisor trace decode`
 * and `cvisor trace report` read it back (trace/file.h).
 *
 * One tracer per process: it outlives the VMs a guest reset builds in
 * turn (attach/detach), as the control socket does, so one file covers
 * them all. Off, it costs the exit path one load and a predicted branch.
 */
#ifndef CVISOR_TRACE_TRACE_H
#define CVISOR_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Records per vCPU ring: 2^16 (2 MiB), about a second of exits. */
#define TRACE_RING_ORDER 16

/* --trace FILE: open (create, truncate) now, before any jail; tracing
 * starts with the first VM attached. 0 or -errno. */
int trace_set_file(const char *path);

/* After vm_start(), on the main thread (before it enters its sandbox the
 * first time): serve vm. The drain thread is made on the first call
 * when tracing may happen: a --trace file, or `can_start` (a control
 * socket that may ask for it). 0 or -errno. */
int trace_attach(struct vm *vm, bool can_start);
/* After vm_stop_threads(): hand what the vCPUs left to the drain
 * thread (their rings: it writes and frees them) and forget vm; the
 * trace itself goes on with the next VM. Waits for no file. */
void trace_detach(struct vm *vm);
/* At exit: finish the file and end the drain thread. */
void trace_shutdown(void);

/* A file that takes no byte for this long ends the trace (a FIFO whose
 * reader stopped): the drain thread gives up instead of waiting on. */
#define TRACE_STALL_MS 2000
/* That limit, or CVISOR_TRACE_STALL_MS (tests: a stall that lasts while
 * they look at it). */
int trace_stall_ms(void);

/* The control socket's trace-start / trace-stop (any thread but a
 * vCPU's). Neither waits for the file: the drain thread does the work
 * and calls done(opaque, result) on its own thread once it has, result
 * 0 or -errno (start: the open's or the header's; stop: why the file
 * failed, -ETIMEDOUT for a stall). For stop, the file is complete and
 * closed by then. Refused now, done never called: -ENOSYS (no drain
 * thread), -EALREADY (a request not yet answered), -EBUSY (start: a
 * trace is on), -ENOENT (stop: none is on), -ENAMETOOLONG. */
typedef void trace_done_fn(void *opaque, int result);
int trace_start(const char *path, trace_done_fn *done, void *opaque);
int trace_stop(trace_done_fn *done, void *opaque);

struct trace_status {
	bool active;
	char path[256];
	uint64_t records;        /* written to the file so far */
	uint64_t lost;           /* dropped by full rings */
	uint64_t write_errors;
};
void trace_get_status(struct trace_status *st);

#endif
