/* Logging: levels, destinations, timestamps, per-kind rate limits.
 *
 * Only the main thread may wait for the log's reader. A vCPU, the event
 * loop or an I/O thread that logs (a guest's bad request, say) may hold a
 * lock the others take, and a terminal stopped with ^S or a pipe nobody
 * drains would then stall the VM. So every other thread writes through a
 * second, non-blocking open file description of the same pipe or
 * terminal (or socket): a line with no room is dropped and counted, and
 * the count is said with the next line that fits. A regular file (a
 * redirect, --log FILE) is written directly: the disk, not a reader,
 * decides how long that takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	int nb_fd;                 /* the same, non-blocking; -1: use fd */
	unsigned long dropped;     /* lines that found no room; atomic */
	bool stamps;               /* seconds since start on each line */
	uint64_t start_ns;
	pthread_once_t once;
} lg = { .mask = LOG_MASK_UPTO(LOG_WARN), .fd = 2, .nb_fd = -1,
	 .once = PTHREAD_ONCE_INIT };

/* This thread may wait for the log's reader (log_thread_may_block). */
static __thread bool may_block;

void log_thread_may_block(void)
{
	may_block = true;
}

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

/* The non-blocking twin of lg.fd: a new open file description of its
 * pipe or terminal (O_NONBLOCK on fd 2 itself would change the shell's
 * too). None for a regular file, or where it cannot be had (no /proc, a
 * socket): those lines are written as the main thread writes them. */
static void open_nonblocking(void)
{
	struct stat st;
	char path[32];

	if (lg.nb_fd >= 0)
		close(lg.nb_fd);
	lg.nb_fd = -1;
	if (fstat(lg.fd, &st) || S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode))
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", lg.fd);
	lg.nb_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

static void init_once(void)
{
	lg.start_ns = monotonic_ns();
	lg.stamps = !isatty(lg.fd);
	open_nonblocking();
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
	open_nonblocking();
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
	/* a socket cannot be reopened: a second one, non-blocking */
	lg.nb_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  0);
	if (lg.nb_fd >= 0 &&
	    connect(lg.nb_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(lg.nb_fd);
		lg.nb_fd = -1;
	}
	return 0;
}

void log_reset(void)
{
	set_dest(DEST_STDERR, 2);
	lg.stamps = !isatty(2);
}

/* One line as the destination wants it; its length. */
static size_t format_line(enum log_level lvl, const char *text, char *line,
			  size_t size)
{
	int n;

	if (lg.dest == DEST_SYSLOG) {
		n = snprintf(line, size, "<%d>cvisor[%d]: %s: %s",
			     syslog_pri[lvl], (int)getpid(), level_name[lvl],
			     text);
	} else if (lg.stamps) {
		uint64_t t = now_ns() - lg.start_ns;

		n = snprintf(line, size, "cvisor: %llu.%06llu %s: %s\n",
			     (unsigned long long)(t / 1000000000ull),
			     (unsigned long long)(t % 1000000000ull / 1000),
			     level_name[lvl], text);
	} else {
		n = snprintf(line, size, "cvisor: %s: %s\n", level_name[lvl],
			     text);
	}
	if (n < 0)
		return 0;
	if ((size_t)n >= size) {
		n = (int)size - 1;
		if (lg.dest != DEST_SYSLOG)
			line[n - 1] = '\n';
	}
	return (size_t)n;
}

/* "N log messages dropped" as a line; its length. */
static size_t dropped_line(unsigned long missed, char *note, size_t size)
{
	char text[128];

	snprintf(text, sizeof(text), "%lu log message%s dropped: the log's "
		 "reader was not taking them", missed, missed == 1 ? "" : "s");
	return format_line(LOG_WARN, text, note, size);
}

/* Without waiting: the lines dropped before this one are said first (a
 * line is shorter than PIPE_BUF: a pipe takes it whole or not at all). */
static void put_nonblocking(const char *line, size_t n)
{
	unsigned long missed = __atomic_exchange_n(&lg.dropped, 0,
						   __ATOMIC_RELAXED);

	if (missed) {
		char note[256];
		size_t k = dropped_line(missed, note, sizeof(note));

		if (write(lg.nb_fd, note, k) != (ssize_t)k) {
			__atomic_add_fetch(&lg.dropped, missed + 1,
					   __ATOMIC_RELAXED);
			return;
		}
	}
	if (write(lg.nb_fd, line, n) != (ssize_t)n)
		__atomic_add_fetch(&lg.dropped, 1, __ATOMIC_RELAXED);
}

/* The count of dropped lines, from a thread that may wait (the main
 * thread's next line, and at exit). */
static void say_dropped(void)
{
	unsigned long missed = __atomic_exchange_n(&lg.dropped, 0,
						   __ATOMIC_RELAXED);
	char note[256];
	size_t k;

	if (!missed || !may_block)
		goto keep;
	k = dropped_line(missed, note, sizeof(note));
	if (write(lg.fd, note, k) == (ssize_t)k)
		return;
keep:
	if (missed)
		__atomic_add_fetch(&lg.dropped, missed, __ATOMIC_RELAXED);
}

/* wait: this thread may wait for the reader here (the main thread, not
 * under kinds_lock). */
static void emit_line(enum log_level lvl, const char *text, bool wait)
{
	char line[1280];
	size_t n;

	log_init();
	n = format_line(lvl, text, line, sizeof(line));
	if (!n)
		return;
	if (!wait && lg.nb_fd >= 0) {
		put_nonblocking(line, n);
		return;
	}
	if (wait)
		say_dropped();
	/* One write per message keeps lines from different threads whole
	 * (write is also all the sandbox allows every thread). */
	if (write(lg.fd, line, n) < 0 && lg.dest == DEST_SYSLOG &&
	    lvl == LOG_ERR) {
		/* The system log went away: errors still reach someone. */
		if (write(2, line, n) < 0)
			return;
	}
}

static void emit(enum log_level lvl, const char *text)
{
	emit_line(lvl, text, may_block);
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
		emit_line(k->lvl, buf, false);     /* under kinds_lock */
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
	}
	pthread_mutex_unlock(&kinds_lock);
	if (show)           /* not under kinds_lock: it may wait */
		emit(k->lvl, buf);
}

/* One kind's count at a time, written after kinds_lock is released: the
 * main thread at exit may wait for the reader then (nothing else logs). */
void log_flush_suppressed(void)
{
	for (;;) {
		struct log_kind *k;
		enum log_level lvl = LOG_WARN;
		char buf[256];
		bool say = false;

		pthread_mutex_lock(&kinds_lock);
		for (k = kinds; k && !k->missed; k = k->next)
			;
		if (k) {
			snprintf(buf, sizeof(buf), "%u more like this "
				 "suppressed: %s", k->missed, k->last);
			k->missed = 0;
			lvl = k->lvl;
			say = shown(k->lvl, k->last);
		}
		pthread_mutex_unlock(&kinds_lock);
		if (!k)
			break;
		if (say)
			emit(lvl, buf);
	}
	say_dropped();
}
