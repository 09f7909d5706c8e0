/* runner: run a command N times and print, per run, wall time (ms), the
 * child's peak RSS (KiB), its exit status and its CPU time (user + system,
 * ms), one "ms kib status cpu_ms" line each. Used by the bench
 * scripts so every peer is timed the same way, exec to exit. The child
 * gets the start time as BENCH_T0_NS (CLOCK_MONOTONIC ns). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: runner N command [args...]\n");
		return 64;
	}
	int n = atoi(argv[1]);
	for (int i = 0; i < n; i++) {
		struct timespec a, b;
		struct rusage ru;
		int st;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_RDWR);
			char t0[32];

			/* the start for the peers' phase stamps
			 * (CVISOR_PHASES, bench/startup.sh PHASES=1) */
			snprintf(t0, sizeof(t0), "%lld", (long long)a.tv_sec *
				 1000000000LL + a.tv_nsec);
			setenv("BENCH_T0_NS", t0, 1);
			dup2(null, 0);
			dup2(null, 1);
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
			perror("runner");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%.3f %ld %d %.3f\n", (b.tv_sec - a.tv_sec) * 1e3 +
		       (b.tv_nsec - a.tv_nsec) / 1e6, ru.ru_maxrss,
		       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
		       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
	}
	return 0;
}
