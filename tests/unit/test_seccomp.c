/* The seccomp allowlists: each thread kind is refused what it does not
 * need (the process dies of SIGSYS with a line naming the kind and the
 * call) and still gets what it does. Each case forks a child that loads
 * one kind's filter: a filter cannot be unloaded, so never in the runner.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "sandbox/sandbox.h"

typedef int (*probe_fn)(void);

struct outcome {
	int status;            /* waitpid status */
	char err[512];         /* the child's stderr */
};

/* Run probe in a child under kind's filter; the probe's return value is
 * the exit status (0: the call did what an allowed call does). */
static void run_child(enum sandbox_mode mode, enum sandbox_kind kind,
		      probe_fn probe, struct outcome *o)
{
	int p[2];
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		sandbox_configure(mode, NULL);
		sandbox_enter(kind);
		_exit(probe());
	}
	close(p[1]);
	assert_int_equal(waitpid(pid, &o->status, 0), pid);
	n = read(p[0], o->err, sizeof(o->err) - 1);
	o->err[n > 0 ? n : 0] = '\0';
	close(p[0]);
}

static void expect_refused(enum sandbox_kind kind, probe_fn probe,
			   const char *line)
{
	struct outcome o;

	run_child(SANDBOX_ON, kind, probe, &o);
	if (!WIFSIGNALED(o.status) || WTERMSIG(o.status) != SIGSYS)
		fail_msg("%s: status %#x, not killed by SIGSYS; stderr: %s",
			 sandbox_kind_name(kind), o.status, o.err);
	if (!strstr(o.err, line))
		fail_msg("stderr lacks '%s': %s", line, o.err);
}

static void expect_allowed(enum sandbox_mode mode, enum sandbox_kind kind,
			   probe_fn probe)
{
	struct outcome o;

	run_child(mode, kind, probe, &o);
	if (!WIFEXITED(o.status) || WEXITSTATUS(o.status) != 0)
		fail_msg("%s: status %#x; stderr: %s", sandbox_kind_name(kind),
			 o.status, o.err);
}

/* --- calls no kind but control needs, or none at all ------------------- */

static int do_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

/* The event loop (and so control) may make IPv4/IPv6 sockets for
 * virtio-net's user networking, but no other family. */
static int do_unix_socket(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1;
}

static int do_open(void)
{
	/* read-write: sanitizer builds allow read-only opens (reports) */
	return open("/dev/null", O_RDWR) >= 0 ? 0 : 1;
}

/* Opening a file where a kind may not is refused with EACCES, not fatal:
 * libraries try optional files (libslirp: /etc/resolv.conf). */
static __attribute__((unused)) int do_open_eacces(void)
{
	int fd = open("/dev/null", O_RDWR);

	return fd < 0 && errno == EACCES ? 0 : 1;
}

static __attribute__((unused)) int do_openat_eacces(void)
{
	int fd = openat(AT_FDCWD, "/etc/resolv.conf", O_RDWR | O_CLOEXEC);

	return fd < 0 && errno == EACCES ? 0 : 1;
}

static int do_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	execve("/bin/true", argv, envp);
	return 1;
}

static int do_create_vm(void)
{
	/* Refused by the filter before the kernel looks at the fd. */
	return ioctl(-1, KVM_CREATE_VM, 0) < 0 && errno == EBADF ? 0 : 1;
}

static int do_kvm_run(void)
{
	return ioctl(-1, KVM_RUN, 0) < 0 && errno == EBADF ? 0 : 1;
}

static int do_exec_mmap(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? 0 : 1;
}

#if !defined(__SANITIZE_ADDRESS__)
static int do_ptrace(void)
{
	return syscall(SYS_ptrace, 0, 0, 0, 0) < 0 ? 0 : 1;
}
#endif

/* --- what each kind does all the time ----------------------------------- */

static int do_vcpu_work(void)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (efd < 0 || write(efd, &one, sizeof(one)) != sizeof(one) ||
	    p == MAP_FAILED || munmap(p, 1 << 20))
		return 1;
	close(efd);
	return do_kvm_run();
}

static int do_dup(void)
{
	return dup(0) >= 0 ? 0 : 1;
}

static int ep_fd = -1;

/* eventfd -> epoll -> read, an interrupt line, random bytes. */
static int do_events_work(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	uint64_t one = 1, got;
	char rnd[16];
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (efd < 0 || epoll_ctl(ep_fd, EPOLL_CTL_ADD, efd, &ev) < 0 ||
	    write(efd, &one, sizeof(one)) != sizeof(one) ||
	    epoll_wait(ep_fd, &ev, 1, 1000) != 1 ||
	    read(efd, &got, sizeof(got)) != sizeof(got) ||
	    getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return 1;
	return ioctl(-1, KVM_IRQ_LINE, 0) < 0 && errno == EBADF ? 0 : 2;
}

static int zero_fd = -1;

static int do_block_io(void)
{
	static char buf[4096];
	struct iovec iov = { buf, sizeof(buf) };

	if (preadv2(zero_fd, &iov, 1, 0, 0) != (ssize_t)sizeof(buf))
		return 1;
	return fdatasync(zero_fd) < 0 && errno == EINVAL ? 0 : 2;
}

static int do_control_work(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 1;
	close(fd);
	return do_create_vm();
}

/* --- the cases ------------------------------------------------------------ */

static void test_vcpu_refused(void **state)
{
	(void)state;
	expect_refused(SANDBOX_VCPU, do_socket,
		       "the vcpu thread made system call 41 (socket)");
	/* where: the call in libc's wrapper, this program's code above it */
	expect_refused(SANDBOX_VCPU, do_socket, "\n  at libc.so.6+0x");
	expect_refused(SANDBOX_VCPU, do_socket, "\n  ? test_seccomp+0x");
	expect_refused(SANDBOX_VCPU, do_create_vm, "(ioctl)");
	expect_refused(SANDBOX_VCPU, do_exec_mmap, "(mmap)");
}

static void test_events_refused(void **state)
{
	(void)state;
	expect_refused(SANDBOX_EVENTS, do_execve,
		       "the event loop thread made system call 59 (execve)");
	expect_refused(SANDBOX_EVENTS, do_create_vm, "(ioctl)");
	expect_refused(SANDBOX_EVENTS, do_unix_socket,
		       "the event loop thread made system call 41 (socket)");
	expect_refused(SANDBOX_EVENTS, do_kvm_run, "(ioctl)");
}

static void test_block_refused(void **state)
{
	(void)state;
	expect_refused(SANDBOX_BLOCK, do_socket,
		       "the block worker thread made system call 41 (socket)");
	expect_refused(SANDBOX_BLOCK, do_kvm_run, "(ioctl)");
	expect_refused(SANDBOX_BLOCK, do_dup, "(dup)");
}

static void test_control_refused(void **state)
{
	(void)state;
	expect_refused(SANDBOX_CONTROL, do_unix_socket,
		       "the control thread made system call 41 (socket)");
	expect_refused(SANDBOX_CONTROL, do_execve, "(execve)");
#if !defined(__SANITIZE_ADDRESS__)   /* LeakSanitizer needs it at exit */
	expect_refused(SANDBOX_CONTROL, do_ptrace, "(ptrace)");
#endif
}

static void test_allowed(void **state)
{
	(void)state;
	expect_allowed(SANDBOX_ON, SANDBOX_VCPU, do_vcpu_work);
	expect_allowed(SANDBOX_ON, SANDBOX_EVENTS, do_socket);
	ep_fd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep_fd >= 0);
	expect_allowed(SANDBOX_ON, SANDBOX_EVENTS, do_events_work);
	close(ep_fd);
	zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_true(zero_fd >= 0);
	expect_allowed(SANDBOX_ON, SANDBOX_BLOCK, do_block_io);
	close(zero_fd);
	expect_allowed(SANDBOX_ON, SANDBOX_CONTROL, do_control_work);
}

static void test_open_refused_with_eacces(void **state)
{
	(void)state;
	/* Sanitizer builds let every kind open files read-only (for their
	 * reports), so no kind gets the EACCES rule there. */
#if !defined(__SANITIZE_ADDRESS__)
	expect_allowed(SANDBOX_ON, SANDBOX_VCPU, do_open_eacces);
	expect_allowed(SANDBOX_ON, SANDBOX_EVENTS, do_open_eacces);
	expect_allowed(SANDBOX_ON, SANDBOX_EVENTS, do_openat_eacces);
	expect_allowed(SANDBOX_ON, SANDBOX_BLOCK, do_openat_eacces);
#endif
}

/* log: a refused call goes through (the kernel logs it); off: no filter. */
static void test_log_and_off(void **state)
{
	(void)state;
	expect_allowed(SANDBOX_LOG, SANDBOX_VCPU, do_socket);
	expect_allowed(SANDBOX_LOG, SANDBOX_BLOCK, do_open);
	expect_allowed(SANDBOX_OFF, SANDBOX_VCPU, do_socket);
}

static void test_parse(void **state)
{
	struct jail_config j = { 0 };

	(void)state;
	assert_int_equal(sandbox_parse_mode("on"), SANDBOX_ON);
	assert_int_equal(sandbox_parse_mode("log"), SANDBOX_LOG);
	assert_int_equal(sandbox_parse_mode("off"), SANDBOX_OFF);
	assert_int_equal(sandbox_parse_mode("yes"), -1);
	assert_int_equal(jail_parse_user("1000:100", &j), 0);
	assert_true(j.has_user);
	assert_int_equal(j.uid, 1000);
	assert_int_equal(j.gid, 100);
	assert_int_equal(jail_parse_user("1000", &j), -1);
	assert_int_equal(jail_parse_user("1000:", &j), -1);
	assert_int_equal(jail_parse_user(":5", &j), -1);
	assert_int_equal(jail_parse_user("a:b", &j), -1);
	assert_int_equal(jail_parse_user("1:2x", &j), -1);
	assert_int_equal(jail_parse_user("4294967295:0", &j), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_refused),
		cmocka_unit_test(test_events_refused),
		cmocka_unit_test(test_block_refused),
		cmocka_unit_test(test_control_refused),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_open_refused_with_eacces),
		cmocka_unit_test(test_log_and_off),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
