/* trace-start FILE and trace-stop on the control socket (trace/trace.h).
 * FILE is opened by cvisor itself, relative to its working directory
 * (inside its chroot when jailed). Neither command waits for the guest:
 * start opens the file and writes its header, stop writes what the rings
 * hold and closes it, so the file is complete when the answer comes. */
#include <errno.h>
#include <string.h>

#include "ctl/ctl_priv.h"
#include "trace/trace.h"

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

json_object *ctl_cmd_trace_start(struct ctl_client *c, json_object *req)
{
	json_object *args, *a0;
	const char *path;
	int ret;

	if (!json_object_object_get_ex(req, "args", &args) ||
	    !json_object_is_type(args, json_type_array) ||
	    json_object_array_length(args) != 1 ||
	    !json_object_is_type(a0 = json_object_array_get_idx(args, 0),
				 json_type_string) ||
	    !*(path = json_object_get_string(a0)) || strlen(path) > 255)
		return ctl_error(CTL_E_ARGS, "trace-start takes one argument: "
				 "the file to write");
	ret = trace_start(path);
	if (ret == -EBUSY)
		return ctl_error(CTL_E_BUSY, "a trace is on already "
				 "(trace-stop first)");
	if (ret == -ENOSYS)
		return ctl_error(CTL_E_NODEV, "no trace thread in this run");
	if (ret < 0)
		return ctl_error(CTL_E_ARGS, "%s: %s", path, strerror(-ret));
	return status_result();
}

json_object *ctl_cmd_trace_stop(struct ctl_client *c, json_object *req)
{
	int ret = trace_stop();

	if (ret == -ENOENT)
		return ctl_error(CTL_E_BUSY, "no trace is on");
	if (ret < 0)
		return ctl_error(CTL_E_BUSY, "the trace file failed: %s",
				 strerror(-ret));
	return status_result();
}
