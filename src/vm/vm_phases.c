/* Startup phase stamps: see vm_phases.h. The file is opened before the
 * sandbox and written with write(2) at the end, which every thread's
 * allowlist has. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "vm/vm_phases.h"

#define MAX_PHASES 32

static struct {
	const char *name;
	uint64_t ns;
} phases[MAX_PHASES];
static atomic_uint nr_phases;
static int phases_fd = -1;
static uint64_t t0_ns;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vm_phases_init(void)
{
	const char *path = getenv("CVISOR_PHASES");
	const char *t0 = getenv("BENCH_T0_NS");

	if (!path || !*path)
		return;
	phases_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			 0644);
	if (phases_fd < 0)
		return;
	t0_ns = t0 ? strtoull(t0, NULL, 10) : 0;
	vm_phase("main");
	if (!t0_ns)
		t0_ns = phases[0].ns;
}

void vm_phase(const char *name)
{
	unsigned i;

	if (phases_fd < 0)
		return;
	i = atomic_fetch_add(&nr_phases, 1);
	if (i < MAX_PHASES) {
		phases[i].ns = mono_ns();
		phases[i].name = name;
	}
}

void vm_phases_write(void)
{
	unsigned n;
	char line[96];

	if (phases_fd < 0)
		return;
	vm_phase("teardown");
	n = atomic_load(&nr_phases);
	n = n < MAX_PHASES ? n : MAX_PHASES;
	for (unsigned i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "cvisor %s %.3f\n",
				   phases[i].name,
				   (double)(phases[i].ns - t0_ns) / 1e6);

		if (len > 0 && write(phases_fd, line, (size_t)len) < 0)
			break;
	}
	phases_fd = -1;     /* closed by the exit, as the VM's fds */
}
