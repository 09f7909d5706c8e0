/* The control socket's server, on the VM's event loop: accepting, reading
 * request lines, queuing responses. Nothing here blocks: sockets are
 * non-blocking, a client's unsent output is bounded (CTL_OUT_MAX) and a
 * client that lets it fill up is dropped, a line longer than CTL_LINE_MAX
 * gets an error and the connection closed. One client's trouble is never
 * the VM's or another client's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "ctl/ctl_priv.h"
#include "event/loop.h"
#include "vm/vm.h"

#define READ_CHUNK 4096

static uint32_t client_mask(const struct ctl_client *c)
{
	return (c->closing ? 0 : EPOLLIN) | (c->out_len > c->out_off ?
					     EPOLLOUT : 0);
}

static void client_free(struct ctl_client *c)
{
	struct ctl_server *s = c->srv;

	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i] == c)
			s->clients[i] = NULL;
	if (s->vm)
		event_loop_del(s->vm->loop, c->fd);
	close(c->fd);
	if (c->pause_id)
		json_object_put(c->pause_id);
	if (c->trace_id)
		json_object_put(c->trace_id);
	free(c->in);
	free(c->out);
	free(c);
}

/* Dropped: nothing more in or out. Freed by ctl_reap() once no handler is
 * running, since the command that caused it may still use the client
 * (a resume's broadcast overflowing its own sender's queue was a
 * use-after-free). */
static void drop(struct ctl_client *c)
{
	c->dead = c->closing = true;
	c->out_len = c->out_off = 0;
	if (c->srv->vm)
		event_loop_del(c->srv->vm->loop, c->fd);
}

void ctl_reap(struct ctl_server *s)
{
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i] && s->clients[i]->dead)
			client_free(s->clients[i]);
}

/* The loop watches what the client needs now: a client that stopped
 * reading (closing) with output still queued must not keep EPOLLIN
 * (level-triggered: the loop would spin on it). */
static void sync_mask(struct ctl_client *c)
{
	uint32_t m = client_mask(c);

	if (c->dead || m == c->mask)
		return;
	c->mask = m;
	if (c->srv->vm)
		event_loop_mod(c->srv->vm->loop, c->fd, m);
}

/* A reply still to come (a pause, a trace command): a client that has
 * stopped sending still gets it. */
static bool owed(const struct ctl_client *c)
{
	return c->pause_waiting || c->trace_waiting;
}

/* Send what is queued; false when the client is done (dropped). */
static bool flush_out(struct ctl_client *c)
{
	if (c->dead)
		return false;
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			drop(c);               /* vanished */
			return false;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		if (c->closing && !owed(c)) {
			drop(c);
			return false;
		}
	}
	sync_mask(c);
	return true;
}

static bool queue_out(struct ctl_client *c, const char *s, size_t len)
{
	size_t unsent = c->out_len - c->out_off;

	if (c->dead)
		return false;
	/* What was sent goes: the limit is on what the client has not
	 * read, however much it has read over time. */
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, unsent);
		c->out_off = 0;
		c->out_len = unsent;
	}
	if (unsent + len > CTL_OUT_MAX) {
		pr_warn("control socket: a client left %zu bytes unread; "
			"dropped", unsent);
		c->srv->dropped++;
		drop(c);
		return false;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;

		while (cap < c->out_len + len)
			cap *= 2;
		c->out = xreallocarray(c->out, cap, 1);
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	return true;
}

void ctl_send(struct ctl_client *c, json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	/* json-c escapes control characters in strings: one line. */
	if (queue_out(c, s, strlen(s)) && queue_out(c, "\n", 1))
		flush_out(c);
	json_object_put(obj);
}

void ctl_broadcast(struct ctl_server *s, json_object *event)
{
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i] && s->clients[i]->subscribed &&
		    !s->clients[i]->closing)
			ctl_send(s->clients[i], json_object_get(event));
	json_object_put(event);
	if (!s->depth)
		ctl_reap(s);
}

json_object *ctl_error(const char *code, const char *fmt, ...)
{
	json_object *err = json_object_new_object();
	json_object *o = json_object_new_object();
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", err);
	return o;
}

/* An error the client cannot recover from: say why, then hang up. */
static void fail_client(struct ctl_client *c, json_object *err)
{
	c->srv->errors++;
	c->closing = true;
	free(c->in);
	c->in = NULL;
	c->in_len = 0;
	ctl_send(c, err);     /* may free c */
}

static void append_in(struct ctl_client *c, const char *buf, size_t n)
{
	c->in = xreallocarray(c->in, c->in_len + n + 1, 1);
	memcpy(c->in + c->in_len, buf, n);
	c->in_len += n;
	c->in[c->in_len] = '\0';
}

/* Hand over each complete line; keep the rest. false: c is gone or done
 * reading. */
static bool take_lines(struct ctl_client *c, const char *buf, size_t n)
{
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t part = nl ? (size_t)(nl - buf) : n;
		char *line;
		size_t len;

		/* the cap counts the newline: a line of CTL_LINE_MAX - 1
		 * bytes passes, one more byte does not */
		if (c->in_len + part + 1 > CTL_LINE_MAX) {
			fail_client(c, ctl_error(CTL_E_TOO_LONG, "a request "
				    "line is limited to %d bytes",
				    CTL_LINE_MAX - 1));
			return false;
		}
		append_in(c, buf, part);
		if (!nl)
			return true;
		buf += part + 1;
		n -= part + 1;
		line = c->in;
		len = c->in_len;
		c->in = NULL;
		c->in_len = 0;
		ctl_handle_line(c, line, len);
		free(line);
		/* The reply may have dropped this client (a full queue). */
		if (c->dead || c->closing)
			return false;
	}
	return true;
}

static void client_read(struct ctl_client *c)
{
	char buf[READ_CHUNK];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		      errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF: a half-closed peer may still read what is queued
		 * and the replies still owed to it (a trace-stop piped in
		 * by `echo | socat`); it is dropped once they are sent. */
		if (n == 0 && (c->out_len || owed(c))) {
			c->closing = true;
			flush_out(c);
			return;
		}
		drop(c);
		return;
	}
	take_lines(c, buf, (size_t)n);
}

static void client_event(struct ctl_client *c, uint32_t events)
{
	if ((events & EPOLLOUT) && !flush_out(c))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->dead)
		return;
	if (!c->closing)
		client_read(c);
	else if (events & (EPOLLHUP | EPOLLERR))
		drop(c);
}

/* Clients are freed only here and at the end of a broadcast outside any
 * handler: nothing can use one after. */
static void client_events(void *opaque, uint32_t events)
{
	struct ctl_client *c = opaque;
	struct ctl_server *s = c->srv;

	s->depth++;
	client_event(c, events);
	if (!--s->depth)
		ctl_reap(s);
}

static void add_client(struct ctl_server *s, int fd)
{
	struct ctl_client *c = xcalloc(1, sizeof(*c));
	unsigned i;

	c->srv = s;
	c->fd = fd;
	for (i = 0; i < CTL_MAX_CLIENTS && s->clients[i]; i++)
		;
	if (i == CTL_MAX_CLIENTS) {
		/* Told why, without a slot: a short write to a fresh
		 * socket fits its buffer; then closed. */
		char msg[160];
		int len = snprintf(msg, sizeof(msg), "{\"error\":{\"code\":\""
				   CTL_E_FULL "\",\"message\":\"at most %d "
				   "clients\"}}\n", CTL_MAX_CLIENTS);

		if (send(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("control socket: %s", strerror(errno));
		close(fd);
		free(c);
		return;
	}
	s->clients[i] = c;
	c->mask = EPOLLIN;
	if (event_loop_add(s->vm->loop, fd, EPOLLIN, client_events, c)) {
		pr_warn("control socket: the event loop is full");
		client_free(c);
	}
}

static void listen_events(void *opaque, uint32_t events)
{
	struct ctl_server *s = opaque;

	/* A few per round: a flood of connections does not starve the
	 * loop's other work. */
	for (int k = 0; k < 8; k++) {
		int fd = accept4(s->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				pr_warn("control socket: accept: %s",
					strerror(errno));
			return;
		}
		add_client(s, fd);
	}
}

/* Someone answers at path: a live server (refuse), or nobody (stale). */
static bool path_is_live(const struct sockaddr_un *a)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0;
	close(fd);
	return live;
}

static int bind_socket(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(a.sun_path)) {
		pr_err("api %s: a socket path is limited to %zu bytes", path,
		       sizeof(a.sun_path) - 1);
		return -1;
	}
	strcpy(a.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			pr_err("api %s: exists and is not a socket", path);
			return -1;
		}
		if (path_is_live(&a)) {
			pr_err("api %s: another process is serving it", path);
			return -1;
		}
		pr_info("api %s: replacing a stale socket", path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		pr_err("api: socket: %s", strerror(errno));
		return -1;
	}
	/* 0600 from the start: no moment where others could connect. */
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (ret || listen(fd, 64)) {
		pr_err("api %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct ctl_server *ctl_server_open(const char *path)
{
	struct ctl_server *s;
	int fd = bind_socket(path);

	if (fd < 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->listen_fd = fd;
	s->path = xstrdup(path);
	if (ctl_trace_open(s)) {
		close(fd);
		unlink(path);
		free(s->path);
		free(s);
		return NULL;
	}
	return s;
}

/* On the loop thread, which is running already: the clients kept from
 * the previous VM first, then the listening socket. Done from the main
 * thread, the loop accepted waiting connections into the table while
 * it was walked (a client registered twice, freed under its handler). */
static void attach_call(void *opaque)
{
	struct ctl_server *s = opaque;
	struct vm *vm = s->vm;

	if (!vm)
		return;
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = s->clients[i];

		if (!c)
			continue;
		if (c->dead) {
			client_free(c);
			continue;
		}
		c->mask = client_mask(c);
		if (event_loop_add(vm->loop, c->fd, c->mask, client_events, c))
			client_free(c);
	}
	if (event_loop_add(vm->loop, s->listen_fd, EPOLLIN, listen_events, s))
		pr_warn("control socket: cannot serve it: the event loop is "
			"full");
	ctl_trace_attach(s);
}

void ctl_server_attach(struct ctl_server *s, struct vm *vm)
{
	if (!s)
		return;
	s->vm = vm;
	vm->shutdown_timeout_s = ctl_options.shutdown_timeout_s;
	vm->on_state = ctl_state_changed;
	vm->on_state_opaque = s;
	event_loop_call(vm->loop, attach_call, s);
}

void ctl_server_detach(struct ctl_server *s)
{
	struct vm *vm;
	json_object *ev;

	if (!s || !s->vm)
		return;
	vm = s->vm;
	ctl_fail_pause_waiters(s);
	if (vm->stop == VM_STOP_RESET) {
		ev = ctl_event(s, "reset");
	} else {
		ev = ctl_event(s, "stop");
		json_object_object_add(ev, "status",
				       json_object_new_int(vm->exit_status));
	}
	ctl_broadcast(s, ev);      /* sent now, as far as the socket takes */
	event_loop_del(vm->loop, s->listen_fd);
	ctl_trace_detach(s);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i])
			event_loop_del(vm->loop, s->clients[i]->fd);
	vm->on_state = NULL;
	s->vm = NULL;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
	ctl_server_detach(s);
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i])
			client_free(s->clients[i]);
	close(s->listen_fd);
	ctl_trace_close(s);
	if (unlink(s->path))
		pr_debug("api %s: %s", s->path, strerror(errno));
	free(s->path);
	free(s);
}
