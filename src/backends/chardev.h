/* Character backends behind UARTs and consoles: stdio (raw terminal with the
 * Ctrl-A escape), files, ptys and pipes to a command. Output is buffered
 * and written by the event loop on non-blocking fds, so a consumer that
 * stops reading never stalls a vCPU or the loop; input arrives on the
 * event loop thread.
 */
#ifndef CVISOR_BACKENDS_CHARDEV_H
#define CVISOR_BACKENDS_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"

struct event_loop;
struct chardev;

/* The device's receive hook: offered bytes, returns how many it took. When
 * it takes fewer, the rest is kept and input stops until chardev_rx_ready().
 * Runs on the event loop thread. */
typedef size_t (*chardev_rx_fn)(void *opaque, const uint8_t *buf, size_t len);

/* Output has room again after chardev_write_some() came up short. Runs on
 * the event loop thread. */
typedef void (*chardev_tx_ready_fn)(void *opaque);

/* What the user asked for by typing the escape sequence (Ctrl-A x). */
typedef void (*chardev_quit_fn)(void *opaque);

/* Open the backend described by a vdev's hostdev options (0 of them: a sink
 * that discards output and never has input). Returns NULL with a logged
 * message on failure. */
struct chardev *chardev_open(const struct cfg_hostdev *hd, unsigned nr,
			     struct event_loop *loop);
void chardev_close(struct chardev *c);

void chardev_set_rx(struct chardev *c, chardev_rx_fn fn, void *opaque);
void chardev_set_quit(struct chardev *c, chardev_quit_fn fn, void *opaque);
/* What Ctrl-A s prints on stderr (the VM's status and statistics), for
 * every console; set by whoever has them (main's run loop), cleared with
 * NULL. Called on the event loop thread. */
void chardev_set_stats_hook(void (*fn)(void *opaque), void *opaque);
/* The device has room again: resume input (any thread). */
void chardev_rx_ready(struct chardev *c);
/* Queue all of buf for output, never blocking (any thread, also under a
 * device lock): what does not fit in the backend's buffer is dropped and
 * counted, as bytes on a cable nobody listens to. Returns len, or -EPIPE
 * once the backend has failed (a closed pipe: reported once, output
 * dropped from then on). */
ssize_t chardev_write(struct chardev *c, const void *buf, size_t len);
/* Queue as much of buf as fits now and return how much that was; when it
 * is less than len, tx_ready is called once there is room. A failed
 * backend takes (and drops) everything. For devices that can hold the
 * guest's data back (virtio-console). */
size_t chardev_write_some(struct chardev *c, const void *buf, size_t len);
void chardev_set_tx_ready(struct chardev *c, chardev_tx_ready_fn fn,
			  void *opaque);
/* Bytes dropped because the consumer did not keep up. */
uint64_t chardev_dropped(struct chardev *c);

/* A VM reset keeps its backends (a log is not reopened, a command not
 * respawned, buffered bytes not lost) but not its event loop: the device
 * that used c lets go of it before the loop is freed, and the device of the
 * next VM picks it up with its own loop. */
void chardev_release(struct chardev *c);
void chardev_attach_loop(struct chardev *c, struct event_loop *loop);
/* c belongs to the process (it outlives the device): chardev_put() then
 * only releases it. */
void chardev_keep(struct chardev *c);
/* The device is done with c: close it, or release it if it is kept. */
void chardev_put(struct chardev *c);
bool chardev_has_input(const struct chardev *c);

/* Restore every terminal put in raw mode (at exit and on fatal signals). */
void chardev_restore_terminals(void);

#endif
