/* The statistics groups beyond the exit counts, in words (ctl_print_stats
 * in format.c calls these): time in cvisor per exit reason, accesses per
 * device region, unclaimed accesses, the trace. */
#include <inttypes.h>
#include <string.h>

#include "ctl/ctl_priv.h"

static int64_t num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v)
						       : 0;
}

/* cycles as time: "12.3 us", or cycles when the rate is unknown */
static void print_cycles(FILE *f, int64_t c, int64_t hz)
{
	if (hz > 0)
		fprintf(f, "%.1f us", (double)c * 1e6 / (double)hz);
	else
		fprintf(f, "%" PRId64 " cycles", c);
}

void ctl_print_exit_times(FILE *f, json_object *vcpu, int64_t hz)
{
	json_object *times;

	if (!json_object_object_get_ex(vcpu, "exit_time", &times))
		return;
	json_object_object_foreach(times, reason, t) {
		int64_t n = num(t, "count");

		if (!n)
			continue;
		fprintf(f, "  %-14s %10" PRId64 " exits, in cvisor: mean ",
			reason, n);
		print_cycles(f, num(t, "cycles") / n, hz);
		fprintf(f, ", p50 < ");
		print_cycles(f, num(t, "p50_cycles"), hz);
		fprintf(f, ", p99 < ");
		print_cycles(f, num(t, "p99_cycles"), hz);
		fputc('\n', f);
	}
}

static void print_devices(FILE *f, json_object *a)
{
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i), *t, *rs;

		if (!json_object_object_get_ex(d, "regions", &rs))
			continue;
		json_object_object_get_ex(d, "type", &t);
		for (size_t j = 0; j < json_object_array_length(rs); j++) {
			json_object *r = json_object_array_get_idx(rs, j);
			json_object *sp, *base;

			json_object_object_get_ex(r, "space", &sp);
			json_object_object_get_ex(r, "base", &base);
			fprintf(f, "device %s %s %s: %" PRId64 " reads, %"
				PRId64 " writes\n", json_object_get_string(t),
				json_object_get_string(sp),
				json_object_get_string(base), num(r, "reads"),
				num(r, "writes"));
		}
	}
}

static void print_virtio(FILE *f, json_object *a)
{
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i), *t;

		json_object_object_get_ex(d, "type", &t);
		fprintf(f, "virtio %zu %s: %" PRId64 " notifies, %" PRId64
			" requests, %" PRId64 " bytes to the guest, %" PRId64
			" interrupts\n", i, json_object_get_string(t),
			num(d, "notifies"), num(d, "requests"),
			num(d, "bytes_to_guest"), num(d, "interrupts"));
	}
}

/* "line 4 (ser8250): 12 interrupts" */
static void print_lines(FILE *f, json_object *a)
{
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *l = json_object_array_get_idx(a, i), *devs = NULL;

		fprintf(f, "line %" PRId64, num(l, "line"));
		if (json_object_object_get_ex(l, "devices", &devs))
			for (size_t j = 0; j < json_object_array_length(devs); j++)
				fprintf(f, "%s%s", j ? ", " : " (",
					json_object_get_string(
					json_object_array_get_idx(devs, j)));
		fprintf(f, "%s: %" PRId64 " interrupts\n",
			devs && json_object_array_length(devs) ? ")" : "",
			num(l, "asserted"));
	}
}

bool ctl_print_stats_group(FILE *f, const char *key, json_object *val)
{
	if (!strcmp(key, "devices")) {
		print_devices(f, val);
	} else if (!strcmp(key, "virtio")) {
		print_virtio(f, val);
	} else if (!strcmp(key, "lines")) {
		print_lines(f, val);
	} else if (!strcmp(key, "unclaimed")) {
		fprintf(f, "unclaimed: %" PRId64 " io, %" PRId64 " mmio\n",
			num(val, "io"), num(val, "mmio"));
	} else if (!strcmp(key, "trace")) {
		json_object *file;

		if (!json_object_object_get_ex(val, "file", &file))
			return true;      /* never traced: nothing to say */
		fprintf(f, "trace: %s %s, %" PRId64 " records, %" PRId64
			" lost", json_object_get_boolean(
			json_object_object_get(val, "active")) ? "on" : "off",
			json_object_get_string(file), num(val, "records"),
			num(val, "lost"));
		if (num(val, "write_errors"))
			fprintf(f, ", %" PRId64 " write errors",
				num(val, "write_errors"));
		fputc('\n', f);
	} else if (!strcmp(key, "tsc_hz")) {
		/* used by the lines above */
	} else {
		return false;
	}
	return true;
}
