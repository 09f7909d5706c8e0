/* The stop path's deadline.
 *
 * Stopping joins vCPU threads, the event loop, block workers and `|cmd`
 * children; each of those steps is bounded on its own, but a stop must
 * end the process even when one of them is not (a vCPU stuck in the
 * kernel, a disk that never completes). So the main thread arms this
 * watchdog before it starts to stop, and disarms it when the teardown is
 * done; if the deadline passes first, the watchdog thread says so and ends
 * the process with the status the stop was going to return.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "core/watchdog.h"

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond;
static bool wd_armed;
static struct timespec wd_when;
static int wd_status;
static const char *wd_what;

static void expire(void)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "cvisor: %s did not finish within "
			 "%d ms: exiting now\n", wd_what, STOP_DEADLINE_MS);

	chardev_restore_terminals();
	if (n > 0 && write(2, msg, (size_t)n) < 0)
		n = 0;
	_exit(wd_status);
}

static void *watchdog_thread(void *arg)
{
	pthread_setname_np(pthread_self(), "cvisor-watchdog");
	pthread_mutex_lock(&wd_lock);
	for (;;) {
		int rc = 0;

		if (!wd_armed)
			pthread_cond_wait(&wd_cond, &wd_lock);
		else
			rc = pthread_cond_timedwait(&wd_cond, &wd_lock,
						    &wd_when);
		if (rc == ETIMEDOUT && wd_armed)
			expire();
	}
	return NULL;
}

int watchdog_start(void)
{
	static bool started;
	pthread_condattr_t a;
	pthread_t t;
	int err;

	/* main thread only (vm_stop_threads) */
	if (started)
		return 0;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&wd_cond, &a);
	pthread_condattr_destroy(&a);
	err = pthread_create(&t, NULL, watchdog_thread, NULL);
	if (err)
		return -err;
	pthread_detach(t);
	started = true;
	return 0;
}

void watchdog_arm(int ms, int status, const char *what)
{
	struct timespec now;
	int err = watchdog_start();

	if (err) {
		/* No thread for it: the stop goes on without a deadline,
		 * as it would have before; say so. */
		fprintf(stderr, "cvisor: no stop watchdog: %s\n",
			strerror(-err));
		return;
	}

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&wd_lock);
	wd_when.tv_sec = now.tv_sec + ms / 1000;
	wd_when.tv_nsec = now.tv_nsec + (long)(ms % 1000) * 1000000L;
	if (wd_when.tv_nsec >= 1000000000L) {
		wd_when.tv_sec++;
		wd_when.tv_nsec -= 1000000000L;
	}
	wd_status = status;
	wd_what = what;
	wd_armed = true;
	pthread_cond_signal(&wd_cond);
	pthread_mutex_unlock(&wd_lock);
}

void watchdog_disarm(void)
{
	pthread_mutex_lock(&wd_lock);
	wd_armed = false;
	pthread_cond_signal(&wd_cond);
	pthread_mutex_unlock(&wd_lock);
}
