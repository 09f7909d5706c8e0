/* The trace file: a 64-byte header, then 32-byte records (ring.h) in the
 * order the drain thread took them (per vCPU in time order; vCPUs
 * interleaved by drain round), ended by a TRACE_EV_END record that gives
 * the TSC frequency. A file without it (cvisor killed) still decodes,
 * with times in cycles. Readers and the report live here too.
 */
#ifndef CVISOR_TRACE_FILE_H
#define CVISOR_TRACE_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/ring.h"

#define TRACE_MAGIC   "CVTRACE"      /* 8 bytes with its NUL */
#define TRACE_VERSION 1

struct trace_file_hdr {
	char magic[8];
	uint32_t version;
	uint32_t rec_size;
	uint64_t start_tsc;
	uint64_t start_unix_ns;
	uint64_t reserved[4];
};
_Static_assert(sizeof(struct trace_file_hdr) == 64, "trace header size");

void trace_hdr_init(struct trace_file_hdr *h, uint64_t start_tsc,
		    uint64_t unix_ns);

struct trace_data {
	struct trace_file_hdr hdr;
	struct trace_rec *recs;      /* every record but the END one */
	size_t nr;
	uint64_t tsc_hz;             /* from the END record; 0: unknown */
	uint64_t lost;               /* the sum of the LOST records */
	bool complete;               /* an END record was there */
};

/* Read and check a whole file; 0, or -1 with a message in err. */
int trace_read(const char *path, struct trace_data *d, char *err,
	       size_t errlen);
void trace_data_free(struct trace_data *d);

/* One record as a line: text (csv false) or CSV, times relative to t0
 * (µs when hz is known, else cycles). */
void trace_print_rec(FILE *f, const struct trace_rec *r, uint64_t t0,
		     uint64_t hz, bool csv);
void trace_print_csv_header(FILE *f);

/* The report: per event count and p50/p99/max time in cvisor, then the
 * busiest addresses. */
void trace_report(FILE *f, const struct trace_data *d);
/* Nearest-rank percentile (1..100) of sorted[0..n): sorted[ceil(p*n/100)-1]. */
uint32_t trace_percentile(const uint32_t *sorted, size_t n, unsigned pct);
/* The event's name ("mmio", "io", "lost"...) or NULL. */
const char *trace_event_name(unsigned ev);

/* cvisor trace decode [--csv] FILE | report FILE */
int trace_main(int argc, char **argv);

#endif
