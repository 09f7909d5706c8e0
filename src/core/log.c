#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>

#include "core/log.h"

enum log_level log_threshold = LOG_WARN;

static const char *const level_name[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_threshold)
		return;
	/* One fprintf per message keeps lines from different threads whole. */
	char buf[1024];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "cvisor: %s: %s\n", level_name[lvl], buf);
}

bool ratelimit_ok(struct ratelimit *rl)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	time_t now = time(NULL);
	bool ok;

	pthread_mutex_lock(&lock);
	if (now - rl->window_start >= (time_t)rl->interval_s) {
		if (rl->missed)
			pr_warn("%u similar messages suppressed", rl->missed);
		rl->window_start = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	ok = rl->printed < rl->burst;
	if (ok)
		rl->printed++;
	else
		rl->missed++;
	pthread_mutex_unlock(&lock);
	return ok;
}
