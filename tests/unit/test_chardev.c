/* chardev backend: escapes on stdin, flow control, files, pipes, ptys. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "backends/chardev.h"
#include "event/loop.h"

struct sink {
	uint8_t got[256];
	size_t len;
	size_t budget;          /* bytes the "device" still has room for */
	int quits;
};

static size_t take(void *opaque, const uint8_t *buf, size_t len)
{
	struct sink *s = opaque;
	size_t n = len < s->budget ? len : s->budget;

	memcpy(s->got + s->len, buf, n);
	s->len += n;
	s->budget -= n;
	return n;
}

static void quit(void *opaque)
{
	((struct sink *)opaque)->quits++;
}

static void pump(struct event_loop *l)
{
	for (int i = 0; i < 5; i++)
		event_loop_poll(l, 20);
}

static char *tmp_path(char *buf, const char *tag)
{
	sprintf(buf, "/tmp/cvisor-cd-%s-%d", tag, getpid());
	unlink(buf);
	return buf;
}

/* Run with a pipe as stdin; returns the pipe's write end. */
static int pipe_stdin(int *saved)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	*saved = dup(0);
	assert_int_equal(dup2(p[0], 0), 0);
	close(p[0]);
	return p[1];
}

static void restore_stdin(int saved)
{
	dup2(saved, 0);
	close(saved);
}

static struct chardev *open_stdin(struct event_loop *l, struct sink *s)
{
	struct cfg_hostdev hd = { .dir = HOSTDEV_IN, .path = "-" };
	struct chardev *c = chardev_open(&hd, 1, l);

	assert_non_null(c);
	assert_true(chardev_has_input(c));
	chardev_set_quit(c, quit, s);
	chardev_set_rx(c, take, s);
	return c;
}

static void test_escape_quit(void **state)
{
	struct event_loop *l = event_loop_new();
	struct sink s = { .budget = 256 };
	int saved, w = pipe_stdin(&saved);
	struct chardev *c = open_stdin(l, &s);

	assert_int_equal(write(w, "ab\x01xcd", 6), 6);
	pump(l);
	assert_int_equal(s.quits, 1);
	assert_int_equal(s.len, 4);
	assert_memory_equal(s.got, "abcd", 4);
	chardev_close(c);
	event_loop_free(l);
	close(w);
	restore_stdin(saved);
}

static void test_escape_ctrl_a(void **state)
{
	struct event_loop *l = event_loop_new();
	struct sink s = { .budget = 256 };
	int saved, w = pipe_stdin(&saved);
	struct chardev *c = open_stdin(l, &s);

	/* Ctrl-A Ctrl-A split across two reads, then Ctrl-A y. */
	assert_int_equal(write(w, "1\x01", 2), 2);
	pump(l);
	assert_int_equal(s.len, 1);               /* the escape waits */
	assert_int_equal(write(w, "\x01" "2\x01y", 4), 4);
	pump(l);
	assert_int_equal(s.quits, 0);
	assert_int_equal(s.len, 5);
	assert_memory_equal(s.got, "1\x01" "2\x01y", 5);
	chardev_close(c);
	event_loop_free(l);
	close(w);
	restore_stdin(saved);
}

static void test_stdin_claimed_once(void **state)
{
	struct cfg_hostdev hd = { .dir = HOSTDEV_IN, .path = "-" };
	struct event_loop *l = event_loop_new();
	int saved, w = pipe_stdin(&saved);
	struct chardev *a = chardev_open(&hd, 1, l), *b;

	assert_non_null(a);
	b = chardev_open(&hd, 1, l);
	assert_null(b);
	chardev_close(a);
	b = chardev_open(&hd, 1, l);              /* released at close */
	assert_non_null(b);
	chardev_close(b);
	event_loop_free(l);
	close(w);
	restore_stdin(saved);
}

static void test_flow_control(void **state)
{
	char path[64];
	struct cfg_hostdev hd = { .dir = HOSTDEV_IN,
				  .path = tmp_path(path, "fifo") };
	struct event_loop *l = event_loop_new();
	struct sink s = { .budget = 3 };
	struct chardev *c;
	int w;

	assert_int_equal(mkfifo(path, 0600), 0);
	w = open(path, O_RDWR);
	c = chardev_open(&hd, 1, l);
	assert_non_null(c);
	chardev_set_rx(c, take, &s);
	assert_int_equal(write(w, "0123456789", 10), 10);
	pump(l);
	assert_int_equal(s.len, 3);
	/* Paused: more input does not reach the full device. */
	assert_int_equal(write(w, "ab", 2), 2);
	pump(l);
	assert_int_equal(s.len, 3);
	s.budget = 4;
	chardev_rx_ready(c);
	pump(l);
	assert_int_equal(s.len, 7);
	s.budget = 100;
	chardev_rx_ready(c);
	pump(l);
	assert_int_equal(s.len, 12);
	assert_memory_equal(s.got, "0123456789ab", 12);
	/* No escape handling off stdin: Ctrl-A x is data. */
	assert_int_equal(write(w, "\x01x", 2), 2);
	pump(l);
	assert_int_equal(s.len, 14);
	chardev_close(c);
	event_loop_free(l);
	close(w);
	unlink(path);
}

static void test_file_input(void **state)
{
	char path[64];
	struct cfg_hostdev hd = { .dir = HOSTDEV_IN,
				  .path = tmp_path(path, "in") };
	struct event_loop *l = event_loop_new();
	struct sink s = { .budget = 2 };
	struct chardev *c;
	FILE *f = fopen(path, "w");

	fputs("xyz", f);
	fclose(f);
	c = chardev_open(&hd, 1, l);
	assert_non_null(c);
	chardev_set_rx(c, take, &s);
	pump(l);                  /* a regular file: not pollable */
	assert_int_equal(s.len, 2);
	s.budget = 10;
	chardev_rx_ready(c);
	pump(l);
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.got, "xyz", 3);
	chardev_close(c);
	event_loop_free(l);
	unlink(path);
}

static void test_file_output(void **state)
{
	char path[64], buf[32] = { 0 };
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT,
				  .path = tmp_path(path, "out") };
	struct chardev *c;
	FILE *f = fopen(path, "w");
	int fd;

	fputs("old contents, longer", f);
	fclose(f);
	c = chardev_open(&hd, 1, NULL);
	assert_non_null(c);
	assert_false(chardev_has_input(c));
	assert_int_equal(chardev_write(c, "hello", 5), 5);
	chardev_close(c);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 5);   /* truncated */
	assert_string_equal(buf, "hello");
	close(fd);
	unlink(path);
}

static void test_pipe_command(void **state)
{
	char path[64], cmd[128], buf[32] = { 0 };
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT, .is_pipe = true,
				  .path = cmd };
	struct chardev *c;
	int fd;

	snprintf(cmd, sizeof(cmd), "|tr a-z A-Z > %s",
		 tmp_path(path, "pipe"));
	c = chardev_open(&hd, 1, NULL);
	assert_non_null(c);
	assert_int_equal(chardev_write(c, "piped\n", 6), 6);
	chardev_close(c);          /* EOF, then the command is reaped */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "PIPED\n");
	close(fd);
	unlink(path);
}

/* Writes until `true` has exited and closed the pipe's read end, each
 * taken whole until then. The limit (60 s of CLOCK_MONOTONIC) is a hang
 * guard only: the loop ends when the write fails. */
static void test_pipe_closed(void **state)
{
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT, .is_pipe = true,
				  .path = "true" };
	struct timespec ts = { 0, 10 * 1000 * 1000 }, now, end;
	struct chardev *c = chardev_open(&hd, 1, NULL);
	ssize_t r = 0;

	assert_non_null(c);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 60;
	for (;;) {
		r = chardev_write(c, "x", 1);
		if (r < 0)
			break;
		assert_int_equal(r, 1);           /* taken whole until then */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			fail_msg("the pipe to `true` still open after 60 s");
		nanosleep(&ts, NULL);
	}
	assert_int_equal(r, -EPIPE);              /* dropped, no SIGPIPE */
	assert_int_equal(chardev_write(c, "y", 1), -EPIPE);
	chardev_close(c);
}

static void test_sink(void **state)
{
	struct chardev *c = chardev_open(NULL, 0, NULL);

	assert_non_null(c);
	assert_false(chardev_has_input(c));
	assert_int_equal(chardev_write(c, "gone", 4), 4);
	chardev_rx_ready(c);                      /* harmless */
	chardev_close(c);
}

static void test_pty_never_blocks(void **state)
{
	struct cfg_hostdev hd = { .dir = HOSTDEV_BOTH, .path = "pty" };
	struct event_loop *l = event_loop_new();
	struct chardev *c = chardev_open(&hd, 1, l);
	static uint8_t big[256 * 1024];

	assert_non_null(c);
	assert_true(chardev_has_input(c));
	/* Nobody reads the slave: output is dropped, not waited for. */
	assert_int_equal(chardev_write(c, big, sizeof(big)), sizeof(big));
	chardev_close(c);
	event_loop_free(l);
}

/* A terminal named as hostdev (here a pty's slave; a serial line alike)
 * is not cvisor's controlling terminal: it is made raw all the same (it
 * was left cooked, taken for a terminal of another job). */
static void test_terminal_path_raw(void **state)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;
	struct event_loop *l = event_loop_new();
	struct cfg_hostdev hd = { .dir = HOSTDEV_BOTH };
	struct chardev *c;
	struct termios t;

	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	hd.path = ptsname(m);
	assert_non_null(hd.path);
	c = chardev_open(&hd, 1, l);
	assert_non_null(c);
	s = open(hd.path, O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	assert_int_equal(tcgetattr(s, &t), 0);
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG));
	close(s);
	chardev_close(c);
	event_loop_free(l);
	close(m);
}

static void test_two_outputs_rejected(void **state)
{
	struct cfg_hostdev hd[2] = {
		{ .dir = HOSTDEV_OUT, .path = "/dev/null" },
		{ .dir = HOSTDEV_OUT, .path = "/dev/null" },
	};

	assert_null(chardev_open(hd, 2, NULL));
	hd[1].dir = HOSTDEV_IN;                   /* one in + one out */
	struct chardev *c = chardev_open(hd, 2, NULL);
	assert_non_null(c);
	assert_true(chardev_has_input(c));
	chardev_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_quit),
		cmocka_unit_test(test_escape_ctrl_a),
		cmocka_unit_test(test_stdin_claimed_once),
		cmocka_unit_test(test_flow_control),
		cmocka_unit_test(test_file_input),
		cmocka_unit_test(test_file_output),
		cmocka_unit_test(test_pipe_command),
		cmocka_unit_test(test_pipe_closed),
		cmocka_unit_test(test_sink),
		cmocka_unit_test(test_pty_never_blocks),
		cmocka_unit_test(test_two_outputs_rejected),
		cmocka_unit_test(test_terminal_path_raw),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
