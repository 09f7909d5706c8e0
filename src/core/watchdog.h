/* The stop path's deadline: once a stop is under way, the process ends
 * within a bounded time whatever a thread, a backend or the kernel does
 * (watchdog.c). */
#ifndef CVISOR_CORE_WATCHDOG_H
#define CVISOR_CORE_WATCHDOG_H

/* How long an orderly stop (or a reset's teardown) may take. */
#define STOP_DEADLINE_MS 2000
/* The exit's last phase: each console may take ~1 s (its output
 * flushed, then its command asked to stop, then killed). */
#define EXIT_DEADLINE_MS 5000

/* Start the watchdog thread (once; watchdog_arm() does it when needed,
 * so call it before sandboxing to keep thread creation out of it).
 * 0 or -errno. */
int watchdog_start(void);
/* From now on, if not disarmed within ms, log why and _exit(status). */
void watchdog_arm(int ms, int status, const char *what);
void watchdog_disarm(void);

#endif
