/* Logging: levels, destinations, timestamps, per-kind rate limits. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"

enum log_level log_threshold = LOG_WARN;

enum log_dest { DEST_STDERR, DEST_FILE, DEST_SYSLOG };

static struct {
	unsigned mask;
	bool mask_from_cli;
	enum log_dest dest;
	int fd;                    /* 2, the --log file, or the syslog socket */
	bool stamps;               /* seconds since start on each line */
	uint64_t start_ns;
	pthread_once_t once;
} lg = { .mask = LOG_MASK_UPTO(LOG_WARN), .fd = 2,
	 .once = PTHREAD_ONCE_INIT };

static const char *const level_name[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* syslog priorities (user facility) for each level */
static const int syslog_pri[] = {
	[LOG_ERR] = 8 + 3, [LOG_WARN] = 8 + 4, [LOG_INFO] = 8 + 6,
	[LOG_DEBUG] = 8 + 7,
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t (*log_clock_ns)(void);

static uint64_t now_ns(void)
{
	return log_clock_ns ? log_clock_ns() : monotonic_ns();
}

static void init_once(void)
{
	lg.start_ns = monotonic_ns();
	lg.stamps = !isatty(lg.fd);
}

void log_init(void)
{
	pthread_once(&lg.once, init_once);
}

void log_set_threshold(enum log_level lvl)
{
	if (lvl >= LOG_NR_LEVELS)
		lvl = LOG_DEBUG;
	log_threshold = lvl;
	lg.mask = LOG_MASK_UPTO(lvl);
	lg.mask_from_cli = true;
}

void log_set_mask(unsigned mask, bool force)
{
	if (lg.mask_from_cli && !force)
		return;
	lg.mask = mask & LOG_MASK_UPTO(LOG_DEBUG);
	log_threshold = LOG_ERR;
	for (int l = LOG_DEBUG; l > LOG_ERR; l--)
		if (lg.mask & (1u << l)) {
			log_threshold = (enum log_level)l;
			break;
		}
}

unsigned log_get_mask(void)
{
	return lg.mask;
}

bool log_enabled(enum log_level lvl)
{
	return lvl < LOG_NR_LEVELS && (lg.mask & (1u << lvl));
}

static void set_dest(enum log_dest dest, int fd)
{
	log_init();
	if (lg.fd != 2)
		close(lg.fd);
	lg.dest = dest;
	lg.fd = fd;
	lg.stamps = dest == DEST_FILE || !isatty(fd);
}

int log_open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
		      O_NOCTTY, 0644);

	if (fd < 0)
		return -1;
	set_dest(DEST_FILE, fd);
	return 0;
}

int log_open_syslog(void)
{
	const char *path = getenv("CVISOR_SYSLOG_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (lg.dest == DEST_FILE)
		return 0;          /* --log FILE wins */
	if (!path || !path[0])
		path = "/dev/log";
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	set_dest(DEST_SYSLOG, fd);
	return 0;
}

void log_reset(void)
{
	set_dest(DEST_STDERR, 2);
	lg.stamps = !isatty(2);
}

static void emit(enum log_level lvl, const char *text)
{
	char line[1280];
	int n;

	log_init();
	if (lg.dest == DEST_SYSLOG) {
		n = snprintf(line, sizeof(line), "<%d>cvisor[%d]: %s: %s",
			     syslog_pri[lvl], (int)getpid(), level_name[lvl],
			     text);
	} else if (lg.stamps) {
		uint64_t t = now_ns() - lg.start_ns;

		n = snprintf(line, sizeof(line), "cvisor: %llu.%06llu %s: %s\n",
			     (unsigned long long)(t / 1000000000ull),
			     (unsigned long long)(t % 1000000000ull / 1000),
			     level_name[lvl], text);
	} else {
		n = snprintf(line, sizeof(line), "cvisor: %s: %s\n",
			     level_name[lvl], text);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		if (lg.dest != DEST_SYSLOG)
			line[n - 1] = '\n';
	}
	/* One write per message keeps lines from different threads whole
	 * (write is also all the sandbox allows every thread). */
	if (write(lg.fd, line, (size_t)n) < 0 && lg.dest == DEST_SYSLOG &&
	    lvl == LOG_ERR) {
		/* The system log went away: errors still reach someone. */
		if (write(2, line, (size_t)n) < 0)
			return;
	}
}

static struct {
	char name[64];
	size_t len;
	unsigned mask;
} sources[LOG_MAX_SOURCES];
static unsigned nr_sources, sources_any;   /* union of their masks */

int log_set_source_mask(const char *source, unsigned mask)
{
	size_t len = strlen(source);
	unsigned i;

	if (!len || len >= sizeof(sources[0].name))
		return -1;
	for (i = 0; i < nr_sources; i++)
		if (sources[i].len == len && !memcmp(sources[i].name, source, len))
			break;
	if (i == nr_sources) {
		if (nr_sources >= LOG_MAX_SOURCES)
			return -1;
		memcpy(sources[i].name, source, len + 1);
		sources[i].len = len;
		nr_sources++;
	}
	sources[i].mask = mask & LOG_MASK_UPTO(LOG_DEBUG);
	sources_any |= sources[i].mask;
	return 0;
}

/* Could lvl show at all, for some source or the process? */
static bool maybe_enabled(enum log_level lvl)
{
	return log_enabled(lvl) || (sources_any & (1u << lvl));
}

/* The final word on a formatted message. */
static bool shown(enum log_level lvl, const char *text)
{
	for (unsigned i = 0; i < nr_sources; i++)
		if (!strncmp(text, sources[i].name, sources[i].len) &&
		    text[sources[i].len] == ':')
			return sources[i].mask & (1u << lvl);
	return log_enabled(lvl);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (lvl >= LOG_NR_LEVELS || !maybe_enabled(lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (shown(lvl, buf))
		emit(lvl, buf);
}

/* ---- rate limits per message kind ---- */

static pthread_mutex_t kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_kind *kinds;         /* every kind that has spoken */

static void say_suppressed(struct log_kind *k)
{
	char buf[256];

	if (!k->missed)
		return;
	snprintf(buf, sizeof(buf), "%u more like this suppressed: %s",
		 k->missed, k->last);
	k->missed = 0;
	if (shown(k->lvl, k->last))
		emit(k->lvl, buf);
}

/* Under kinds_lock: end the windows that are over. */
static void end_windows(uint64_t now)
{
	for (struct log_kind *k = kinds; k; k = k->next) {
		if (now - k->window_start_ns < LOG_KIND_WINDOW_S * 1000000000ull)
			continue;
		say_suppressed(k);
		k->printed = 0;
		k->window_start_ns = now;
	}
}

void log_kind_msg(struct log_kind *k, const char *fmt, ...)
{
	char buf[1024];
	uint64_t now;
	bool show;
	va_list ap;

	if (!maybe_enabled(k->lvl))
		return;
	if (nr_sources) {
		/* Which source it is decides whether it counts at all. */
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		if (!shown(k->lvl, buf))
			return;
	}
	now = now_ns();
	pthread_mutex_lock(&kinds_lock);
	if (!k->listed) {
		k->listed = true;
		k->window_start_ns = now;
		k->next = kinds;
		kinds = k;
	}
	end_windows(now);
	show = k->printed < LOG_KIND_BURST;
	if (show)
		k->printed++;
	else
		k->missed++;
	if (show) {
		if (!nr_sources) {
			va_start(ap, fmt);
			vsnprintf(buf, sizeof(buf), fmt, ap);
			va_end(ap);
		}
		snprintf(k->last, sizeof(k->last), "%.*s",
			 (int)sizeof(k->last) - 1, buf);
		emit(k->lvl, buf);
	}
	pthread_mutex_unlock(&kinds_lock);
}

void log_flush_suppressed(void)
{
	pthread_mutex_lock(&kinds_lock);
	for (struct log_kind *k = kinds; k; k = k->next)
		say_suppressed(k);
	pthread_mutex_unlock(&kinds_lock);
}
