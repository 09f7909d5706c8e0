/* Inside the control socket: the server's clients, the command table and
 * the JSON each command answers with. */
#ifndef CVISOR_CTL_CTL_PRIV_H
#define CVISOR_CTL_CTL_PRIV_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/ctl.h"

#define CTL_LINE_MAX    (64 * 1024)    /* a request line, newline included */
#define CTL_OUT_MAX     (1024 * 1024)  /* unread output before a drop */
#define CTL_MAX_CLIENTS 32

struct ctl_client {
	struct ctl_server *srv;
	int fd;
	char *in;                /* a partial request line */
	size_t in_len;
	char *out;               /* responses and events not yet sent */
	size_t out_len, out_off, out_cap;
	bool subscribed;
	bool closing;            /* close once out is sent; read no more */
	bool dead;               /* dropped: freed when no handler runs */
	uint32_t mask;           /* the events asked of the loop */
	json_object *pause_id;   /* a pause reply owed (its request's id) */
	bool pause_waiting;
	json_object *trace_id;   /* the same for trace-start/-stop */
	bool trace_waiting;
};

struct ctl_server {
	int listen_fd;
	char *path;
	struct vm *vm;           /* NULL between two VMs */
	struct ctl_client *clients[CTL_MAX_CLIENTS];
	unsigned depth;          /* client handlers running (loop thread) */
	int trace_efd;           /* the tracer's answers (trace_cmds.c) */
	int trace_result;        /* the last one; atomic */
	bool trace_owed;         /* a trace reply is owed to a client */
	bool trace_starting;     /* ... to a trace-start, of trace_file */
	char trace_file[256];
	unsigned long requests, errors, dropped;
};

/* Error codes in {"error": {"code": ..., "message": ...}}. */
#define CTL_E_PARSE     "parse-error"      /* not JSON */
#define CTL_E_REQUEST   "bad-request"      /* JSON, not a request */
#define CTL_E_UNKNOWN   "unknown-command"
#define CTL_E_ARGS      "bad-arguments"
#define CTL_E_TOO_LONG  "line-too-long"
#define CTL_E_BUSY      "busy"             /* not in the right state now */
#define CTL_E_NO_VM     "no-vm"            /* between two VMs (a reset) */
#define CTL_E_NODEV     "unsupported"
#define CTL_E_FULL      "too-many-clients"

/* Queue one JSON line for a client (server.c). Takes obj's reference. A
 * client whose queue would pass CTL_OUT_MAX is dropped: marked dead, and
 * freed once no handler runs (a command may go on using it); a dead
 * client is sent nothing. */
void ctl_send(struct ctl_client *c, json_object *obj);
/* Free the dropped clients; only where no client handler runs (depth
 * 0): a reply sent from outside one (a trace command's) may drop its
 * client, whose socket must then close for the peer to see the end. */
void ctl_reap(struct ctl_server *s);
/* The same to every subscriber. */
void ctl_broadcast(struct ctl_server *s, json_object *event);
json_object *ctl_error(const char *code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* {"event": name} with the time since the VM started. */
json_object *ctl_event(struct ctl_server *s, const char *name);

/* Handle one request line (commands.c): a response is sent now, or later
 * for a pause in progress. */
void ctl_handle_line(struct ctl_client *c, const char *line, size_t len);
/* The VM's state changed (paused): answer the pause requests waiting,
 * tell the subscribers. On the loop thread. */
void ctl_state_changed(void *opaque);
/* A waiting pause that will never complete (the VM stopped). */
void ctl_fail_pause_waiters(struct ctl_server *s);

/* Milliseconds since vm_start (status.c). */
uint64_t ctl_uptime_ms(const struct vm *vm);
/* The JSON of status and stats (status.c, stats.c). */
json_object *ctl_status_json(struct vm *vm);
json_object *ctl_stats_json(struct vm *vm);
/* Print a status object in words (format.c). */
void ctl_print_status(FILE *f, json_object *status);
void ctl_print_stats(FILE *f, json_object *stats);
/* The groups beyond the exit counts (stats_format.c). */
void ctl_print_exit_times(FILE *f, json_object *vcpu, int64_t hz);
bool ctl_print_stats_group(FILE *f, const char *key, json_object *val);
/* trace-start FILE, trace-stop (trace_cmds.c). */
json_object *ctl_cmd_trace_start(struct ctl_client *c, json_object *req);
json_object *ctl_cmd_trace_stop(struct ctl_client *c, json_object *req);
/* The tracer's reply channel: made with the server, watched by each VM's
 * loop (attach: on the loop thread; detach: once it has stopped). */
int ctl_trace_open(struct ctl_server *s);
void ctl_trace_attach(struct ctl_server *s);
void ctl_trace_detach(struct ctl_server *s);
void ctl_trace_close(struct ctl_server *s);

#endif
