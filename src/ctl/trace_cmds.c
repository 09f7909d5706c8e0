/* trace-start FILE and trace-stop on the control socket (trace/trace.h).
 * FILE is opened by cvisor itself, relative to its working directory
 * (inside its chroot when jailed). Neither command waits for the guest,
 * and the event loop waits for neither: the tracer's drain thread opens
 * the file and writes its header (start), or writes what the rings hold
 * and closes it (stop), then signals trace_efd; the reply goes out from
 * the loop then, so for stop the file is complete when the answer comes.
 * One such reply is owed at a time, server-wide: the tracer serves one
 * request at a time, and one result slot then cannot be overtaken. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "ctl/ctl_priv.h"
#include "event/loop.h"
#include "trace/trace.h"
#include "vm/vm.h"

static json_object *status_result(void)
{
	struct trace_status st;
	json_object *r = json_object_new_object(), *o = json_object_new_object();

	trace_get_status(&st);
	json_object_object_add(r, "active", json_object_new_boolean(st.active));
	json_object_object_add(r, "file", json_object_new_string(st.path));
	json_object_object_add(r, "records",
			       json_object_new_int64((int64_t)st.records));
	json_object_object_add(r, "lost",
			       json_object_new_int64((int64_t)st.lost));
	json_object_object_add(o, "result", r);
	return o;
}

/* On the drain thread: the result for the loop. */
static void trace_done(void *opaque, int result)
{
	struct ctl_server *s = opaque;
	uint64_t one = 1;

	__atomic_store_n(&s->trace_result, result, __ATOMIC_RELEASE);
	if (write(s->trace_efd, &one, sizeof(one)) < 0)
		pr_warn("control socket: trace reply: %s", strerror(errno));
}

static json_object *answer_json(struct ctl_server *s, int result)
{
	if (!result)
		return status_result();
	if (s->trace_starting)
		return ctl_error(CTL_E_ARGS, "%s: %s", s->trace_file,
				 strerror(-result));
	if (result == -ETIMEDOUT)
		return ctl_error(CTL_E_BUSY, "the trace file took nothing for "
				 "%d ms; the trace stopped there",
				 trace_stall_ms());
	return ctl_error(CTL_E_BUSY, "the trace file failed: %s",
			 strerror(-result));
}

/* On the loop: the owed reply, to its client if it is still there. */
static void trace_done_events(void *opaque, uint32_t events)
{
	struct ctl_server *s = opaque;
	uint64_t v;

	(void)events;
	if (read(s->trace_efd, &v, sizeof(v)) != sizeof(v) || !s->trace_owed)
		return;
	s->trace_owed = false;
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = s->clients[i];
		json_object *resp;

		if (!c || !c->trace_waiting)
			continue;
		resp = answer_json(s, __atomic_load_n(&s->trace_result,
						      __ATOMIC_ACQUIRE));
		if (c->trace_id) {
			json_object_object_add(resp, "id", c->trace_id);
			c->trace_id = NULL;
		}
		c->trace_waiting = false;
		ctl_send(c, resp);      /* may drop a half-closed client */
	}
	if (!s->depth)
		ctl_reap(s);
}

/* The request went to the tracer: owe c its reply. */
static json_object *owe(struct ctl_client *c, json_object *req,
			bool starting)
{
	json_object *id = json_object_object_get(req, "id");

	c->srv->trace_owed = true;
	c->srv->trace_starting = starting;
	c->trace_id = id ? json_object_get(id) : NULL;
	c->trace_waiting = true;
	return NULL;
}

static json_object *refused(int ret)
{
	if (ret == -ENOSYS)
		return ctl_error(CTL_E_NODEV, "no trace thread in this run");
	return ctl_error(CTL_E_BUSY, "a trace-start or trace-stop is in "
			 "progress; it is answered once done");
}

json_object *ctl_cmd_trace_start(struct ctl_client *c, json_object *req)
{
	struct ctl_server *s = c->srv;
	json_object *args, *a0;
	const char *path;
	int ret;

	if (!json_object_object_get_ex(req, "args", &args) ||
	    !json_object_is_type(args, json_type_array) ||
	    json_object_array_length(args) != 1 ||
	    !json_object_is_type(a0 = json_object_array_get_idx(args, 0),
				 json_type_string) ||
	    !*(path = json_object_get_string(a0)) ||
	    strlen(path) >= sizeof(s->trace_file))
		return ctl_error(CTL_E_ARGS, "trace-start takes one argument: "
				 "the file to write");
	if (s->trace_owed)
		return refused(-EALREADY);
	ret = trace_start(path, trace_done, s);
	if (ret == -EBUSY)
		return ctl_error(CTL_E_BUSY, "a trace is on already "
				 "(trace-stop first)");
	if (ret < 0)
		return refused(ret);
	snprintf(s->trace_file, sizeof(s->trace_file), "%s", path);
	return owe(c, req, true);
}

json_object *ctl_cmd_trace_stop(struct ctl_client *c, json_object *req)
{
	int ret;

	if (c->srv->trace_owed)
		return refused(-EALREADY);
	ret = trace_stop(trace_done, c->srv);
	if (ret == -ENOENT)
		return ctl_error(CTL_E_BUSY, "no trace is on");
	if (ret < 0)
		return refused(ret);
	return owe(c, req, false);
}

int ctl_trace_open(struct ctl_server *s)
{
	s->trace_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->trace_efd < 0)
		pr_err("control socket: eventfd: %s", strerror(errno));
	return s->trace_efd < 0 ? -1 : 0;
}

/* A reply that came between two VMs is sent once the next one's loop
 * runs: the eventfd stays readable. */
void ctl_trace_attach(struct ctl_server *s)
{
	if (event_loop_add(s->vm->loop, s->trace_efd, EPOLLIN,
			   trace_done_events, s))
		pr_warn("control socket: trace replies: the event loop is "
			"full");
}

void ctl_trace_detach(struct ctl_server *s)
{
	event_loop_del(s->vm->loop, s->trace_efd);
}

void ctl_trace_close(struct ctl_server *s)
{
	close(s->trace_efd);
}
