/* Reading traces back (src/trace/file.c): the file checks, the decoder's
 * text and CSV lines, a file cvisor did not finish, the report's counts
 * and its nearest-rank percentiles. */
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "trace/file.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_trace_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

/* hdr (start_tsc 1000), recs, then END with hz when hz != 0 */
static void write_file(const struct trace_rec *recs, size_t n, uint64_t hz)
{
	FILE *f = fopen(path, "wb");
	struct trace_file_hdr h;

	assert_non_null(f);
	trace_hdr_init(&h, 1000, 0);
	assert_int_equal(fwrite(&h, sizeof(h), 1, f), 1);
	if (n)
		assert_int_equal(fwrite(recs, sizeof(*recs), n, f), n);
	if (hz) {
		struct trace_rec end = { .event = TRACE_EV_END, .value = hz,
					 .addr = n };

		assert_int_equal(fwrite(&end, sizeof(end), 1, f), 1);
	}
	fclose(f);
}

static const struct trace_rec sample[] = {
	{ .tsc = 3000, .vcpu = 0, .event = KVM_EXIT_MMIO, .addr = 0xfeb00000,
	  .value = 0x2a, .flags = 4 | TRACE_F_WRITE, .cycles = 2000 },
	{ .tsc = 5000, .vcpu = 1, .event = KVM_EXIT_IO, .addr = 0x3fd,
	  .value = 0x60, .flags = 1, .cycles = 500 },
	{ .tsc = 6000, .vcpu = 1, .event = TRACE_EV_LOST, .value = 7 },
	{ .tsc = 7000, .vcpu = 0, .event = KVM_EXIT_INTR, .cycles = 10 },
};

static char *capture(void (*fn)(FILE *f, const void *arg), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

static void test_read(void **state)
{
	struct trace_data d;
	char err[200];

	write_file(sample, 4, 1000000);        /* 1 cycle = 1 us */
	assert_int_equal(trace_read(path, &d, err, sizeof(err)), 0);
	assert_int_equal(d.nr, 4);
	assert_true(d.complete);
	assert_int_equal(d.tsc_hz, 1000000);
	assert_int_equal(d.lost, 7);
	assert_int_equal(d.recs[1].addr, 0x3fd);
	trace_data_free(&d);

	/* killed cvisor: no END record, and half a record at the end */
	write_file(sample, 2, 0);
	{
		FILE *f = fopen(path, "ab");

		fwrite("xxxx", 4, 1, f);
		fclose(f);
	}
	assert_int_equal(trace_read(path, &d, err, sizeof(err)), 0);
	assert_int_equal(d.nr, 2);
	assert_false(d.complete);
	assert_int_equal(d.tsc_hz, 0);
	trace_data_free(&d);
}

static void test_read_bad(void **state)
{
	struct trace_data d;
	char err[200];
	FILE *f = fopen(path, "wb");

	fputs("not a trace at all, but long enough for a header........"
	      "..........", f);
	fclose(f);
	assert_int_equal(trace_read(path, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a cvisor trace"));
	assert_int_equal(trace_read("/nonexistent/x", &d, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "No such file"));
}

static void print_text(FILE *f, const void *arg)
{
	for (size_t i = 0; i < 4; i++)
		trace_print_rec(f, &sample[i], 1000, *(const uint64_t *)arg,
				false);
}

static void print_csv(FILE *f, const void *arg)
{
	trace_print_csv_header(f);
	for (size_t i = 0; i < 4; i++)
		trace_print_rec(f, &sample[i], 1000, *(const uint64_t *)arg,
				true);
}

static void test_decode(void **state)
{
	uint64_t hz = 1000000, none = 0;
	char *t = capture(print_text, &hz), *c;

	/* t0 1000: the MMIO write 2000 us in, 2000 us spent */
	assert_non_null(strstr(t, "2000.000 vcpu0  mmio   w32 0xfeb00000   "
			       "= 0x2a "));
	assert_non_null(strstr(t, "4000.000 vcpu1  io     r8 0x3fd        "
			       "= 0x60 "));
	assert_non_null(strstr(t, "vcpu1  lost 7 records"));
	assert_non_null(strstr(t, "vcpu0  intr "));
	free(t);
	c = capture(print_csv, &hz);
	assert_string_equal(c,
		"time,vcpu,event,addr,size,dir,value,time_in_cvisor\n"
		"2000.000,0,mmio,0xfeb00000,4,w,0x2a,2000.000\n"
		"4000.000,1,io,0x3fd,1,r,0x60,500.000\n"
		"5000.000,1,lost,0x0,0,,0x7,0.000\n"
		"6000.000,0,intr,0x0,0,,0x0,10.000\n");
	free(c);
	/* rate unknown: cycles */
	c = capture(print_csv, &none);
	assert_non_null(strstr(c, "\n2000,0,mmio,0xfeb00000,4,w,0x2a,2000\n"));
	free(c);
}

static void test_percentile(void **state)
{
	uint32_t v[100];

	for (uint32_t i = 0; i < 100; i++)
		v[i] = i + 1;
	assert_int_equal(trace_percentile(v, 100, 50), 50);
	assert_int_equal(trace_percentile(v, 100, 99), 99);
	assert_int_equal(trace_percentile(v, 100, 100), 100);
	assert_int_equal(trace_percentile(v, 100, 1), 1);
	/* nearest rank: ceil(p * n / 100) */
	assert_int_equal(trace_percentile(v, 10, 50), 5);
	assert_int_equal(trace_percentile(v, 10, 99), 10);
	assert_int_equal(trace_percentile(v, 3, 50), 2);
	assert_int_equal(trace_percentile(v, 1, 99), 1);
	assert_int_equal(trace_percentile(v, 0, 50), 0);
}

static void print_report(FILE *f, const void *arg)
{
	trace_report(f, arg);
}

static void test_report(void **state)
{
	/* 200 MMIO writes taking 1..200 cycles (shuffled), 3 port reads */
	struct trace_rec recs[203];
	struct trace_data d = { .recs = recs, .nr = 203, .tsc_hz = 1000000,
				.complete = true };
	char *r;

	for (unsigned i = 0; i < 200; i++)
		recs[i] = (struct trace_rec){ .event = KVM_EXIT_MMIO,
			.addr = 0xfeb00000, .flags = 4 | TRACE_F_WRITE,
			.cycles = (i * 37) % 200 + 1 };
	for (unsigned i = 200; i < 203; i++)
		recs[i] = (struct trace_rec){ .event = KVM_EXIT_IO,
			.addr = 0xf4, .flags = 1, .cycles = 1000 * i };
	r = capture(print_report, &d);
	/* p50 of 1..200 is 100, p99 198, max 200 */
	assert_non_null(strstr(r, "\nmmio                    200     "
			       "100.000     198.000     200.000\n"));
	assert_non_null(strstr(r, "\nio                        3  "
			       "201000.000  202000.000  202000.000\n"));
	assert_non_null(strstr(r, "\ntotal                   203\n"));
	assert_non_null(strstr(r, "mmio     0xfeb00000         write"
			       "          200\n"));
	assert_non_null(strstr(r, "io       0xf4               read "
			       "            3\n"));
	assert_null(strstr(r, "lost"));
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_read_bad),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_report),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
