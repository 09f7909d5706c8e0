/* Private to the UART models (serial8250.c, pl011.c): what they share about
 * their host side. */
#ifndef CVISOR_DEVICES_UART_COMMON_H
#define CVISOR_DEVICES_UART_COMMON_H

#include "backends/chardev.h"
#include "config/config.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "devices/device.h"
#include "devices/registry.h"

/* QNX's batch/delayed/sched tune qvm's per-device output thread; cvisor
 * writes output synchronously and reads input on the one event loop
 * thread, so they are accepted (configs stay portable) and do nothing. */
static inline void uart_note_qnx_opts(const struct vdev_config *vc)
{
	static const char *const keys[] = { "batch", "delayed", "sched" };

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (vdev_opt(vc, keys[i]))
			pr_warn("%s:%u:%u: vdev %s: option '%s' has no effect "
				"in cvisor", vc->pos.file ? vc->pos.file : "?",
				vc->pos.line, vc->pos.col, vc->type ?
				vc->type->name : "uart", keys[i]);
}

/* Ctrl-A x on the console: stop the VM as a power cut would. */
static inline void uart_quit(const struct dev_env *env)
{
	if (env->power)
		env->power(env->ctx, POWER_EXIT, CV_EXIT_TERMINATED);
}

#endif
