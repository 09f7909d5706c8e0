/* One epoll thread per VM for everything that is not a vCPU: console input,
 * ioeventfds, backend completions, timers and the control socket.
 * Callbacks run on the loop thread, one at a time.
 */
#ifndef CVISOR_EVENT_LOOP_H
#define CVISOR_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct event_loop;

typedef void (*event_fn)(void *opaque, uint32_t events);

struct event_loop *event_loop_new(void);
/* Stops the thread if running, then frees. Registered fds are not closed. */
void event_loop_free(struct event_loop *l);

int event_loop_add(struct event_loop *l, int fd, uint32_t events,
		   event_fn fn, void *opaque);
int event_loop_mod(struct event_loop *l, int fd, uint32_t events);
int event_loop_del(struct event_loop *l, int fd);
/* As event_loop_del, and if fd's callback is running on another thread,
 * waits until it has returned: then the fd may be closed (a callback
 * still running could otherwise read a reused fd number). The caller
 * must hold no lock the callback takes. */
int event_loop_del_sync(struct event_loop *l, int fd);

/* Run fn(opaque, 0) on the loop thread soon; safe from any thread. Used to
 * hand work from a vCPU thread to the loop (e.g. "the UART has room now").
 * A call already pending with the same fn and opaque is not repeated.
 * Never refused (the list grows); returns 0. */
int event_loop_call(struct event_loop *l, void (*fn)(void *opaque),
		    void *opaque);

/* The same as a node in the caller's own object: posting allocates
 * nothing and looks for no duplicate (O(1), for work as frequent as a
 * guest's kicks). Posting it again before it has run is a no-op. It
 * must stay valid until it has run or the loop has stopped; a node goes
 * to one loop only. */
struct loop_work {
	void (*fn)(void *opaque);
	void *opaque;
	struct loop_work *next;         /* the loop's, under its lock */
	bool queued;                    /* the loop's, under its lock */
};
void event_loop_post(struct event_loop *l, struct loop_work *w);

int event_loop_start(struct event_loop *l);   /* spawns the thread */
void event_loop_stop(struct event_loop *l);   /* joins it */
/* Run one round on the caller's thread, waiting at most timeout_ms (tests). */
int event_loop_poll(struct event_loop *l, int timeout_ms);

#endif
