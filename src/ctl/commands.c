/* The commands of the control socket. A request is one JSON object:
 *
 *   {"cmd": "pause", "id": 7}
 *
 * "id" (optional, any JSON value) comes back in the response, which is
 * {"result": {...}, "id": 7} or {"error": {"code", "message"}, "id": 7}.
 * Every command runs on the event loop thread; none blocks it (pause
 * answers when the last vCPU has parked).
 */
#include <errno.h>
#include <string.h>

#include "core/exit_codes.h"
#include "core/log.h"
#include "core/util.h"
#include "ctl/ctl_priv.h"
#include "vm/vm.h"

typedef json_object *(*cmd_fn)(struct ctl_client *c, json_object *req);

json_object *ctl_event(struct ctl_server *s, const char *name)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(name));
	if (s->vm)
		json_object_object_add(o, "uptime_ms",
			json_object_new_int64((int64_t)ctl_uptime_ms(s->vm)));
	return o;
}

static json_object *result(json_object *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "result", r ? r : json_object_new_object());
	return o;
}

static json_object *state_result(struct vm *vm)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "state",
			       json_object_new_string(vm_state_name(vm)));
	return result(r);
}

static void broadcast_state(struct ctl_server *s)
{
	json_object *ev = ctl_event(s, "state");

	json_object_object_add(ev, "state",
			       json_object_new_string(vm_state_name(s->vm)));
	ctl_broadcast(s, ev);
}

static json_object *cmd_status(struct ctl_client *c, json_object *req)
{
	return result(ctl_status_json(c->srv->vm));
}

static json_object *cmd_stats(struct ctl_client *c, json_object *req)
{
	json_object *st = ctl_stats_json(c->srv->vm);

	json_object_object_add(st, "control", json_object_new_object());
	json_object_object_add(json_object_object_get(st, "control"),
		"requests", json_object_new_int64((int64_t)c->srv->requests));
	json_object_object_add(json_object_object_get(st, "control"),
		"errors", json_object_new_int64((int64_t)c->srv->errors));
	json_object_object_add(json_object_object_get(st, "control"),
		"clients_dropped",
		json_object_new_int64((int64_t)c->srv->dropped));
	return result(st);
}

static json_object *busy(struct vm *vm, const char *what)
{
	return ctl_error(CTL_E_BUSY, "cannot %s: the VM is %s", what,
			 vm_state_name(vm));
}

static json_object *cmd_pause(struct ctl_client *c, json_object *req)
{
	struct vm *vm = c->srv->vm;
	json_object *id = json_object_object_get(req, "id");
	int ret = vm_pause(vm);

	if (ret < 0)
		return busy(vm, "pause");
	if (ret == 1)
		return state_result(vm);
	/* One owed reply per client: a second request would take the
	 * first's place, which would then never be answered. */
	if (c->pause_waiting)
		return ctl_error(CTL_E_BUSY, "a pause of yours is in progress; "
				 "it is answered once complete");
	/* Answered by ctl_state_changed() once every vCPU has parked. */
	c->pause_id = id ? json_object_get(id) : NULL;
	c->pause_waiting = true;
	return NULL;
}

static json_object *cmd_resume(struct ctl_client *c, json_object *req)
{
	struct vm *vm = c->srv->vm;
	bool was_paused = vm->run_state == VM_STATE_PAUSED;
	int ret = vm_resume(vm);

	if (ret == -EAGAIN)
		return ctl_error(CTL_E_BUSY, "a pause is in progress; resume "
				 "once it has answered");
	if (ret < 0)
		return busy(vm, "resume");
	if (was_paused)
		broadcast_state(c->srv);
	return state_result(vm);
}

static json_object *cmd_reset(struct ctl_client *c, json_object *req)
{
	struct vm *vm = c->srv->vm;
	json_object *r;

	if (vm->stop != VM_RUNNING)
		return busy(vm, "reset");
	/* The operator's reset ends a powerdown: the rule that a reset
	 * during one stops the VM (vm_request_stop) is for the guest's. */
	vm->powering_down = false;     /* _Atomic */
	/* The same path as a guest's reset request: `reboot exit` in the
	 * config makes it an exit with status 34, as for the guest. */
	vm->env.power(vm->env.ctx, POWER_RESET, 0);
	r = json_object_new_object();
	json_object_object_add(r, "state", json_object_new_string(
		vm->stop == VM_STOP_RESET ? "resetting" : vm_state_name(vm)));
	return result(r);
}

static json_object *cmd_stop(struct ctl_client *c, json_object *req)
{
	struct vm *vm = c->srv->vm;

	vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_OK);
	return state_result(vm);
}

static json_object *cmd_powerdown(struct ctl_client *c, json_object *req)
{
	struct vm *vm = c->srv->vm;
	json_object *r;
	bool listening;
	int ret = vm_powerdown(vm, &listening);

	if (ret == -ENODEV)
		return ctl_error(CTL_E_NODEV, "this VM has no power button "
				 "(no free interrupt line among 20-23)");
	if (ret < 0)
		return busy(vm, "power down");
	broadcast_state(c->srv);
	r = json_object_new_object();
	json_object_object_add(r, "state",
			       json_object_new_string(vm_state_name(vm)));
	json_object_object_add(r, "listening",
			       json_object_new_boolean(listening));
	json_object_object_add(r, "timeout_s",
			json_object_new_int((int)vm->shutdown_timeout_s));
	return result(r);
}

/* QEMU's system_wakeup: a guest in ACPI S3 wakes (vm/suspend.c). */
static json_object *cmd_wakeup(struct ctl_client *c, json_object *req)
{
	struct vm *vm = c->srv->vm;
	int ret = vm_wakeup(vm);

	if (ret == -ENODEV)
		return ctl_error(CTL_E_NODEV, "this VM has no ACPI power "
				 "management (no sleep states)");
	if (ret < 0)
		return busy(vm, "wake up");
	return state_result(vm);
}

static json_object *cmd_subscribe(struct ctl_client *c, json_object *req)
{
	json_object *r = json_object_new_object();

	c->subscribed = true;
	json_object_object_add(r, "state",
			       json_object_new_string(vm_state_name(c->srv->vm)));
	return result(r);
}

static json_object *cmd_help(struct ctl_client *c, json_object *req);

static const struct {
	const char *name;
	cmd_fn fn;
	const char *help;
} cmds[] = {
	{ "status", cmd_status, "state, uptime, vCPUs, memory, devices" },
	{ "stats", cmd_stats, "counters: exits per vCPU and reason, time "
	  "in cvisor, accesses per device region, the trace" },
	{ "trace-start", ctl_cmd_trace_start, "FILE: trace every exit into "
	  "FILE (docs/trace.md)" },
	{ "trace-stop", ctl_cmd_trace_stop, "finish the trace file" },
	{ "pause", cmd_pause, "park every vCPU (the guest clock stops)" },
	{ "resume", cmd_resume, "run a paused VM again" },
	{ "reset", cmd_reset, "reset the VM (as the guest's reset would)" },
	{ "powerdown", cmd_powerdown, "press the ACPI power button (it wakes "
	  "a suspended guest)" },
	{ "wakeup", cmd_wakeup, "wake a guest suspended to RAM (ACPI S3)" },
	{ "stop", cmd_stop, "stop the VM now; cvisor exits with status 0" },
	{ "subscribe", cmd_subscribe, "push events to this connection" },
	{ "help", cmd_help, "the commands" },
};

static json_object *cmd_help(struct ctl_client *c, json_object *req)
{
	json_object *r = json_object_new_object();

	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++)
		json_object_object_add(r, cmds[i].name,
				       json_object_new_string(cmds[i].help));
	return result(r);
}

static json_object *dispatch(struct ctl_client *c, json_object *req)
{
	json_object *cmd;
	const char *name;

	if (!json_object_is_type(req, json_type_object))
		return ctl_error(CTL_E_REQUEST, "a request is a JSON object "
				 "like {\"cmd\": \"status\"}");
	if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string))
		return ctl_error(CTL_E_REQUEST, "the request has no \"cmd\" "
				 "string");
	name = json_object_get_string(cmd);
	for (unsigned i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (strcmp(cmds[i].name, name))
			continue;
		if (!c->srv->vm)
			return ctl_error(CTL_E_NO_VM, "the VM is being rebuilt");
		return cmds[i].fn(c, req);
	}
	return ctl_error(CTL_E_UNKNOWN, "unknown command '%.64s' (try "
			 "\"help\")", name);
}

void ctl_handle_line(struct ctl_client *c, const char *line, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *req, *resp, *id;
	enum json_tokener_error jerr;

	c->srv->requests++;
	req = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	/* A line must hold exactly one whole value. */
	if (req && jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) < len &&
	    strspn(line + json_tokener_get_parse_end(tok), " \t\r") !=
	    len - json_tokener_get_parse_end(tok)) {
		json_object_put(req);
		req = NULL;
		jerr = json_tokener_error_parse_unexpected;
	}
	if (!req || jerr != json_tokener_success) {
		if (req)
			json_object_put(req);
		json_tokener_free(tok);
		c->srv->errors++;
		ctl_send(c, ctl_error(CTL_E_PARSE, "not a JSON value: %s",
				      jerr == json_tokener_continue ?
				      "incomplete" :
				      json_tokener_error_desc(jerr)));
		return;
	}
	json_tokener_free(tok);
	resp = dispatch(c, req);
	if (resp) {
		if (json_object_object_get_ex(resp, "error", NULL))
			c->srv->errors++;
		if (json_object_is_type(req, json_type_object) &&
		    json_object_object_get_ex(req, "id", &id))
			json_object_object_add(resp, "id",
					       json_object_get(id));
		ctl_send(c, resp);
	}
	json_object_put(req);
}

static void answer_pause(struct ctl_client *c, json_object *resp)
{
	if (c->pause_id) {
		json_object_object_add(resp, "id", c->pause_id);
		c->pause_id = NULL;
	}
	c->pause_waiting = false;
	ctl_send(c, resp);
}

void ctl_state_changed(void *opaque)
{
	struct ctl_server *s = opaque;

	if (!s->vm)
		return;
	/* Not while still pausing: S3's changes (suspended, woken) come
	 * here too, and a pause answers only once it is complete. */
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i] && s->clients[i]->pause_waiting &&
		    s->vm->run_state != VM_STATE_PAUSING)
			answer_pause(s->clients[i], state_result(s->vm));
	broadcast_state(s);
}

void ctl_fail_pause_waiters(struct ctl_server *s)
{
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (s->clients[i] && s->clients[i]->pause_waiting)
			answer_pause(s->clients[i], ctl_error(CTL_E_BUSY,
				     "the VM stopped before it was paused"));
}
