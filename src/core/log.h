/* Logging. Messages never go to stdout, which belongs to the guest's
 * console when a UART uses `hostdev >-`: they go to stderr, to the
 * `--log FILE`, or to the system log (`logger ... slog`).
 *
 * Levels: error, warning (shown by default), info (-v), debug (-vv); -q
 * shows errors only. QNX's `logger FILTERS DEST` picks levels one by one
 * (log_set_mask). When the destination is not a terminal each line carries
 * the seconds since start (monotonic), for logs read later.
 */
#ifndef CVISOR_CORE_LOG_H
#define CVISOR_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_NR_LEVELS };

#define LOG_MASK_UPTO(lvl) ((1u << ((lvl) + 1)) - 1)

/* The most verbose level shown (set through log_set_threshold). */
extern enum log_level log_threshold;

/* Records the start time and opens the non-blocking twin of the log's
 * pipe or terminal; called first thing in main, before any jail (also
 * implied by the first message). */
void log_init(void);
/* The calling thread may wait for the log's reader (main() says so for
 * itself). Every other thread drops a line that finds no room, counts
 * it, and says how many with its next line that fits: a thread that
 * holds a lock a vCPU or the event loop takes never waits for a reader. */
void log_thread_may_block(void);
void log_set_threshold(enum log_level lvl);
/* Levels shown, one bit per level (QNX `logger` filters). A mask set by
 * log_set_threshold on the command line wins over a later log_set_mask
 * from the configuration unless force is set. */
void log_set_mask(unsigned mask, bool force);
unsigned log_get_mask(void);
bool log_enabled(enum log_level lvl);
/* Messages to FILE (appended) instead of stderr. 0 or -1 with errno. */
int log_open_file(const char *path);
/* Messages to the system log (/dev/log, or $CVISOR_SYSLOG_SOCKET)
 * instead of stderr: QNX's `slog`. The socket is connected here, before
 * the sandbox, and then written with write(2) alone. 0 or -1 with errno. */
int log_open_syslog(void);
/* Back to stderr (closes a --log file or the syslog socket; tests). */
void log_reset(void);

/* Per-source levels (QNX's vdev `log` option): messages whose text starts
 * with "SOURCE:" (a device's messages start with its type or name) show by
 * mask instead of the process-wide levels. 0, or -1 when the table (8
 * sources) is full. Set before the threads start. */
#define LOG_MAX_SOURCES 8
int log_set_source_mask(const char *source, unsigned mask);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Messages a guest can trigger at will are rate-limited per message kind
 * (one kind per call site, whatever device it is about): at most
 * LOG_KIND_BURST per LOG_KIND_WINDOW_S seconds. What was left out is
 * counted and said in one line when the window ends (at the next message
 * of any limited kind after it) and at exit (log_flush_suppressed). Only
 * messages the current level shows are counted. */
#define LOG_KIND_WINDOW_S 5
#define LOG_KIND_BURST    10

struct log_kind {
	enum log_level lvl;
	uint64_t window_start_ns;
	unsigned printed, missed;
	bool listed;
	char last[160];            /* the last message shown, for the summary */
	struct log_kind *next;
};
#define LOG_KIND_INIT(level) { .lvl = (level) }

void log_kind_msg(struct log_kind *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Say what every kind suppressed and has not said yet. */
void log_flush_suppressed(void);

#define log_ratelimited(level, ...) do { \
	static struct log_kind log_kind_ = LOG_KIND_INIT(level); \
	log_kind_msg(&log_kind_, __VA_ARGS__); \
} while (0)

/* Kept for the devices that embed one: the limit is now per call site, so
 * the struct passed in is not used. */
struct ratelimit {
	time_t window_start;
	unsigned interval_s, burst, printed, missed;
};
#define RATELIMIT_INIT(interval, n) { 0, (interval), (n), 0, 0 }

#define pr_warn_ratelimited(rl, ...) do { \
	(void)(rl); \
	log_ratelimited(LOG_WARN, __VA_ARGS__); \
} while (0)

/* Test hook: the clock the rate limiter reads (NULL: CLOCK_MONOTONIC). */
extern uint64_t (*log_clock_ns)(void);

#endif
