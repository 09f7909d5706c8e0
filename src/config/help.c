/* `cvisor --help` and `cvisor help vdev TYPE`: generated from the vdev
 * registry, so they list exactly what the parser accepts. */
#include <inttypes.h>
#include <string.h>

#include "config/cfg_internal.h"
#include "config/help.h"
#include "core/exit_codes.h"
#include "devices/registry.h"

void help_vdev_types(FILE *f)
{
	unsigned col = 0;

	fputs("vdev types (cvisor help vdev TYPE for the options of one):\n",
	      f);
	for (const struct vdev_type *const *t = vdev_types; *t; t++) {
		if (!(*t)->supported)
			continue;
		if (col + strlen((*t)->name) > 72) {
			fputc('\n', f);
			col = 0;
		}
		col += (unsigned)fprintf(f, "%s%s", col ? " " : "  ",
					 (*t)->name);
	}
	fputc('\n', f);
}

static const struct {
	int status;
	const char *what;
} exit_codes[] = {
	{ CV_EXIT_OK, "the guest powered off (or debug-exit's value)" },
	{ CV_EXIT_TERMINATED, "terminated: SIGTERM, SIGINT, Ctrl-A x" },
	{ CV_EXIT_WATCHDOG, "a watchdog vdev fired" },
	{ CV_EXIT_UNSUPPORTED, "the guest did something cvisor cannot do" },
	{ CV_EXIT_VDEV_ERROR, "a device error" },
	{ CV_EXIT_UNEXPECTED, "an unexpected error (KVM internal error...)" },
	{ CV_EXIT_TRIPLE_FAULT, "the guest triple-faulted" },
	{ CV_EXIT_REBOOT, "the guest asked for a reset with 'reboot exit'" },
	{ CV_EXIT_USAGE, "fatal before the guest started (usage, host)" },
	{ CV_EXIT_CONFIG, "configuration error" },
	{ CV_EXIT_POSTSTART, "fatal after the guest started" },
};

void help_exit_codes(FILE *f)
{
	fputs("exit status:\n", f);
	for (size_t i = 0; i < sizeof(exit_codes) / sizeof(exit_codes[0]); i++)
		fprintf(f, "  %-3d %s\n", exit_codes[i].status,
			exit_codes[i].what);
}

static void print_opt(FILE *f, const struct devopt_spec *o)
{
	switch (o->kind) {
	case DEVOPT_FLAG:
		fprintf(f, "  %s\n", o->key);
		break;
	case DEVOPT_NUM:
		fprintf(f, "  %s N          (%" PRIu64 "-%" PRIu64 ")\n", o->key,
			o->min, o->max);
		break;
	case DEVOPT_ENUM:
		fprintf(f, "  %s %s\n", o->key, o->choices);
		break;
	case DEVOPT_LIST:
		fprintf(f, "  %s N,N...\n", o->key);
		break;
	default:
		fprintf(f, "  %s VALUE\n", o->key);
		break;
	}
}

static const char *vdev_type_names[64];

static const char *suggest_type(const char *name)
{
	size_t n = 0;

	for (const struct vdev_type *const *t = vdev_types;
	     *t && n < sizeof(vdev_type_names) / sizeof(vdev_type_names[0]);
	     t++)
		vdev_type_names[n++] = (*t)->name;
	return suggest_word(name, vdev_type_names, n);
}

int help_vdev(FILE *f, const char *name)
{
	const struct vdev_type *t = vdev_type_find(name);
	uint64_t addr;
	uint32_t line;

	if (!t) {
		const char *s = suggest_type(name);

		fprintf(stderr, "cvisor: unknown vdev type '%s'%s%s%s\n", name,
			s ? "; did you mean '" : "", s ? s : "",
			s ? "'?" : "");
		return -1;
	}
	fprintf(f, "vdev %s%s\n", t->name,
		t->supported ? "" : " (not supported yet)");
	if (t->class == VDEV_VIRTIO)
		fputs("  on PCI, or virtio-mmio when both loc and intr are "
		      "given\n", f);
	if (t->default_loc && t->default_loc(0, &addr))
		fprintf(f, "  default loc %s:%#" PRIx64 "\n",
			t->loc_space == LOC_IO ? "io" : "mem", addr);
	if (t->default_intr && t->default_intr(0, &line))
		fprintf(f, "  default intr ioapic:%u\n", line);
	fputs("options:\n  loc LOCATION\n  intr PIC:LINE\n  name NAME\n"
	      "  log FILTER[,FILTER...] DEST\n", f);
	if (t->allow_hostdev)
		fputs("  hostdev [<|>]PATH\n", f);
	if (t == &virtio_blk_type || t == &lsi53c895a_type)
		fputs("  shared              (no lock against other processes)\n",
		      f);
	if (t->class == VDEV_VIRTIO && !vdev_type_opt(t, "legacy"))
		fputs("  legacy\n", f);
	for (const struct devopt_spec *o = t->opts; o && o->key; o++)
		print_opt(f, o);
	return 0;
}
