/* The main thread's wait for the end of a run (main.c's run loop):
 *
 *   SIGINT, SIGHUP, SIGQUIT  stop now, status 3 (QNX: terminated)
 *   SIGTERM                  press the ACPI power button and give the
 *                            guest --shutdown-timeout seconds to power off
 *                            (status 0 if it does, 3 if the time runs
 *                            out); at once, status 3, when the guest
 *                            cannot hear the button (no ACPI OS enabled
 *                            its interrupt), when it is paused or
 *                            suspended to RAM, or on a second SIGTERM
 *   SIGUSR1                  the status summary on stderr (QNX qvm too)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/exit_codes.h"
#include "core/log.h"
#include "ctl/ctl.h"
#include "vm/vm.h"

struct ctl_options ctl_options = {
	.shutdown_timeout_s = CTL_SHUTDOWN_TIMEOUT_S,
};

static void sigterm(struct vm *vm)
{
	bool listening = false;

	if (vm->powering_down) {
		pr_info("SIGTERM again: stopping the VM");
	} else if (vm->stop == VM_STOP_RESET) {
		pr_info("SIGTERM during a reset: stopping the VM");
	} else if (vm->suspended) {
		/* A press would only wake it (the wake consumes it): the OS
		 * would not power off, and the deadline would run out. */
		pr_info("SIGTERM: stopping the VM (it is suspended to RAM)");
	} else if (vm->run_state == VM_STATE_RUNNING &&
		   vm_powerdown(vm, &listening) == 0 && listening) {
		pr_info("SIGTERM: power button pressed; the guest has %u s",
			vm->shutdown_timeout_s);
		return;
	} else {
		pr_info("SIGTERM: stopping the VM (%s)",
			vm->run_state != VM_STATE_RUNNING ? "it is paused" :
			"its OS does not listen to the power button");
	}
	vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_TERMINATED);
}

static void on_signal(struct vm *vm, const struct signalfd_siginfo *si)
{
	switch (si->ssi_signo) {
	case SIGUSR1:
		fprintf(stderr, "cvisor: status\n");
		ctl_print_status_vm(stderr, vm);
		break;
	case SIGTERM:
		sigterm(vm);
		break;
	default:
		pr_info("signal %u: stopping the VM", si->ssi_signo);
		vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_TERMINATED);
	}
}

void ctl_wait_for_stop(struct vm *vm, int sfd)
{
	struct pollfd p[3] = { { .fd = vm->stop_fd, .events = POLLIN },
			       { .fd = sfd, .events = POLLIN },
			       { .fd = vm->shutdown_fd, .events = POLLIN } };
	struct signalfd_siginfo si;
	uint64_t expired;

	vm->shutdown_timeout_s = ctl_options.shutdown_timeout_s;
	while (vm->stop == VM_RUNNING) {
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if ((p[1].revents & POLLIN) &&
		    read(sfd, &si, sizeof(si)) == sizeof(si))
			on_signal(vm, &si);
		if ((p[2].revents & POLLIN) &&
		    read(vm->shutdown_fd, &expired, sizeof(expired)) > 0) {
			pr_warn("the guest did not power off within %u s of "
				"the power button; stopping it",
				vm->shutdown_timeout_s);
			vm_request_stop(vm, VM_STOP_EXIT, CV_EXIT_TERMINATED);
		}
	}
}
