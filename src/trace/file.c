/* Reading a trace file back: checks, one line per record, the report. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stats/stats.h"
#include "trace/file.h"

void trace_hdr_init(struct trace_file_hdr *h, uint64_t start_tsc,
		    uint64_t unix_ns)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, TRACE_MAGIC, sizeof(TRACE_MAGIC));
	h->version = TRACE_VERSION;
	h->rec_size = sizeof(struct trace_rec);
	h->start_tsc = start_tsc;
	h->start_unix_ns = unix_ns;
}

const char *trace_event_name(unsigned ev)
{
	if (ev == TRACE_EV_LOST)
		return "lost";
	if (ev == TRACE_EV_END)
		return "end";
	return stats_exit_name(ev);
}

void trace_data_free(struct trace_data *d)
{
	free(d->recs);
	memset(d, 0, sizeof(*d));
}

int trace_read(const char *path, struct trace_data *d, char *err,
	       size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t cap;

	memset(d, 0, sizeof(*d));
	if (!f || fstat(fileno(f), &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (fread(&d->hdr, sizeof(d->hdr), 1, f) != 1 ||
	    memcmp(d->hdr.magic, TRACE_MAGIC, sizeof(TRACE_MAGIC)) ||
	    d->hdr.version != TRACE_VERSION ||
	    d->hdr.rec_size != sizeof(struct trace_rec)) {
		snprintf(err, errlen, "%s: not a cvisor trace (version %u)",
			 path, TRACE_VERSION);
		fclose(f);
		return -1;
	}
	cap = st.st_size > (off_t)sizeof(d->hdr) ?
	      (size_t)(st.st_size - (off_t)sizeof(d->hdr)) /
	      sizeof(struct trace_rec) : 0;
	d->recs = calloc(cap ? cap : 1, sizeof(*d->recs));
	if (!d->recs) {
		snprintf(err, errlen, "%s: too big to read", path);
		fclose(f);
		return -1;
	}
	for (size_t i = 0; i < cap; i++) {
		struct trace_rec r;

		if (fread(&r, sizeof(r), 1, f) != 1)
			break;            /* a torn last record: cvisor killed */
		if (r.event == TRACE_EV_END) {
			d->tsc_hz = r.value;
			d->complete = true;
			break;
		}
		if (r.event == TRACE_EV_LOST)
			d->lost += r.value;
		d->recs[d->nr++] = r;
	}
	fclose(f);
	return 0;
}

static uint64_t first_tsc(const struct trace_data *d)
{
	uint64_t t0 = d->hdr.start_tsc;

	for (size_t i = 0; i < d->nr; i++)
		if (d->recs[i].tsc < t0)
			t0 = d->recs[i].tsc;
	return t0;
}

void trace_print_csv_header(FILE *f)
{
	fputs("time,vcpu,event,addr,size,dir,value,time_in_cvisor\n", f);
}

void trace_print_rec(FILE *f, const struct trace_rec *r, uint64_t t0,
		     uint64_t hz, bool csv)
{
	const char *name = trace_event_name(r->event);
	char ev[16], when[32], spent[32];
	unsigned size = r->flags & TRACE_F_SIZE;
	const char *dir = !size ? "" : r->flags & TRACE_F_WRITE ? "w" : "r";
	uint64_t dt = r->tsc >= t0 ? r->tsc - t0 : 0;

	if (!name) {
		snprintf(ev, sizeof(ev), "reason_%u", r->event);
		name = ev;
	}
	if (hz) {
		snprintf(when, sizeof(when), "%.3f",
			 (double)dt * 1e6 / (double)hz);
		snprintf(spent, sizeof(spent), "%.3f",
			 (double)r->cycles * 1e6 / (double)hz);
	} else {
		snprintf(when, sizeof(when), "%" PRIu64, dt);
		snprintf(spent, sizeof(spent), "%" PRIu32, r->cycles);
	}
	if (csv) {
		fprintf(f, "%s,%u,%s,0x%" PRIx64 ",%u,%s,0x%" PRIx64 ",%s\n",
			when, r->vcpu, name, r->addr, size, dir, r->value,
			spent);
	} else if (r->event == TRACE_EV_LOST) {
		fprintf(f, "%14s vcpu%-2u lost %" PRIu64 " records (ring "
			"full)\n", when, r->vcpu, r->value);
	} else if (size) {
		fprintf(f, "%14s vcpu%-2u %-6s %s%u 0x%-10" PRIx64
			" = 0x%-8" PRIx64 " %10s%s%s\n", when, r->vcpu, name,
			dir, size * 8, r->addr, r->value, spent,
			hz ? " us" : " cyc", r->flags & TRACE_F_REP ?
			" (rep)" : "");
	} else {
		fprintf(f, "%14s vcpu%-2u %-6s %40s%s\n", when, r->vcpu, name,
			spent, hz ? " us" : " cyc");
	}
}

uint32_t trace_percentile(const uint32_t *sorted, size_t n, unsigned pct)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (n * pct + 99) / 100;
	if (!rank)
		rank = 1;
	return sorted[(rank > n ? n : rank) - 1];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void print_time(FILE *f, uint64_t cycles, uint64_t hz)
{
	if (hz)
		fprintf(f, " %11.3f", (double)cycles * 1e6 / (double)hz);
	else
		fprintf(f, " %11" PRIu64, cycles);
}

/* Counts per (event, address, direction), for the busiest list. */
struct addr_count {
	uint64_t addr, n;
	uint8_t event, write;
};

static int cmp_addr(const void *a, const void *b)
{
	const struct addr_count *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 :
	       x->addr < y->addr ? -1 : x->addr > y->addr;
}

#define REPORT_ADDRS 4096

static void report_addrs(FILE *f, const struct trace_data *d)
{
	struct addr_count *a = calloc(REPORT_ADDRS, sizeof(*a));
	size_t na = 0, other = 0;

	if (!a)
		return;
	for (size_t i = 0; i < d->nr; i++) {
		const struct trace_rec *r = &d->recs[i];
		uint8_t w = !!(r->flags & TRACE_F_WRITE);
		size_t k;

		if (!(r->flags & TRACE_F_SIZE))
			continue;
		for (k = 0; k < na; k++)
			if (a[k].addr == r->addr && a[k].event == r->event &&
			    a[k].write == w)
				break;
		if (k == na) {
			if (na == REPORT_ADDRS) {
				other++;
				continue;
			}
			a[na++] = (struct addr_count){ r->addr, 0, r->event,
						       w };
		}
		a[k].n++;
	}
	qsort(a, na, sizeof(*a), cmp_addr);
	if (na)
		fprintf(f, "\n%-8s %-18s %-5s %12s\n", "event", "address",
			"dir", "count");
	for (size_t k = 0; k < na && k < 16; k++)
		fprintf(f, "%-8s 0x%-16" PRIx64 " %-5s %12" PRIu64 "\n",
			trace_event_name(a[k].event) ?: "?", a[k].addr,
			a[k].write ? "write" : "read", a[k].n);
	if (other)
		fprintf(f, "(%zu accesses at further addresses not listed)\n",
			other);
	free(a);
}

void trace_report(FILE *f, const struct trace_data *d)
{
	uint64_t hz = d->tsc_hz;
	uint64_t total = 0;

	fprintf(f, "%-16s %10s %11s %11s %11s   (time in cvisor, %s)\n",
		"event", "count", "p50", "p99", "max", hz ? "us" : "TSC cycles");
	for (unsigned ev = 0; ev < 256; ev++) {
		uint32_t *c;
		size_t n = 0;
		char other[16];
		const char *name = trace_event_name(ev);

		if (ev == TRACE_EV_LOST || ev == TRACE_EV_END)
			continue;
		for (size_t i = 0; i < d->nr; i++)
			n += d->recs[i].event == ev;
		if (!n)
			continue;
		c = malloc(n * sizeof(*c));
		if (!c)
			return;
		n = 0;
		for (size_t i = 0; i < d->nr; i++)
			if (d->recs[i].event == ev)
				c[n++] = d->recs[i].cycles;
		qsort(c, n, sizeof(*c), cmp_u32);
		if (!name) {
			snprintf(other, sizeof(other), "reason_%u", ev);
			name = other;
		}
		fprintf(f, "%-16s %10zu", name, n);
		print_time(f, trace_percentile(c, n, 50), hz);
		print_time(f, trace_percentile(c, n, 99), hz);
		print_time(f, c[n - 1], hz);
		fputc('\n', f);
		total += n;
		free(c);
	}
	fprintf(f, "%-16s %10" PRIu64 "\n", "total", total);
	if (d->lost)
		fprintf(f, "lost: %" PRIu64 " records (a vCPU's ring was "
			"full)\n", d->lost);
	if (!d->complete)
		fprintf(f, "(the trace has no end record: cvisor did not "
			"finish it)\n");
	report_addrs(f, d);
}

static int usage(void)
{
	fputs("usage: cvisor trace decode [--csv] FILE\n"
	      "       cvisor trace report FILE\n", stderr);
	return 64;
}

int trace_main(int argc, char **argv)
{
	struct trace_data d;
	bool csv = false, report;
	const char *path;
	char err[300];

	if (argc < 2)
		return usage();
	report = !strcmp(argv[0], "report");
	if (!report && strcmp(argv[0], "decode"))
		return usage();
	if (!report && argc == 3 && !strcmp(argv[1], "--csv"))
		csv = true;
	else if (argc != 2)
		return usage();
	path = argv[argc - 1];
	if (trace_read(path, &d, err, sizeof(err))) {
		fprintf(stderr, "cvisor: %s\n", err);
		return 66;
	}
	if (report) {
		trace_report(stdout, &d);
	} else {
		uint64_t t0 = first_tsc(&d);

		if (csv)
			trace_print_csv_header(stdout);
		for (size_t i = 0; i < d.nr; i++)
			trace_print_rec(stdout, &d.recs[i], t0, d.tsc_hz, csv);
	}
	trace_data_free(&d);
	return 0;
}
