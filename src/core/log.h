/* Logging to stderr. Messages never go to stdout, which belongs to the
 * guest's console when a UART uses `hostdev >-`. */
#ifndef CVISOR_CORE_LOG_H
#define CVISOR_CORE_LOG_H

#include <stdbool.h>
#include <time.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Rate limiting for messages a guest can trigger at will: at most `burst`
 * messages per `interval_s` seconds, then one summary of what was dropped. */
struct ratelimit {
	time_t window_start;
	unsigned interval_s, burst, printed, missed;
};
#define RATELIMIT_INIT(interval, n) { 0, (interval), (n), 0, 0 }
bool ratelimit_ok(struct ratelimit *rl);

#define pr_warn_ratelimited(rl, ...) \
	do { if (ratelimit_ok(rl)) pr_warn(__VA_ARGS__); } while (0)

#endif
