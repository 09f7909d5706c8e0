/* cvisor ctl [--json] PATH COMMAND [ARG...]: one request, its answer.
 *
 * The request is {"cmd": COMMAND} plus "args": [ARG...] when there are
 * any. Without --json the answer is printed in words (format.c); with it,
 * as the one JSON line the server sent. `subscribe` then prints each
 * event as it comes until the VM's process ends. Exit status: 0 for a
 * result, 1 for an error answer, 69 when nobody answers at PATH, 64 for
 * a usage error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/util.h"
#include "ctl/ctl_priv.h"

#define EXIT_ERROR_REPLY 1
#define EXIT_USAGE       64
#define EXIT_UNAVAILABLE 69
#define ANSWER_MAX       (16 * 1024 * 1024)

struct reader {
	int fd;
	char *buf;
	size_t len, cap;
};

static int usage(void)
{
	fputs("usage: cvisor ctl [--json] SOCKET COMMAND [ARG...]\n"
	      "commands: status, stats, pause, resume, reset, powerdown, "
	      "wakeup, stop, subscribe, help\n(docs/control.md)\n", stderr);
	return EXIT_USAGE;
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "cvisor ctl: %s: path too long\n", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "cvisor ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		s += k;
		n -= (size_t)k;
	}
	return true;
}

/* The next line (without its newline, NUL-terminated in r->buf), or NULL
 * at EOF. The line stays valid until the next call. */
static char *read_line(struct reader *r, size_t *consumed)
{
	for (;;) {
		char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		ssize_t n;

		if (nl) {
			*nl = '\0';
			*consumed = (size_t)(nl - r->buf) + 1;
			return r->buf;
		}
		if (r->len == ANSWER_MAX)
			return NULL;
		if (r->cap - r->len < 4096) {
			r->cap = r->cap ? r->cap * 2 : 65536;
			r->buf = xreallocarray(r->buf, r->cap + 1, 1);
		}
		n = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		r->len += (size_t)n;
		if (r->len > ANSWER_MAX)
			r->len = ANSWER_MAX;
	}
}

static void drop_line(struct reader *r, size_t consumed)
{
	memmove(r->buf, r->buf + consumed, r->len - consumed);
	r->len -= consumed;
}

static void print_event(json_object *ev)
{
	printf("event %s", json_object_get_string(
		json_object_object_get(ev, "event")));
	json_object_object_foreach(ev, k, v) {
		if (strcmp(k, "event"))
			printf(" %s=%s", k, json_object_get_string(v));
	}
	putchar('\n');
}

static void print_result(const char *cmd, json_object *res)
{
	if (!strcmp(cmd, "status")) {
		ctl_print_status(stdout, res);
		return;
	}
	if (!strcmp(cmd, "stats")) {
		ctl_print_stats(stdout, res);
		return;
	}
	json_object_object_foreach(res, k, v)
		printf("%s: %s\n", k, json_object_get_string(v));
}

/* One answer line: printed; returns the exit status. */
static int handle_answer(const char *cmd, const char *line, bool as_json)
{
	json_object *o = json_tokener_parse(line);
	json_object *err, *res;
	int status = 0;

	if (!o) {
		fprintf(stderr, "cvisor ctl: the server sent no JSON: %.200s\n",
			line);
		return EXIT_ERROR_REPLY;
	}
	if (json_object_object_get_ex(o, "error", &err)) {
		status = EXIT_ERROR_REPLY;
		if (as_json)
			puts(line);
		else
			fprintf(stderr, "cvisor ctl: %s: %s\n",
				json_object_get_string(
					json_object_object_get(err, "code")),
				json_object_get_string(
					json_object_object_get(err, "message")));
	} else if (as_json) {
		puts(line);
	} else if (json_object_object_get_ex(o, "result", &res)) {
		print_result(cmd, res);
	} else if (json_object_object_get_ex(o, "event", NULL)) {
		print_event(o);
	}
	json_object_put(o);
	fflush(stdout);
	return status;
}

static char *request_line(const char *cmd, int argc, char **argv)
{
	json_object *req = json_object_new_object();
	char *s;

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (argc > 0) {
		json_object *args = json_object_new_array();

		for (int i = 0; i < argc; i++)
			json_object_array_add(args,
					      json_object_new_string(argv[i]));
		json_object_object_add(req, "args", args);
	}
	s = xstrdup(json_object_to_json_string_ext(req,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	return s;
}

int ctl_main(int argc, char **argv)
{
	struct reader r = { .fd = -1 };
	bool as_json = false;
	const char *cmd;
	char *req, *line;
	size_t used;
	int status;

	if (argc > 0 && !strcmp(argv[0], "--json")) {
		as_json = true;
		argc--, argv++;
	}
	if (argc < 2)
		return usage();
	cmd = argv[1];
	r.fd = connect_to(argv[0]);
	if (r.fd < 0)
		return EXIT_UNAVAILABLE;
	req = request_line(cmd, argc - 2, argv + 2);
	if (!send_all(r.fd, req, strlen(req)) || !send_all(r.fd, "\n", 1)) {
		fprintf(stderr, "cvisor ctl: %s: %s\n", argv[0],
			strerror(errno));
		free(req);
		close(r.fd);
		return EXIT_UNAVAILABLE;
	}
	free(req);
	line = read_line(&r, &used);
	if (!line) {
		fprintf(stderr, "cvisor ctl: %s: no answer\n", argv[0]);
		status = EXIT_UNAVAILABLE;
	} else {
		status = handle_answer(cmd, line, as_json);
		drop_line(&r, used);
	}
	/* subscribe: the events, until the VM's process goes away */
	while (!status && !strcmp(cmd, "subscribe") &&
	       (line = read_line(&r, &used))) {
		handle_answer(cmd, line, as_json);
		drop_line(&r, used);
	}
	free(r.buf);
	close(r.fd);
	return status;
}
