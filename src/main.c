/* cvisor: one process, one VM.
 *
 *   cvisor [-v|-q] TOKEN...      run the VM the tokens (and @files) describe
 *   cvisor check TOKEN...        parse and validate only
 *
 * The exit status follows QNX qvm's table (core/exit_codes.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "arch/x86/firmware.h"
#include "backends/chardev.h"
#include "config/config.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/persist.h"
#include "sandbox/sandbox.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define CVISOR_VERSION "0.1.0"

static void usage(FILE *f)
{
	fputs("usage: cvisor [-v|-q] TOKEN...     run a VM\n"
	      "       cvisor check TOKEN...       validate the configuration\n"
	      "       cvisor --dump-acpi DIR TOKEN...  write the ACPI tables "
	      "as DIR/SIG.dat\n"
	      "       cvisor --version | --help\n"
	      "sandbox: --seccomp on|log|off (default on), --user UID:GID, "
	      "--chroot DIR\n          (docs/sandbox.md)\n"
	      "TOKENs are .qvmconf options (ram 256m load guest.elf vdev "
	      "ser8250 hostdev >- ...)\nand @FILE includes a .qvmconf file. "
	      "See docs/config.md.\n", f);
}

static int bad_option(const char *opt, const char *value)
{
	fprintf(stderr, "cvisor: bad value '%s' for %s\n", value, opt);
	usage(stderr);
	return CV_EXIT_USAGE;
}

/* CVISOR_SECCOMP=on|log|off sets the default for --seccomp (test doubles
 * such as tests/fakekvm do I/O on vCPU threads and turn it off). */
static int default_seccomp(void)
{
	const char *e = getenv("CVISOR_SECCOMP");
	int m = e ? sandbox_parse_mode(e) : -1;

	return m < 0 ? SANDBOX_ON : m;
}

static void fatal_signal(int sig)
{
	/* Leave the user's terminal usable, then die as the signal says. */
	chardev_restore_terminals();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int setup_signals(sigset_t *stop_set)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL,
				     SIGFPE };

	signal(SIGPIPE, SIG_IGN);
	for (unsigned i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
	vcpu_signals_init();
	/* Blocked here, before any thread exists, so every thread inherits
	 * the block and only the main thread's signalfd sees them. */
	sigemptyset(stop_set);
	sigaddset(stop_set, SIGINT);
	sigaddset(stop_set, SIGTERM);
	sigaddset(stop_set, SIGHUP);
	sigaddset(stop_set, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, stop_set, NULL);
	return signalfd(-1, stop_set, SFD_CLOEXEC);
}

/* Wait for the guest or a signal to end the run. */
static void wait_for_stop(struct vm *vm, int sfd)
{
	struct pollfd p[2] = { { .fd = vm->stop_fd, .events = POLLIN },
			       { .fd = sfd, .events = POLLIN } };
	struct signalfd_siginfo si;

	while (vm->stop == VM_RUNNING) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if ((p[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si)) {
			pr_info("signal %u: stopping the VM", si.ssi_signo);
			vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_TERMINATED);
		}
	}
}

/* --user / --chroot (sandbox/jail.c), set by the options. */
static struct jail_config jail;

static int run(const struct vm_config *cfg)
{
	sigset_t stop_set;
	int status = CV_EXIT_USAGE;
	int sfd = setup_signals(&stop_set);
	/* backends and state a guest reset keeps (core/persist.h) */
	struct persist *persist = persist_new();

	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		return CV_EXIT_USAGE;
	}
	for (;;) {
		struct vm *vm = vm_create(cfg, persist, &status);
		enum vm_stop_reason why;

		if (!vm)
			break;
		if (jail_enter(&jail) || vm_start(vm)) {
			vm_destroy(vm);
			status = CV_EXIT_USAGE;
			break;
		}
		sandbox_enter(SANDBOX_CONTROL);   /* after the threads exist */
		wait_for_stop(vm, sfd);
		vm_stop_threads(vm);
		why = vm->stop;
		status = vm->exit_status;
		vm_destroy(vm);
		if (why != VM_STOP_RESET)
			break;
		pr_info("guest reset: rebuilding the VM");
	}
	close(sfd);
	persist_free(persist);
	chardev_restore_terminals();
	return status;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct cfg_error err;
	bool check = false;
	const char *acpi_dir = NULL;
	int i = 1, status, seccomp = default_seccomp();

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			if (log_threshold < LOG_DEBUG)
				log_threshold++;
		} else if (!strcmp(argv[i], "-q") ||
			   !strcmp(argv[i], "--quiet")) {
			log_threshold = LOG_ERR;
		} else if (!strcmp(argv[i], "--dump-acpi") && i + 1 < argc) {
			acpi_dir = argv[++i];
		} else if (!strcmp(argv[i], "--seccomp") && i + 1 < argc) {
			seccomp = sandbox_parse_mode(argv[++i]);
			if (seccomp < 0)
				return bad_option("--seccomp", argv[i]);
		} else if (!strcmp(argv[i], "--user") && i + 1 < argc) {
			if (jail_parse_user(argv[++i], &jail))
				return bad_option("--user", argv[i]);
		} else if (!strcmp(argv[i], "--chroot") && i + 1 < argc) {
			jail.chroot_dir = argv[++i];
		} else if (!strcmp(argv[i], "--version")) {
			printf("cvisor %s\n", CVISOR_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "cvisor: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return CV_EXIT_USAGE;
		}
	}
	if (i < argc && !strcmp(argv[i], "check")) {
		check = true;
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return CV_EXIT_USAGE;
	}
	if (config_from_args(&cfg, argc - i, argv + i, &err) < 0) {
		cfg_error_print(&err);
		return CV_EXIT_CONFIG;
	}
	if (acpi_dir) {
		status = acpi_dump(&cfg, acpi_dir) ? CV_EXIT_USAGE : CV_EXIT_OK;
		if (status)
			fprintf(stderr, "cvisor: cannot write the ACPI tables "
				"to %s: %s\n", acpi_dir, strerror(errno));
	} else if (check) {
		status = CV_EXIT_OK;
	} else if (jail_prepare(&jail)) {
		status = CV_EXIT_USAGE;
	} else {
		sandbox_configure(seccomp, chardev_restore_terminals);
		status = run(&cfg);
	}
	config_free(&cfg);
	return status;
}
