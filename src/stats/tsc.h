/* The host's time stamp counter: a few cycles to read, no system call,
 * so the exit path can take two timestamps per exit. */
#ifndef CVISOR_STATS_TSC_H
#define CVISOR_STATS_TSC_H

#include <stdint.h>
#include <time.h>

static inline uint64_t tsc_read(void)
{
#if defined(__x86_64__) || defined(__i386__)
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	struct timespec ts;     /* other hosts: nanoseconds as "cycles" */

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

#endif
