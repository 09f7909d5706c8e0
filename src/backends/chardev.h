/* Character backends behind UARTs and consoles: stdio (raw terminal with the
 * Ctrl-A escape), files, ptys and pipes to a command. Output is written
 * synchronously by the caller; input arrives on the event loop thread.
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
/* The device has room again: resume input (any thread). */
void chardev_rx_ready(struct chardev *c);
/* Write all of buf (blocking); returns len or -errno. Output that cannot be
 * written (a closed pipe) is dropped and reported once. */
ssize_t chardev_write(struct chardev *c, const void *buf, size_t len);
bool chardev_has_input(const struct chardev *c);

/* Restore every terminal put in raw mode (at exit and on fatal signals). */
void chardev_restore_terminals(void);

#endif
