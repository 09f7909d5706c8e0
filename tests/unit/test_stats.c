/* Exit statistics (src/stats/): the log2 histogram and its percentiles,
 * the per-region access slots (first hit, the hint, a table full,
 * unclaimed accesses), and the `stats` answer summing two vCPUs' counters
 * per device region, and its words. */
#include <json-c/json.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "ctl/ctl.h"
#include "ctl/ctl_priv.h"
#include "devices/device.h"
#include "stats/stats.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

static void test_bucket(void **state)
{
	assert_int_equal(stats_bucket(0), 0);
	assert_int_equal(stats_bucket(1), 0);
	assert_int_equal(stats_bucket(2), 1);
	assert_int_equal(stats_bucket(3), 1);
	assert_int_equal(stats_bucket(1024), 10);
	assert_int_equal(stats_bucket(2047), 10);
	assert_int_equal(stats_bucket(~0ull), STATS_HIST_BUCKETS - 1);
}

static void test_exit_hist(void **state)
{
	struct vcpu_stats *s = calloc(1, sizeof(*s));

	/* 90 exits of ~100 cycles (bucket 6: 64..127), 10 of ~5000
	 * (bucket 12: 4096..8191) */
	for (int i = 0; i < 90; i++)
		stats_exit(s, KVM_EXIT_MMIO, 100);
	for (int i = 0; i < 10; i++)
		stats_exit(s, KVM_EXIT_MMIO, 5000);
	stats_exit(s, 200, 1);          /* out of range: ignored */
	assert_int_equal(s->exits[KVM_EXIT_MMIO], 100);
	assert_int_equal(s->cycles[KVM_EXIT_MMIO], 90 * 100 + 10 * 5000);
	assert_int_equal(s->hist[KVM_EXIT_MMIO][6], 90);
	assert_int_equal(s->hist[KVM_EXIT_MMIO][12], 10);
	/* the upper bound of the bucket holding the rank */
	assert_int_equal(stats_hist_percentile(s->hist[KVM_EXIT_MMIO], 50),
			 128);
	assert_int_equal(stats_hist_percentile(s->hist[KVM_EXIT_MMIO], 90),
			 128);
	assert_int_equal(stats_hist_percentile(s->hist[KVM_EXIT_MMIO], 91),
			 8192);
	assert_int_equal(stats_hist_percentile(s->hist[KVM_EXIT_IO], 50), 0);
	free(s);
}

static struct device dev_a = { .name = "alpha" }, dev_b = { .name = "beta" };

static struct bus_range range(struct device *d, unsigned region)
{
	return (struct bus_range){ .dev = d, .region = region };
}

static void test_regions(void **state)
{
	struct vcpu_stats *s = calloc(1, sizeof(*s));
	struct bus_range a0 = range(&dev_a, 0), a1 = range(&dev_a, 1),
			 b0 = range(&dev_b, 0);

	stats_access(s, BUS_MMIO, &a0, true, 1);
	stats_access(s, BUS_MMIO, &a0, true, 1);
	stats_access(s, BUS_MMIO, &a1, false, 1);
	stats_access(s, BUS_PIO, &b0, false, 4);   /* a rep of 4 */
	stats_access(s, BUS_MMIO, &a0, false, 1);
	/* the same device and region on the other bus is another slot */
	stats_access(s, BUS_PIO, &a0, true, 1);
	stats_access(s, BUS_MMIO, NULL, true, 1);
	stats_access(s, BUS_PIO, NULL, false, 2);
	assert_int_equal(s->nr_regions, 4);
	assert_ptr_equal(s->regions[0].dev, &dev_a);
	assert_int_equal(s->regions[0].writes, 2);
	assert_int_equal(s->regions[0].reads, 1);
	assert_int_equal(s->regions[1].region, 1);
	assert_int_equal(s->regions[1].reads, 1);
	assert_int_equal(s->regions[2].reads, 4);
	assert_int_equal(s->regions[3].space, BUS_PIO);
	assert_int_equal(s->regions[3].writes, 1);
	assert_int_equal(s->unclaimed[BUS_MMIO], 1);
	assert_int_equal(s->unclaimed[BUS_PIO], 2);
	free(s);
}

static void test_regions_full(void **state)
{
	struct vcpu_stats *s = calloc(1, sizeof(*s));
	static struct device many[STATS_REGION_SLOTS + 1];

	for (unsigned i = 0; i <= STATS_REGION_SLOTS; i++) {
		struct bus_range r = range(&many[i], 0);

		stats_access(s, BUS_MMIO, &r, true, 1);
	}
	assert_int_equal(s->nr_regions, STATS_REGION_SLOTS);
	assert_int_equal(s->region_overflow, 1);
	/* the tracked ones keep counting */
	{
		struct bus_range r = range(&many[3], 0);

		stats_access(s, BUS_MMIO, &r, true, 1);
		assert_int_equal(s->regions[3].writes, 2);
	}
	free(s);
}

/* Two vCPUs touching the same region: the answer sums them, by device. */
static void test_json(void **state)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct vcpu *v[2] = { calloc(1, sizeof(struct vcpu)),
			      calloc(1, sizeof(struct vcpu)) };
	struct bus_range a0 = range(&dev_a, 0), b0 = range(&dev_b, 0);
	json_object *st, *devs, *d, *r, *vc;
	char *text = NULL;
	size_t len;
	FILE *f;

	/* beta's region is not among its regions, as a PCI BAR is not: its
	 * base comes from where it was touched */
	a0.base = 0xfeb00000;
	b0.base = 0xc000;

	device_add_region(&dev_a, BUS_MMIO, 0xfeb00000, 0x1000);
	vm->vcpus = v;
	vm->nr_vcpus = 2;
	vm->devices[0] = &dev_b;
	vm->devices[1] = &dev_a;
	vm->nr_devices = 2;
	v[1]->id = 1;
	for (int i = 0; i < 5; i++) {
		stats_access(&v[0]->stats, BUS_MMIO, &a0, true, 1);
		stats_exit(&v[0]->stats, KVM_EXIT_MMIO, 100);
	}
	for (int i = 0; i < 3; i++) {
		stats_access(&v[1]->stats, BUS_MMIO, &a0, true, 1);
		stats_exit(&v[1]->stats, KVM_EXIT_MMIO, 100);
	}
	stats_access(&v[1]->stats, BUS_PIO, &b0, false, 1);
	stats_exit(&v[1]->stats, KVM_EXIT_IO, 100);

	st = ctl_stats_json(vm);
	devs = json_object_object_get(st, "devices");
	assert_int_equal(json_object_array_length(devs), 2);
	d = json_object_array_get_idx(devs, 0);           /* vm order */
	assert_string_equal(json_object_get_string(
		json_object_object_get(d, "type")), "beta");
	d = json_object_array_get_idx(devs, 1);
	assert_int_equal(json_object_get_int(
		json_object_object_get(d, "index")), 1);
	r = json_object_array_get_idx(json_object_object_get(d, "regions"),
				      0);
	assert_int_equal(json_object_get_int64(
		json_object_object_get(r, "writes")), 8);
	assert_string_equal(json_object_get_string(
		json_object_object_get(r, "base")), "0xfeb00000");
	vc = json_object_array_get_idx(json_object_object_get(st, "vcpus"), 1);
	assert_int_equal(json_object_get_int64(
		json_object_object_get(vc, "exits")), 4);

	f = open_memstream(&text, &len);
	ctl_print_stats(f, st);
	fclose(f);
	assert_non_null(strstr(text, "vcpu 0: 5 exits (mmio 5)\n"));
	assert_non_null(strstr(text, "vcpu 1: 4 exits (io 1, mmio 3)\n"));
	assert_non_null(strstr(text, "device alpha mmio 0xfeb00000: 0 reads, "
			       "8 writes\n"));
	assert_non_null(strstr(text, "device beta io 0xc000: 1 reads, 0 writes\n"));
	assert_non_null(strstr(text, "unclaimed: 0 io, 0 mmio\n"));
	free(text);
	json_object_put(st);
	free(v[0]);
	free(v[1]);
	free(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_exit_hist),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_regions_full),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
