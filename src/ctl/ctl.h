/* The control socket (docs/control.md): `api PATH` / `--api PATH` makes a
 * UNIX stream socket that speaks JSON, one request object per line and
 * one response per line, plus events pushed to clients that subscribed.
 * It is served by the VM's event loop; the server outlives the VMs a
 * guest reset builds in turn (attach/detach), and so do its clients.
 * `cvisor ctl PATH COMMAND [ARGS]` is the client.
 */
#ifndef CVISOR_CTL_CTL_H
#define CVISOR_CTL_CTL_H

#include <stdbool.h>
#include <stdio.h>

struct ctl_server;
struct vm;

/* The options main.c sets (--api, --shutdown-timeout). */
struct ctl_options {
	const char *api_path;           /* overrides the config's `api` */
	unsigned shutdown_timeout_s;    /* SIGTERM and powerdown: grace */
};
extern struct ctl_options ctl_options;
#define CTL_SHUTDOWN_TIMEOUT_S 30

/* Bind and listen on path (mode 0600). A path that exists is refused when
 * a server answers there, replaced when nobody does (a stale socket left
 * by a killed process). NULL with a message logged. */
struct ctl_server *ctl_server_open(const char *path);
/* Serve on vm's event loop: after vm_start(), before its threads stop. */
void ctl_server_attach(struct ctl_server *s, struct vm *vm);
/* After vm_stop_threads() (the loop is joined): forget the VM, tell the
 * subscribers why it stopped (reset: "reset", otherwise "stop" with the
 * exit status), keep the clients for the next VM. */
void ctl_server_detach(struct ctl_server *s);
/* Close every client and the socket, and remove the path. NULL is fine. */
void ctl_server_close(struct ctl_server *s);

/* The main thread's wait for the end of a run: the stop eventfd, the
 * signals in sfd (SIGINT/SIGHUP/SIGQUIT stop at once with status 3,
 * SIGTERM presses the power button, SIGUSR1 prints the status), and the
 * powerdown deadline. */
void ctl_wait_for_stop(struct vm *vm, int sfd);

/* A status summary in words (SIGUSR1, `cvisor ctl PATH status`). */
void ctl_print_status_vm(FILE *f, struct vm *vm);

/* The `stats` answer in words (--stats at exit, Ctrl-A s). */
void ctl_print_stats_vm(FILE *f, struct vm *vm);

/* cvisor ctl [--json] PATH COMMAND [ARGS]: argv[0] is PATH. */
int ctl_main(int argc, char **argv);

#endif
