/* cvisor: one process, one VM.
 *
 *   cvisor [OPTION...] TOKEN...        run the VM the tokens (and @files)
 *                                      describe
 *   cvisor check [OPTION...] TOKEN...  parse and validate only
 *   cvisor help [vdev TYPE]
 *
 * Options are rows of cli_opts[], subcommands rows of cli_cmds[].
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
#include <sys/stat.h>
#include <unistd.h>

#include "arch/arm64/arm64.h"
#include "arch/x86/firmware.h"
#include "backends/chardev.h"
#include "config/config.h"
#include "config/help.h"
#include "config/host_check.h"
#include "core/exit_codes.h"
#include "core/watchdog.h"
#include "core/log.h"
#include "core/persist.h"
#include "ctl/ctl.h"
#include "sandbox/sandbox.h"
#include "stats/stats.h"
#include "trace/file.h"
#include "trace/trace.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"
#include "vm/vm_phases.h"

/* From `git describe` when built in a git checkout (Makefile). */
#ifndef CVISOR_VERSION
#define CVISOR_VERSION "0.1.0"
#endif

/* What the options set; each option is one row of cli_opts[] below. */
struct cli {
	bool check;
	const char *acpi_dir;
	const char *dtb_path;
	int seccomp;
};

/* An option's handler returns CLI_CONTINUE, or the exit status to end
 * with now (--help, --version, a bad value). */
#define CLI_CONTINUE (-1)

struct cli_opt {
	const char *name, *alt;  /* "--verbose", "-v" (or NULL) */
	const char *arg;         /* the value's name, NULL for a flag */
	const char *help;
	int (*fn)(struct cli *c, const char *arg);
};

static int bad_option(const char *opt, const char *value)
{
	fprintf(stderr, "cvisor: bad value '%s' for %s (cvisor --help)\n",
		value, opt);
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
	sigaddset(stop_set, SIGUSR1);     /* status on stderr (ctl/signals.c) */
	pthread_sigmask(SIG_BLOCK, stop_set, NULL);
	return signalfd(-1, stop_set, SFD_CLOEXEC);
}

/* Ctrl-A s on the console: the status summary, as SIGUSR1 prints it,
 * and the statistics. */
static void print_status(void *vm)
{
	ctl_print_status_vm(stderr, vm);
	ctl_print_stats_vm(stderr, vm);
	fflush(stderr);
}

/* --user / --chroot (sandbox/jail.c), set by the options. */
static struct jail_config jail;
/* --stats, --trace FILE (docs/trace.md) */
static bool print_stats;
static const char *trace_path;

static int run(const struct vm_config *cfg)
{
	sigset_t stop_set;
	int status = CV_EXIT_USAGE;
	int sfd = setup_signals(&stop_set);
	/* backends and state a guest reset keeps (core/persist.h) */
	struct persist *persist = persist_new();
	/* the control socket (ctl/ctl.h): --api, else the config's `api` */
	const char *api = ctl_options.api_path ? ctl_options.api_path
					       : cfg->api_path;
	struct ctl_server *ctl = NULL;
	int err;

	if (sfd < 0) {
		pr_err("signalfd: %s", strerror(errno));
		return CV_EXIT_USAGE;
	}
	stats_clock_init();
	if (trace_path && (err = trace_set_file(trace_path)) < 0) {
		pr_err("--trace %s: %s", trace_path, strerror(-err));
		close(sfd);
		persist_free(persist);
		return CV_EXIT_USAGE;
	}
	if (api && !(ctl = ctl_server_open(api))) {
		close(sfd);
		persist_free(persist);
		return CV_EXIT_USAGE;
	}
	for (;;) {
		struct vm *vm = vm_create(cfg, persist, &status);
		enum vm_stop_reason why;

		if (!vm)
			break;
		chardev_set_stats_hook(print_status, vm);
		/* The rings before the vCPUs run: --trace holds every exit,
		 * the guest's first one included. */
		if (jail_enter(&jail) || trace_attach(vm, ctl != NULL) ||
		    vm_start(vm)) {
			chardev_set_stats_hook(NULL, NULL);
			trace_detach(vm);
			vm_destroy(vm);
			status = CV_EXIT_USAGE;
			break;
		}
		sandbox_enter(SANDBOX_CONTROL);   /* after the threads exist */
		vm_phase("sandbox-main");
		ctl_server_attach(ctl, vm);
		ctl_wait_for_stop(vm, sfd);
		vm_phase("main-woken");
		vm_stop_threads(vm);
		vm_phase("threads-joined");
		chardev_set_stats_hook(NULL, NULL);
		ctl_server_detach(ctl);
		why = vm->stop;
		status = vm->exit_status;
		trace_detach(vm);
		if (print_stats && why != VM_STOP_RESET)
			ctl_print_stats_vm(stderr, vm);
		if (why != VM_STOP_RESET) {
			vm_destroy_at_exit(vm);
			break;
		}
		vm_destroy(vm);
		pr_info("guest reset: rebuilding the VM");
	}
	/* What is left has a deadline too: closing the kept images (a close
	 * can wait on a network file system), flushing the consoles and
	 * stopping their commands. */
	watchdog_arm(EXIT_DEADLINE_MS, status, "the exit");
	trace_shutdown();
	close(sfd);
	ctl_server_close(ctl);
	persist_free(persist);
	chardev_restore_terminals();
	watchdog_disarm();
	return status;
}

static int opt_verbose(struct cli *c, const char *arg)
{
	log_set_threshold(log_threshold < LOG_DEBUG ? log_threshold + 1
						    : LOG_DEBUG);
	return CLI_CONTINUE;
}

static int opt_quiet(struct cli *c, const char *arg)
{
	log_set_threshold(LOG_ERR);
	return CLI_CONTINUE;
}

static int opt_log(struct cli *c, const char *arg)
{
	if (log_open_file(arg)) {
		fprintf(stderr, "cvisor: --log %s: %s\n", arg, strerror(errno));
		return CV_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

static int opt_dump_acpi(struct cli *c, const char *arg)
{
	c->acpi_dir = arg;
	return CLI_CONTINUE;
}

static int opt_dump_dtb(struct cli *c, const char *arg)
{
	c->dtb_path = arg;
	return CLI_CONTINUE;
}

/* --arch: the rules configs without an `arch` statement are checked by. */
static int opt_arch(struct cli *c, const char *arg)
{
	if (!strcmp(arg, "x86"))
		config_default_arch = CFG_ARCH_X86;
	else if (!strcmp(arg, "arm64"))
		config_default_arch = CFG_ARCH_ARM64;
	else
		return bad_option("--arch", arg);
	return CLI_CONTINUE;
}

static int opt_seccomp(struct cli *c, const char *arg)
{
	c->seccomp = sandbox_parse_mode(arg);
	return c->seccomp < 0 ? bad_option("--seccomp", arg) : CLI_CONTINUE;
}

static int opt_user(struct cli *c, const char *arg)
{
	return jail_parse_user(arg, &jail) ? bad_option("--user", arg)
					   : CLI_CONTINUE;
}

static int opt_chroot(struct cli *c, const char *arg)
{
	jail.chroot_dir = arg;
	return CLI_CONTINUE;
}

static int opt_api(struct cli *c, const char *arg)
{
	ctl_options.api_path = arg;
	return CLI_CONTINUE;
}

/* --shutdown-timeout SECONDS: 0 to 3600. */
static int opt_shutdown_timeout(struct cli *c, const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v > 3600)
		return bad_option("--shutdown-timeout", s);
	ctl_options.shutdown_timeout_s = (unsigned)v;
	return CLI_CONTINUE;
}

static int opt_stats(struct cli *c, const char *arg)
{
	print_stats = true;
	return CLI_CONTINUE;
}

static int opt_trace(struct cli *c, const char *arg)
{
	trace_path = arg;
	return CLI_CONTINUE;
}

static int opt_version(struct cli *c, const char *arg)
{
	printf("cvisor %s\n", CVISOR_VERSION);
	return CV_EXIT_OK;
}

static int opt_help(struct cli *c, const char *arg);

/* One row per option; --help prints them in this order. */
static const struct cli_opt cli_opts[] = {
	{ "--verbose", "-v", NULL, "more messages (twice: debug)", opt_verbose },
	{ "--quiet", "-q", NULL, "errors only", opt_quiet },
	{ "--log", NULL, "FILE", "messages to FILE (appended) instead of "
	  "stderr", opt_log },
	{ "--dump-acpi", NULL, "DIR", "write the ACPI tables as DIR/SIG.dat "
	  "and exit", opt_dump_acpi },
	{ "--dump-dtb", NULL, "FILE", "write an arm64 VM's device tree to "
	  "FILE and exit", opt_dump_dtb },
	{ "--arch", NULL, "x86|arm64", "the architecture configs describe "
	  "(default: cvisor's own; docs/arm64.md)", opt_arch },
	{ "--seccomp", NULL, "on|log|off", "the seccomp filters (default on; "
	  "docs/sandbox.md)", opt_seccomp },
	{ "--user", NULL, "UID:GID", "run jailed as this user (root only)",
	  opt_user },
	{ "--chroot", NULL, "DIR", "jail root directory (root only)",
	  opt_chroot },
	{ "--api", NULL, "SOCKET", "the JSON control socket (docs/control.md)",
	  opt_api },
	{ "--shutdown-timeout", NULL, "S", "SIGTERM/powerdown: seconds the "
	  "guest has to power off (30)", opt_shutdown_timeout },
	{ "--stats", NULL, NULL, "print the exit statistics at exit "
	  "(docs/trace.md)", opt_stats },
	{ "--trace", NULL, "FILE", "trace every exit into FILE (cvisor "
	  "trace report FILE)", opt_trace },
	{ "--version", "-V", NULL, "print the version and exit", opt_version },
	{ "--help", "-h", NULL, "this help", opt_help },
};

static void usage(FILE *f)
{
	fputs("usage: cvisor [OPTION...] TOKEN...          run a VM\n"
	      "       cvisor check [OPTION...] TOKEN...    validate the "
	      "configuration (exit 65 on error)\n"
	      "       cvisor help vdev TYPE                a vdev type's "
	      "options\n"
	      "       cvisor ctl [--json] SOCKET COMMAND   talk to a running "
	      "VM (docs/control.md)\n"
	      "       cvisor trace decode|report FILE      read a trace "
	      "(docs/trace.md)\n"
	      "TOKENs are .qvmconf statements (ram 256m load guest.elf vdev "
	      "ser8250 hostdev '>-'),\n@FILE includes a .qvmconf file "
	      "(docs/config.md).\n\noptions:\n", f);
	for (size_t i = 0; i < sizeof(cli_opts) / sizeof(cli_opts[0]); i++) {
		const struct cli_opt *o = &cli_opts[i];
		char left[48];

		snprintf(left, sizeof(left), "%s%s%s%s%s", o->alt ? o->alt : "",
			 o->alt ? ", " : "", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
	fputs("\n", f);
	help_vdev_types(f);
	fputs("\n", f);
	help_exit_codes(f);
}

static int opt_help(struct cli *c, const char *arg)
{
	usage(stdout);
	return CV_EXIT_OK;
}

static const struct cli_opt *find_opt(const char *s)
{
	for (size_t i = 0; i < sizeof(cli_opts) / sizeof(cli_opts[0]); i++)
		if (!strcmp(s, cli_opts[i].name) ||
		    (cli_opts[i].alt && !strcmp(s, cli_opts[i].alt)))
			return &cli_opts[i];
	return NULL;
}

static int unknown_cli_option(const char *s)
{
	const char *names[sizeof(cli_opts) / sizeof(cli_opts[0])];
	const char *best;

	for (size_t i = 0; i < sizeof(cli_opts) / sizeof(cli_opts[0]); i++)
		names[i] = cli_opts[i].name;
	best = suggest_word(s, names, sizeof(names) / sizeof(names[0]));
	fprintf(stderr, "cvisor: unknown option '%s'%s%s%s (cvisor --help)\n",
		s, best ? "; did you mean '" : "", best ? best : "",
		best ? "'?" : "");
	return CV_EXIT_USAGE;
}

/* Options from argv[*i] on, up to the first word that is not one. */
static int parse_options(struct cli *c, int argc, char **argv, int *i)
{
	for (; *i < argc && argv[*i][0] == '-' && argv[*i][1]; (*i)++) {
		const struct cli_opt *o = find_opt(argv[*i]);
		const char *arg = NULL;
		int rc;

		if (!o)
			return unknown_cli_option(argv[*i]);
		if (o->arg) {
			if (*i + 1 >= argc) {
				fprintf(stderr, "cvisor: %s needs %s\n",
					o->name, o->arg);
				return CV_EXIT_USAGE;
			}
			arg = argv[++*i];
		}
		rc = o->fn(c, arg);
		if (rc != CLI_CONTINUE)
			return rc;
	}
	return CLI_CONTINUE;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

/* --dump-acpi DIR: DIR (and its parents) created when missing. */
static int dump_acpi(const struct vm_config *cfg, const char *dir)
{
	if (make_dirs(dir) || acpi_dump(cfg, dir)) {
		fprintf(stderr, "cvisor: cannot write the ACPI tables to %s: "
			"%s\n", dir, strerror(errno));
		return CV_EXIT_USAGE;
	}
	return CV_EXIT_OK;
}

/* --dump-dtb FILE: arm64 configs only (x86 VMs have ACPI instead). */
static int dump_dtb(const struct vm_config *cfg, const char *path)
{
	struct cfg_error err;

	if (cfg->arch != CFG_ARCH_ARM64) {
		fprintf(stderr, "cvisor: --dump-dtb: not an arm64 config (add "
			"'arch arm64', or --arch arm64)\n");
		return CV_EXIT_USAGE;
	}
	if (arm64_dtb_dump(cfg, path, &err)) {
		if (err.pos.line)
			cfg_error_print(&err);
		else
			fprintf(stderr, "cvisor: --dump-dtb: %s\n", err.msg);
		return CV_EXIT_CONFIG;
	}
	return CV_EXIT_OK;
}

/* The configuration in argv: checked, dumped, or run. */
/* Long options after the configuration tokens too (`cvisor @vm.qvmconf
 * --api SOCK`): a token that is exactly a known --option, unless it is
 * cmdline's argument, is taken out of the tokens with its value. */
static int take_late_options(struct cli *c, int *argc, char **argv)
{
	int out = 0;

	for (int i = 0; i < *argc; i++) {
		bool free_text = out && !strcmp(argv[out - 1], "cmdline");
		const struct cli_opt *o = !free_text && !strncmp(argv[i], "--", 2)
					  ? find_opt(argv[i]) : NULL;
		int rc;

		if (!o) {
			argv[out++] = argv[i];
			continue;
		}
		if (o->arg && i + 1 >= *argc) {
			fprintf(stderr, "cvisor: %s needs %s\n", o->name,
				o->arg);
			return CV_EXIT_USAGE;
		}
		rc = o->fn(c, o->arg ? argv[++i] : NULL);
		if (rc != CLI_CONTINUE)
			return rc;
	}
	*argc = out;
	return CLI_CONTINUE;
}

static int run_config(struct cli *c, int argc, char **argv)
{
	struct vm_config *cfg;
	struct cfg_error err;
	int status, rc = take_late_options(c, &argc, argv);

	if (rc != CLI_CONTINUE)
		return rc;

	if (argc <= 0) {
		usage(stderr);
		return CV_EXIT_USAGE;
	}
	cfg = config_new_from_args(argc, argv, &err);
	if (!cfg) {
		cfg_error_print(&err);
		return CV_EXIT_CONFIG;
	}
	if (!c->check && !c->acpi_dir && !c->dtb_path)
		config_apply_logging(cfg);    /* `logger`, vdev `log` */
	if (c->acpi_dir) {
		status = dump_acpi(cfg, c->acpi_dir);
	} else if (c->dtb_path) {
		status = dump_dtb(cfg, c->dtb_path);
	} else if (config_check_host(cfg, c->check ? HOST_CHECK_DEVICES |
				     HOST_CHECK_BOOT : HOST_CHECK_LOCK |
				     (log_enabled(LOG_INFO) ? HOST_CHECK_BOOT : 0),
				     &err)) {
		/* check: all the run would refuse; a run: what it would
		 * refuse only later (runmask), and -v's boot summary */
		cfg_error_print(&err);
		status = CV_EXIT_CONFIG;
	} else if (c->check) {
		status = CV_EXIT_OK;
	} else if (jail_prepare(&jail)) {
		status = CV_EXIT_USAGE;
	} else {
		vm_phase("config");
		sandbox_configure(c->seccomp, chardev_restore_terminals);
		vm_phase("seccomp-compiled");
		status = run(cfg);
	}
	config_destroy(cfg);
	return status;
}

/* cvisor check [OPTION...] TOKEN... */
static int cmd_check(struct cli *c, int argc, char **argv)
{
	int i = 0, rc = parse_options(c, argc, argv, &i);

	if (rc != CLI_CONTINUE)
		return rc;
	c->check = true;
	return run_config(c, argc - i, argv + i);
}

/* cvisor help [vdev TYPE] */
static int cmd_help(struct cli *c, int argc, char **argv)
{
	if (argc == 0)
		return opt_help(c, NULL);
	if (argc == 2 && !strcmp(argv[0], "vdev"))
		return help_vdev(stdout, argv[1]) ? CV_EXIT_USAGE : CV_EXIT_OK;
	if (argc == 1 && !strcmp(argv[0], "cpuid")) {
		help_cpuid(stdout);
		return CV_EXIT_OK;
	}
	fprintf(stderr, "usage: cvisor help [vdev TYPE | cpuid]\n");
	return CV_EXIT_USAGE;
}

/* cvisor ctl [--json] SOCKET COMMAND [ARG...] (ctl/client.c) */
static int cmd_ctl(struct cli *c, int argc, char **argv)
{
	return ctl_main(argc, argv);
}

/* cvisor trace decode [--csv] FILE | report FILE (trace/file.c) */
static int cmd_trace(struct cli *c, int argc, char **argv)
{
	return trace_main(argc, argv);
}

/* Subcommands: the first word after the options. */
static const struct {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
} cli_cmds[] = {
	{ "check", cmd_check },
	{ "help", cmd_help },
	{ "ctl", cmd_ctl },
	{ "trace", cmd_trace },
};

int main(int argc, char **argv)
{
	struct cli c = { .seccomp = default_seccomp() };
	int i = 1, rc;

	vm_phases_init();
	log_thread_may_block();
	log_init();
	rc = parse_options(&c, argc, argv, &i);
	if (rc != CLI_CONTINUE)
		return rc;
	for (size_t k = 0; i < argc && k < sizeof(cli_cmds) /
						sizeof(cli_cmds[0]); k++)
		if (!strcmp(argv[i], cli_cmds[k].name)) {
			rc = cli_cmds[k].fn(&c, argc - i - 1, argv + i + 1);
			goto out;
		}
	rc = run_config(&c, argc - i, argv + i);
out:
	log_flush_suppressed();
	vm_phases_write();
	return rc;
}
