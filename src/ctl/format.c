/* Answers in words, for people: `cvisor ctl` without --json, and the
 * status summary SIGUSR1 prints on stderr. Only fields that are there are
 * printed, so an older or newer server's answer still prints.
 */
#include <inttypes.h>
#include <string.h>

#include "ctl/ctl_priv.h"
#include "vm/vm.h"

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v)
						       : 0;
}

static void print_size(FILE *f, int64_t b)
{
	if (b >= (1 << 30) && !(b % (1 << 30)))
		fprintf(f, "%" PRId64 " GiB", b >> 30);
	else if (b >= (1 << 20) && !(b % (1 << 20)))
		fprintf(f, "%" PRId64 " MiB", b >> 20);
	else if (b >= 1024 && !(b % 1024))
		fprintf(f, "%" PRId64 " KiB", b >> 10);
	else
		fprintf(f, "%" PRId64 " bytes", b);
}

/* The strings of a JSON array, comma-separated. */
static void print_list(FILE *f, const char *label, json_object *o,
		       const char *key)
{
	json_object *a;
	size_t n;

	if (!json_object_object_get_ex(o, key, &a) ||
	    !json_object_is_type(a, json_type_array))
		return;
	n = json_object_array_length(a);
	if (!n)
		return;
	fprintf(f, "  %s ", label);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "",
			json_object_get_string(json_object_array_get_idx(a, i)));
}

static void print_devices(FILE *f, json_object *st)
{
	json_object *a;

	if (!json_object_object_get_ex(st, "devices", &a))
		return;
	fprintf(f, "devices:\n");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *d = json_object_array_get_idx(a, i);
		const char *name = str(d, "name");

		fprintf(f, "  %-16s %-9s", str(d, "type"),
			str(d, "transport"));
		if (name)
			fprintf(f, "  name %s", name);
		print_list(f, "loc", d, "loc");
		print_list(f, "intr", d, "intr");
		print_list(f, "hostdev", d, "hostdev");
		fputc('\n', f);
	}
}

void ctl_print_status(FILE *f, json_object *st)
{
	json_object *a;
	const char *sys = str(st, "system");

	fprintf(f, "state: %s", str(st, "state"));
	if (json_object_object_get_ex(st, "uptime_ms", NULL))
		fprintf(f, "   uptime: %.1f s", num(st, "uptime_ms") / 1000.0);
	if (sys)
		fprintf(f, "   system: %s", sys);
	fputc('\n', f);
	if (json_object_object_get_ex(st, "vcpus", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *v = json_object_array_get_idx(a, i);

			fprintf(f, "vcpu %" PRId64 ": %s\n", num(v, "id"),
				str(v, "state"));
		}
	if (json_object_object_get_ex(st, "memory", &a)) {
		fprintf(f, "memory:");
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *m = json_object_array_get_idx(a, i);

			fprintf(f, "%s %s %s ", i ? ";" : "", str(m, "kind"),
				str(m, "start"));
			print_size(f, num(m, "size"));
		}
		fputc('\n', f);
	}
	print_devices(f, st);
}

void ctl_print_stats(FILE *f, json_object *stats)
{
	json_object *a;

	if (json_object_object_get_ex(stats, "vcpus", &a))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *v = json_object_array_get_idx(a, i);
			json_object *by;
			bool first = true;

			fprintf(f, "vcpu %" PRId64 ": %" PRId64 " exits",
				num(v, "id"), num(v, "exits"));
			if (json_object_object_get_ex(v, "exits_by_reason",
						      &by)) {
				json_object_object_foreach(by, k, n) {
					fprintf(f, "%s%s %" PRId64,
						first ? " (" : ", ", k,
						json_object_get_int64(n));
					first = false;
				}
			}
			fprintf(f, "%s", first ? "" : ")");
			if (num(v, "coalesced_writes") > 0)
				fprintf(f, ", %" PRId64 " writes coalesced",
					num(v, "coalesced_writes"));
			fputc('\n', f);
			ctl_print_exit_times(f, v, num(stats, "tsc_hz"));
		}
	/* Groups this printer does not know: as name: JSON. */
	json_object_object_foreach(stats, key, val) {
		if (!strcmp(key, "vcpus") || ctl_print_stats_group(f, key, val))
			continue;
		fprintf(f, "%s: %s\n", key, json_object_to_json_string_ext(val,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
}

void ctl_print_status_vm(FILE *f, struct vm *vm)
{
	json_object *st = ctl_status_json(vm);

	ctl_print_status(f, st);
	json_object_put(st);
}
