/* The control socket's protocol, without KVM: a VM shell (no vCPUs) whose
 * event loop the test pumps itself, and real UNIX sockets as clients.
 * Good requests, malformed JSON, oversized lines, unknown commands, many
 * clients, a client that never reads, stop/reset, events, the socket
 * file's life (mode, stale, live, removal) and `cvisor ctl`'s exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"
#include "core/exit_codes.h"
#include "ctl/ctl.h"
#include "ctl/ctl_priv.h"
#include "event/loop.h"
#include "vm/vm.h"

/* Hang guard only: each wait ends on the event it waits for. */
#define MAX_ROUNDS 2000

static struct vm_config cfg;
static char dir[32], path[64];
static int power_calls;
static enum power_request power_last;

static void fake_power(void *ctx, enum power_request req, int status)
{
	struct vm *vm = ctx;

	power_calls++;
	power_last = req;
	if (req == POWER_RESET)
		vm_request_stop(vm, VM_STOP_RESET, 0);
}

static struct vm *fake_vm(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	snprintf(cfg.system, sizeof(cfg.system), "unit");
	vm->cfg = &cfg;
	vm->loop = event_loop_new();
	vm->stop_fd = eventfd(0, EFD_CLOEXEC);
	pthread_mutex_init(&vm->stop_lock, NULL);
	vm->stop = VM_RUNNING;
	guest_mem_init(&vm->mem);
	vm->env.power = fake_power;
	vm->env.ctx = vm;
	return vm;
}

static void free_vm(struct vm *vm)
{
	event_loop_free(vm->loop);
	close(vm->stop_fd);
	pthread_mutex_destroy(&vm->stop_lock);
	free(vm);
}

struct fixture {
	struct vm *vm;
	struct ctl_server *srv;
};

static struct fixture *cur;

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(dir, sizeof(dir), "/tmp/cvisor-ctl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/api.sock", dir);
	f->vm = fake_vm();
	f->srv = ctl_server_open(path);
	assert_non_null(f->srv);
	ctl_server_attach(f->srv, f->vm);
	power_calls = 0;
	cur = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_server_close(f->srv);
	free_vm(f->vm);
	cur = NULL;
	rmdir(dir);
	free(f);
	return 0;
}

/* Connect, and let the server accept (the backlog is finite). */
static int client(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (cur)
		event_loop_poll(cur->vm->loop, 0);
	return fd;
}

static void send_str(int fd, const char *s)
{
	size_t n = strlen(s);

	assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Pump the server until a whole line arrives on fd; NULL on EOF. */
static json_object *read_reply(struct fixture *f, int fd)
{
	static char buf[1 << 20];
	static size_t len;
	static int len_fd = -1;

	if (len_fd != fd) {
		len = 0;
		len_fd = fd;
	}
	for (int round = 0; round < MAX_ROUNDS; round++) {
		char *nl = memchr(buf, '\n', len);
		ssize_t n;

		if (nl) {
			json_object *o;

			*nl = '\0';
			o = json_tokener_parse(buf);
			assert_non_null(o);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
			return o;
		}
		event_loop_poll(f->vm->loop, 10);
		n = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return NULL;
		if (n > 0)
			len += (size_t)n;
	}
	fail_msg("no reply");
	return NULL;
}

static json_object *ask(struct fixture *f, int fd, const char *req)
{
	send_str(fd, req);
	return read_reply(f, fd);
}

static const char *err_code(json_object *o)
{
	json_object *e;

	if (!json_object_object_get_ex(o, "error", &e))
		return NULL;
	return json_object_get_string(json_object_object_get(e, "code"));
}

static json_object *res(json_object *o)
{
	json_object *r;

	assert_true(json_object_object_get_ex(o, "result", &r));
	return r;
}

static void expect_error(struct fixture *f, int fd, const char *req,
			 const char *code)
{
	json_object *o = ask(f, fd, req);

	assert_non_null(o);
	assert_non_null(err_code(o));
	assert_string_equal(err_code(o), code);
	json_object_put(o);
}

static void test_status(void **state)
{
	struct fixture *f = *state;
	int fd = client();
	json_object *o = ask(f, fd, "{\"cmd\": \"status\", \"id\": 42}\n");
	json_object *r = res(o);

	assert_string_equal(json_object_get_string(
		json_object_object_get(r, "state")), "running");
	assert_string_equal(json_object_get_string(
		json_object_object_get(r, "system")), "unit");
	assert_true(json_object_is_type(json_object_object_get(r, "vcpus"),
					json_type_array));
	assert_true(json_object_is_type(json_object_object_get(r, "memory"),
					json_type_array));
	assert_true(json_object_is_type(json_object_object_get(r, "devices"),
					json_type_array));
	assert_int_equal(json_object_get_int(json_object_object_get(o, "id")),
			 42);
	json_object_put(o);
	/* two requests in one write: two answers, in order */
	send_str(fd, "{\"cmd\":\"help\",\"id\":1}\n{\"cmd\":\"stats\",\"id\":2}\n");
	o = read_reply(f, fd);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "id")), 1);
	json_object_put(o);
	o = read_reply(f, fd);
	assert_int_equal(json_object_get_int(json_object_object_get(o, "id")), 2);
	assert_non_null(json_object_object_get(res(o), "vcpus"));
	json_object_put(o);
	close(fd);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	int fd = client();
	json_object *o;

	expect_error(f, fd, "{\"cmd\": \n", CTL_E_PARSE);
	expect_error(f, fd, "not json at all\n", CTL_E_PARSE);
	expect_error(f, fd, "{\"cmd\":\"status\"} trailing\n", CTL_E_PARSE);
	expect_error(f, fd, "\n", CTL_E_PARSE);
	expect_error(f, fd, "[1, 2]\n", CTL_E_REQUEST);
	expect_error(f, fd, "{\"command\": \"status\"}\n", CTL_E_REQUEST);
	expect_error(f, fd, "{\"cmd\": 7}\n", CTL_E_REQUEST);
	expect_error(f, fd, "{\"cmd\": \"reboot-the-host\"}\n", CTL_E_UNKNOWN);
	/* a NUL inside the line is no way around the parser */
	assert_int_equal(send(fd, "{\"cmd\":\"status\"}\0x\n", 19,
			      MSG_NOSIGNAL), 19);
	o = read_reply(f, fd);
	assert_string_equal(err_code(o), CTL_E_PARSE);
	json_object_put(o);
	/* after all that, the connection still works */
	o = ask(f, fd, "{\"cmd\": \"status\"}\r\n");
	assert_null(err_code(o));
	json_object_put(o);
	close(fd);
}

static void test_oversized(void **state)
{
	struct fixture *f = *state;
	int fd = client();
	size_t n = CTL_LINE_MAX - 1;
	char *big = malloc(n + 2);
	json_object *o;

	/* exactly the limit (newline included): served */
	memset(big, ' ', n);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	big[n] = '\n';
	big[n + 1] = '\0';
	o = ask(f, fd, big);
	assert_null(err_code(o));
	json_object_put(o);
	/* one byte more: an error, then the server hangs up */
	memset(big, ' ', n + 1);
	big[n + 1] = '\0';
	send_str(fd, big);
	o = read_reply(f, fd);
	assert_string_equal(err_code(o), CTL_E_TOO_LONG);
	json_object_put(o);
	assert_null(read_reply(f, fd));
	free(big);
	close(fd);
	/* the server goes on */
	fd = client();
	o = ask(f, fd, "{\"cmd\":\"status\"}\n");
	assert_null(err_code(o));
	json_object_put(o);
	close(fd);
}

static void test_many_clients(void **state)
{
	struct fixture *f = *state;
	int fds[CTL_MAX_CLIENTS + 1];
	json_object *o;

	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		char req[64];

		fds[i] = client();
		snprintf(req, sizeof(req), "{\"cmd\":\"status\",\"id\":%d}\n", i);
		send_str(fds[i], req);
	}
	/* answered in any order the loop likes, each with its own id */
	for (int i = CTL_MAX_CLIENTS - 1; i >= 0; i--) {
		o = read_reply(f, fds[i]);
		assert_null(err_code(o));
		assert_int_equal(json_object_get_int(
			json_object_object_get(o, "id")), i);
		json_object_put(o);
	}
	/* one too many: told so and closed; the others are unharmed */
	fds[CTL_MAX_CLIENTS] = client();
	o = read_reply(f, fds[CTL_MAX_CLIENTS]);
	assert_string_equal(err_code(o), CTL_E_FULL);
	json_object_put(o);
	assert_null(read_reply(f, fds[CTL_MAX_CLIENTS]));
	o = ask(f, fds[0], "{\"cmd\":\"help\"}\n");
	assert_null(err_code(o));
	json_object_put(o);
	/* a vanished client frees its slot */
	close(fds[1]);
	close(fds[CTL_MAX_CLIENTS]);
	fds[1] = client();
	o = ask(f, fds[1], "{\"cmd\":\"status\"}\n");
	assert_null(err_code(o));
	json_object_put(o);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		close(fds[i]);
}

/* A client that sends and never reads: its answers pile up to the cap,
 * then it is dropped; meanwhile another client is served, and nothing
 * ever blocks (the test is single-threaded: a blocking send would hang
 * it). */
static void test_client_never_reads(void **state)
{
	struct fixture *f = *state;
	int hog = client(), good = client();
	static const char req[] = "{\"cmd\":\"help\"}\n";
	size_t sent = 0, reply_len;
	bool dropped = false;
	json_object *o;

	o = ask(f, good, req);
	reply_len = strlen(json_object_to_json_string_ext(o,
			   JSON_C_TO_STRING_PLAIN)) + 1;
	json_object_put(o);
	fcntl(hog, F_SETFL, O_NONBLOCK);
	for (int round = 0; round < 100000 && !dropped; round++) {
		ssize_t n = send(hog, req, sizeof(req) - 1, MSG_NOSIGNAL);

		if (n > 0)
			sent += (size_t)n;
		else if (errno == EPIPE || errno == ECONNRESET)
			dropped = true;
		event_loop_poll(f->vm->loop, 0);
		if (f->srv->dropped)
			dropped = true;
	}
	assert_true(dropped);
	assert_int_equal(f->srv->dropped, 1);
	/* it was dropped for asking more than the cap's worth of answers
	 * (the socket's own buffer holds some), not before */
	assert_true(sent / (sizeof(req) - 1) * reply_len > CTL_OUT_MAX);
	o = ask(f, good, "{\"cmd\":\"stats\"}\n");
	assert_int_equal(json_object_get_int(json_object_object_get(
		json_object_object_get(res(o), "control"), "clients_dropped")),
		1);
	json_object_put(o);
	close(hog);
	close(good);
}

static struct ctl_client *server_client(struct fixture *f, bool subscribed)
{
	for (unsigned i = 0; i < CTL_MAX_CLIENTS; i++)
		if (f->srv->clients[i] &&
		    f->srv->clients[i]->subscribed == subscribed)
			return f->srv->clients[i];
	return NULL;
}

/* A command whose broadcast overflows its own sender's queue (a resume
 * from a subscribed client that reads nothing): the client is dropped,
 * and the reply the command then sends finds it dead, not freed (it was
 * a use-after-free, which ASan reports); it is freed once the handler
 * is done. The queue is brought to its limit directly: the socket's own
 * buffer is filled first, so nothing of it drains meanwhile. */
static void test_dropped_inside_command(void **state)
{
	struct fixture *f = *state;
	int hog = client();
	static const char req[] = "{\"cmd\":\"help\"}\n";
	struct ctl_client *c;
	json_object *o;

	o = ask(f, hog, "{\"cmd\":\"subscribe\"}\n");
	json_object_put(o);
	c = server_client(f, true);
	assert_non_null(c);
	fcntl(hog, F_SETFL, O_NONBLOCK);
	for (int round = 0; round < 100000 && c->out_len == c->out_off;
	     round++) {
		assert_true(send(hog, req, sizeof(req) - 1, MSG_NOSIGNAL) > 0);
		event_loop_poll(f->vm->loop, 0);
	}
	assert_true(c->out_len > c->out_off);     /* the socket is full */
	c->out = realloc(c->out, CTL_OUT_MAX);
	assert_non_null(c->out);
	c->out_cap = CTL_OUT_MAX;
	c->out_len = CTL_OUT_MAX - 4;
	c->out_off = 0;
	pthread_mutex_init(&f->vm->pause_lock, NULL);
	pthread_cond_init(&f->vm->pause_cond, NULL);
	f->vm->pause_ready = true;
	f->vm->run_state = VM_STATE_PAUSED;
	send_str(hog, "{\"cmd\":\"resume\"}\n");
	for (int round = 0; round < MAX_ROUNDS && !f->srv->dropped; round++)
		event_loop_poll(f->vm->loop, 10);
	assert_int_equal(f->srv->dropped, 1);
	assert_null(server_client(f, true));      /* freed after */
	assert_int_equal(f->vm->run_state, VM_STATE_RUNNING);
	f->vm->pause_ready = false;
	pthread_cond_destroy(&f->vm->pause_cond);
	pthread_mutex_destroy(&f->vm->pause_lock);
	close(hog);
}

/* A client that stops reading (half-closed, its answers unread) is no
 * longer watched for input: the loop does not spin on it (EPOLLIN stayed
 * armed, level-triggered, and nothing read it). */
static void test_closing_not_watched_for_input(void **state)
{
	struct fixture *f = *state;
	int hog = client();
	static const char req[] = "{\"cmd\":\"help\"}\n";
	struct ctl_client *c;

	fcntl(hog, F_SETFL, O_NONBLOCK);
	event_loop_poll(f->vm->loop, 10);
	c = server_client(f, false);
	assert_non_null(c);
	for (int round = 0; round < 100000 && c->out_len == c->out_off;
	     round++) {
		assert_true(send(hog, req, sizeof(req) - 1, MSG_NOSIGNAL) > 0);
		event_loop_poll(f->vm->loop, 0);
	}
	shutdown(hog, SHUT_WR);
	for (int round = 0; round < MAX_ROUNDS && !c->closing; round++)
		event_loop_poll(f->vm->loop, 10);
	assert_true(c->closing);
	assert_int_equal(c->mask, EPOLLOUT);
	/* nothing to do for it now: a poll waits, it does not spin */
	assert_int_equal(event_loop_poll(f->vm->loop, 0), 0);
	close(hog);
}

static void test_stop_reset_events(void **state)
{
	struct fixture *f = *state;
	int sub = client(), fd = client();
	json_object *o;

	o = ask(f, sub, "{\"cmd\":\"subscribe\"}\n");
	assert_string_equal(json_object_get_string(
		json_object_object_get(res(o), "state")), "running");
	json_object_put(o);
	/* paused/resumed need vCPUs: a shell VM refuses, politely */
	expect_error(f, fd, "{\"cmd\":\"pause\"}\n", CTL_E_BUSY);
	o = ask(f, fd, "{\"cmd\":\"reset\"}\n");
	assert_string_equal(json_object_get_string(
		json_object_object_get(res(o), "state")), "resetting");
	json_object_put(o);
	assert_int_equal(power_calls, 1);
	assert_int_equal(power_last, POWER_RESET);
	assert_int_equal(f->vm->stop, VM_STOP_RESET);
	/* the VM goes; subscribers hear "reset"; clients stay connected */
	ctl_server_detach(f->srv);
	o = read_reply(f, sub);
	assert_string_equal(json_object_get_string(
		json_object_object_get(o, "event")), "reset");
	json_object_put(o);
	free_vm(f->vm);
	f->vm = fake_vm();
	ctl_server_attach(f->srv, f->vm);
	o = ask(f, fd, "{\"cmd\":\"stop\"}\n");
	assert_null(err_code(o));
	json_object_put(o);
	assert_int_equal(f->vm->stop, VM_STOP_EXIT);
	assert_int_equal(f->vm->exit_status, CV_EXIT_OK);
	ctl_server_detach(f->srv);
	o = read_reply(f, sub);
	assert_string_equal(json_object_get_string(
		json_object_object_get(o, "event")), "stop");
	assert_int_equal(json_object_get_int(
		json_object_object_get(o, "status")), 0);
	json_object_put(o);
	ctl_server_attach(f->srv, f->vm);
	close(sub);
	close(fd);
}

/* A stop signal (or `stop`) that lands while a reset is under way ends
 * the run: the rebuilt VM must not run on (a SIGTERM between a triple
 * fault and the rebuild was lost this way). A reset never undoes a stop. */
static void test_stop_during_reset(void **state)
{
	struct vm *vm = fake_vm();

	(void)state;
	vm_request_stop(vm, VM_STOP_RESET, 0);
	vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_TERMINATED);
	assert_int_equal(vm->stop, VM_STOP_EXIT);
	assert_int_equal(vm->exit_status, CV_EXIT_TERMINATED);
	vm_request_stop(vm, VM_STOP_RESET, 0);
	assert_int_equal(vm->stop, VM_STOP_EXIT);
	vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_OK);   /* the first stop's */
	assert_int_equal(vm->exit_status, CV_EXIT_TERMINATED);
	free_vm(vm);
}

/* A reset asked for after the power button (the guest reboots instead of
 * powering off) stops the VM: the rebuilt one had no deadline, so a
 * guest that always resets outlived every SIGTERM. */
static void test_reset_while_powering_down(void **state)
{
	struct vm *vm = fake_vm();

	(void)state;
	vm->powering_down = true;
	vm_request_stop(vm, VM_STOP_RESET, 0);
	assert_int_equal(vm->stop, VM_STOP_EXIT);
	assert_int_equal(vm->exit_status, CV_EXIT_REBOOT);
	free_vm(vm);
}

/* The operator's `reset` during a powerdown resets (the rule above is
 * for the guest's). */
static void test_ctl_reset_ends_powerdown(void **state)
{
	struct fixture *f = *state;
	int fd = client();
	json_object *o;

	f->vm->powering_down = true;
	o = ask(f, fd, "{\"cmd\":\"reset\"}\n");
	assert_string_equal(json_object_get_string(json_object_object_get(
		res(o), "state")), "resetting");
	assert_int_equal(f->vm->stop, VM_STOP_RESET);
	json_object_put(o);
	close(fd);
}

static void test_socket_file(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char stale[80];
	struct stat st;
	struct ctl_server *s2;
	int fd;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* live: a second server is refused and leaves the first alone */
	assert_null(ctl_server_open(path));
	assert_int_equal(lstat(path, &st), 0);
	/* stale: a socket file nobody serves is replaced */
	snprintf(stale, sizeof(stale), "%s/stale.sock", dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", stale);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	s2 = ctl_server_open(stale);
	assert_non_null(s2);
	/* not a socket: refused, untouched */
	ctl_server_close(s2);
	assert_int_not_equal(lstat(stale, &st), 0);   /* removed on close */
	fd = open(stale, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_null(ctl_server_open(stale));
	assert_int_equal(lstat(stale, &st), 0);
	unlink(stale);
	(void)f;
}

/* `cvisor ctl`: 0 for a result, 1 for an error answer, 69 for nobody
 * there, 64 for bad usage. The loop runs on its own thread here. */
static void test_client_exit_status(void **state)
{
	struct fixture *f = *state;
	char *good[] = { path, "status" };
	char *json[] = { "--json", path, "help" };
	char *bad[] = { path, "no-such-command" };
	char nobody[80];
	char *gone[] = { nobody, "status" };
	char *usage[] = { path };
	int out = dup(1), null = open("/dev/null", O_WRONLY);

	snprintf(nobody, sizeof(nobody), "%s/nobody.sock", dir);
	assert_int_equal(event_loop_start(f->vm->loop), 0);
	fflush(stdout);
	dup2(null, 1);           /* the answers' text is not the point */
	assert_int_equal(ctl_main(2, good), 0);
	assert_int_equal(ctl_main(3, json), 0);
	assert_int_equal(ctl_main(2, bad), 1);
	assert_int_equal(ctl_main(2, gone), 69);
	assert_int_equal(ctl_main(1, usage), 64);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	close(null);
	event_loop_stop(f->vm->loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_never_reads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dropped_inside_command,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_closing_not_watched_for_input,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_reset_events, setup,
						teardown),
		cmocka_unit_test(test_stop_during_reset),
		cmocka_unit_test(test_reset_while_powering_down),
		cmocka_unit_test_setup_teardown(test_ctl_reset_ends_powerdown,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_exit_status, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
