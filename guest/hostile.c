/* The `hostile` workload: runs every attack of HOSTILE_ATTACKS (or those
 * named by only=), prints `RESULT hostile-<name> ok` or
 * `RESULT hostile-<name> FAIL <why>` for each, then the well-behaved
 * workloads (blk-verify and rng on PCI, and one request on every virtio
 * device found), and exits 0 only if all of it passed.
 *
 * Parameters: only=a,b (attack names, '-' or '_'), skip=a,b,
 * hmmio= (first virtio-mmio slot, 0x200 apart; default 0xfe100000),
 * pl011= (default 0xfe001000), known_bad=1 (the attacks listed in
 * known_bad[] below, which crash or hang this cvisor), reset=kbd|acpi|cf9
 * (after everything, ask for a reset that way; with `reboot exit` cvisor
 * then exits 34).
 */
#include "hostile.h"

static char why[200];
static const char *current;

int hfail(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vfmt(why, sizeof(why), f, ap);
	va_end(ap);
	return 1;
}

void hnote(const char *f, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, f);
	vfmt(buf, sizeof(buf), f, ap);
	va_end(ap);
	printf("hostile: %s: %s\n", current, buf);
}

#define HOSTILE_ENTRY(n) { #n, hostile_##n },
static const struct {
	const char *name;
	int (*run)(void);
} attacks[] = {
	HOSTILE_ATTACKS(HOSTILE_ENTRY)
};

/* Attacks that found a cvisor bug not fixed yet: they run only with
 * known_bad=1, so the committed test passes (see docs/test-guest.md). */
static const char *const known_bad[] = {
	NULL,
};

/* Does the comma list `list` name `n` ('-' and '_' are the same)? */
static bool listed(const char *list, const char *n)
{
	while (list && *list) {
		size_t i = 0;
		while (n[i] && list[i] && list[i] != ',' &&
		       (list[i] == n[i] || (list[i] == '-' && n[i] == '_')))
			i++;
		if (!n[i] && (!list[i] || list[i] == ','))
			return true;
		while (*list && *list != ',')
			list++;
		if (*list == ',')
			list++;
	}
	return false;
}

static bool is_known_bad(const char *n)
{
	for (size_t i = 0; known_bad[i]; i++)
		if (!strcmp(known_bad[i], n))
			return true;
	return false;
}

static void dashed(char *out, const char *n)
{
	size_t i;
	for (i = 0; n[i] && i < 47; i++)
		out[i] = n[i] == '_' ? '-' : n[i];
	out[i] = 0;
}

/* One well-formed request on every virtio device there is. */
static int sweep(void)
{
	static const struct { u32 id, t; bool ro; } all[] = {
		{ VIRTIO_ID_BLK, VIRTIO_PCI, false },
		{ VIRTIO_ID_CONSOLE, VIRTIO_PCI, false },
		{ VIRTIO_ID_RNG, VIRTIO_PCI, false },
		{ VIRTIO_ID_BLK, VIRTIO_MMIO, true },
		{ VIRTIO_ID_CONSOLE, VIRTIO_MMIO, false },
		{ VIRTIO_ID_RNG, VIRTIO_MMIO, false },
	};
	for (u32 i = 0; i < 6; i++) {
		struct hdev *h = hv_get(all[i].id, all[i].t, all[i].ro);
		if (!h)
			return hfail("device %u of the sweep missing", i);
		if (hv_check(h))
			return 1;
	}
	return 0;
}

static void reset_request(const char *how)
{
	printf("hostile: asking for a reset through %s\n", how);
	if (!strcmp(how, "kbd"))
		houtb(0x64, 0xfe);
	else if (!strcmp(how, "acpi"))
		houtb(0x602, 0x01);
	else if (!strcmp(how, "cf9"))
		houtb(0xcf9, 0x06);
	delay_us(1000000);
	printf("RESULT hostile-reset survived=1\n");
}

int wl_hostile(void)
{
	const char *only = param("only"), *skip = param("skip");
	bool bad_too = param_u64("known_bad", 0);
	u32 run = 0, failed = 0;
	char name[48];

	for (size_t i = 0; i < sizeof(attacks) / sizeof(*attacks); i++) {
		const char *n = attacks[i].name;
		if ((only && !listed(only, n)) || listed(skip, n))
			continue;
		dashed(name, n);
		if (is_known_bad(n) && !bad_too) {
			printf("RESULT hostile-%s skipped known-bad\n", name);
			continue;
		}
		current = name;
		why[0] = 0;
		int rc = attacks[i].run();
		run++;
		if (rc) {
			failed++;
			printf("RESULT hostile-%s FAIL %s\n", name, why);
		} else {
			printf("RESULT hostile-%s ok\n", name);
		}
	}
	/* Then the well-behaved workloads, on devices that were attacked. */
	int wb = 0;
	if (!only) {
		current = "sweep";
		why[0] = 0;
		if (sweep()) {
			failed++;
			printf("RESULT hostile-sweep FAIL %s\n", why);
		} else {
			printf("RESULT hostile-sweep ok\n");
		}
		wb |= wl_blk_verify();
		wb |= wl_rng();
	}
	printf("RESULT hostile attacks=%u failed=%u well_behaved=%s\n", run,
	       failed, wb ? "fail" : "ok");
	const char *how = param("reset");
	if (how) {
		reset_request(how);
		return 1;   /* the machine should be gone by now */
	}
	return failed || wb ? 1 : 0;
}
