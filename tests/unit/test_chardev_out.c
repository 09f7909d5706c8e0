/* chardev output never blocks (issue: a console consumer that stops
 * reading froze the vCPU in write()), and `|cmd` children inherit nothing
 * and die with us. alarm() only turns a hang (the old behaviour) into a
 * failure; no result depends on timing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "backends/chardev.h"
#include "event/loop.h"

#define BIG (1024 * 1024)

static char *tmp_path(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/tmp/cvisor-cdout-%s-%d", what, getpid());
	unlink(buf);
	return buf;
}

/* A chardev writing into a FIFO whose read end the test holds (and reads
 * only when it says so). */
struct fifo {
	char path[64];
	struct event_loop *l;
	struct chardev *c;
	int rd;
};

static void fifo_open(struct fifo *f, const char *name)
{
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT };

	alarm(30);
	f->l = event_loop_new();
	hd.path = tmp_path(f->path, sizeof(f->path), name);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	f->rd = open(f->path, O_RDONLY | O_NONBLOCK);
	f->c = chardev_open(&hd, 1, f->l);
	assert_non_null(f->c);
}

static void fifo_close(struct fifo *f)
{
	chardev_close(f->c);
	event_loop_free(f->l);
	close(f->rd);
	unlink(f->path);
	alarm(0);
}

/* A FIFO whose reader never reads: the writer must not block, the
 * overflow is dropped and counted, and what the buffer held arrives in
 * order once the reader reads. */
static void test_stalled_fifo(void **state)
{
	static uint8_t big[BIG], got[BIG];
	struct fifo f;
	size_t total = 0;

	fifo_open(&f, "fifo");
	for (size_t i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 12));
	for (size_t off = 0; off < BIG; off += 4096)
		assert_int_equal(chardev_write(f.c, big + off, 4096), 4096);
	for (int i = 0; i < 8; i++)
		event_loop_poll(f.l, 0);
	assert_true(chardev_dropped(f.c) > 0);
	assert_true(chardev_dropped(f.c) < BIG);
	/* the reader catches up: the kept prefix arrives intact */
	for (int idle = 0; idle < 1000; ) {
		ssize_t n = read(f.rd, got + total, BIG - total);

		if (n > 0) {
			total += n;
			idle = 0;
		} else {
			idle++;
		}
		event_loop_poll(f.l, 0);
	}
	assert_int_equal(total + chardev_dropped(f.c), BIG);
	assert_memory_equal(got, big, total);
	fifo_close(&f);
}

struct tx_wait {
	int calls;
};

static void tx_ready(void *opaque)
{
	((struct tx_wait *)opaque)->calls++;
}

/* write_some takes only what fits, never drops, and says when there is
 * room again. */
static void test_write_some_backpressure(void **state)
{
	static uint8_t big[BIG];
	struct tx_wait w = { 0 };
	struct fifo f;
	size_t took = 0, n;
	char drain[65536];

	fifo_open(&f, "fifo2");
	chardev_set_tx_ready(f.c, tx_ready, &w);
	do {
		n = chardev_write_some(f.c, big, 4096);
		took += n;
		event_loop_poll(f.l, 0);
	} while (n == 4096 && took < BIG);
	assert_true(took < BIG);
	assert_int_equal(chardev_dropped(f.c), 0);
	assert_int_equal(w.calls, 0);
	while (read(f.rd, drain, sizeof(drain)) > 0)
		event_loop_poll(f.l, 0);
	for (int i = 0; i < 4 && !w.calls; i++)
		event_loop_poll(f.l, 0);
	assert_int_equal(w.calls, 1);
	fifo_close(&f);
}

static size_t slurp(const char *path, char *buf, size_t len);

/* A command that never reads and ignores SIGTERM: closing is bounded, and
 * what it started goes too (its process group is killed). We are the
 * subreaper, so its orphaned sleep comes to us to be waited for. */
static void test_close_stalled_command(void **state)
{
	struct event_loop *l = event_loop_new();
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT, .is_pipe = true };
	static uint8_t big[BIG];
	char pidp[64], cmd[160], buf[32];
	struct chardev *c;
	int status;
	pid_t sleeper;

	alarm(30);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	snprintf(cmd, sizeof(cmd), "|trap '' TERM; sleep 1000 & echo $! > %s;"
		 " wait", tmp_path(pidp, sizeof(pidp), "sleeper"));
	hd.path = cmd;
	c = chardev_open(&hd, 1, l);
	assert_non_null(c);
	while (!slurp(pidp, buf, sizeof(buf)) || !strchr(buf, '\n'))
		usleep(1000);           /* until the command has started */
	sleeper = atoi(buf);
	assert_int_equal(chardev_write(c, big, BIG), BIG);
	event_loop_poll(l, 0);
	chardev_close(c);
	assert_int_equal(waitpid(sleeper, &status, 0), sleeper);
	assert_true(WIFSIGNALED(status));
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	event_loop_free(l);
	unlink(pidp);
	alarm(0);
}

static size_t slurp(const char *path, char *buf, size_t len)
{
	FILE *f = NULL;
	size_t n = 0;

	/* the command has exited once close() returned: reaped */
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return n;
}

/* The command gets no fd of ours but 0-2, and a minimal environment. */
static void test_command_inherits_nothing(void **state)
{
	char envp[64], fdp[64], cmd[256], buf[8192], leak[16];
	struct cfg_hostdev hd = { .dir = HOSTDEV_OUT, .is_pipe = true };
	int fd = open("/dev/null", O_RDONLY);   /* not O_CLOEXEC */
	struct chardev *c;

	assert_true(fd > 2);
	setenv("CVISOR_TEST_SECRET", "hunter2", 1);
	snprintf(cmd, sizeof(cmd), "|env > %s; ls /proc/$$/fd > %s",
		 tmp_path(envp, sizeof(envp), "env"),
		 tmp_path(fdp, sizeof(fdp), "fds"));
	hd.path = cmd;
	c = chardev_open(&hd, 1, NULL);
	assert_non_null(c);
	chardev_close(c);
	slurp(envp, buf, sizeof(buf));
	assert_non_null(strstr(buf, "PATH="));
	assert_null(strstr(buf, "CVISOR_TEST_SECRET"));
	slurp(fdp, buf, sizeof(buf));
	snprintf(leak, sizeof(leak), "%d\n", fd);
	assert_non_null(strstr(buf, "0\n"));
	assert_null(strstr(buf, leak));
	close(fd);
	unsetenv("CVISOR_TEST_SECRET");
	unlink(envp);
	unlink(fdp);
}

/* cvisor killed with SIGKILL takes its `|cmd` with it. We are the
 * subreaper, so the orphan comes to us and waitpid sees how it ended. */
static void test_command_dies_with_us(void **state)
{
	char pidp[64], cmd[128], buf[32];
	int ready[2], status;
	pid_t vmm, orphan;
	char b;

	alarm(30);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	assert_int_equal(pipe(ready), 0);
	snprintf(cmd, sizeof(cmd), "|echo $$ > %s; exec sleep 1000",
		 tmp_path(pidp, sizeof(pidp), "pid"));
	vmm = fork();
	if (vmm == 0) {
		struct cfg_hostdev hd = { .dir = HOSTDEV_OUT, .is_pipe = true,
					  .path = cmd };

		if (!chardev_open(&hd, 1, NULL))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(ready[0], &b, 1), 1);
	/* the command runs (so it is past PR_SET_PDEATHSIG): now kill us */
	while (!slurp(pidp, buf, sizeof(buf)) || !strchr(buf, '\n'))
		usleep(1000);
	kill(vmm, SIGKILL);
	assert_int_equal(waitpid(vmm, &status, 0), vmm);
	orphan = waitpid(-1, &status, 0);      /* the command, reparented */
	assert_true(orphan > 0);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	close(ready[0]);
	close(ready[1]);
	unlink(pidp);
	alarm(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalled_fifo),
		cmocka_unit_test(test_write_some_backpressure),
		cmocka_unit_test(test_close_stalled_command),
		cmocka_unit_test(test_command_inherits_nothing),
		cmocka_unit_test(test_command_dies_with_us),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
