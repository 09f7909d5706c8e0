/* Guest memory: the bounds-checked accessor every device goes through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "mem/guest_mem.h"

static uint8_t low[0x10000], high[0x10000];

static int setup(void **state)
{
	struct guest_mem *m = calloc(1, sizeof(*m));

	guest_mem_init(m);
	assert_non_null(guest_mem_add_host(m, 0x100000, sizeof(high), high,
					   GUEST_RAM));
	assert_non_null(guest_mem_add_host(m, 0, sizeof(low), low, GUEST_RAM));
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	guest_mem_free(*state);
	free(*state);
	return 0;
}

static void test_sorted_and_found(void **state)
{
	struct guest_mem *m = *state;

	assert_int_equal(m->nr, 2);
	assert_int_equal(m->regions[0].gpa, 0);
	assert_ptr_equal(guest_mem_ptr(m, 0x100010, 16), high + 0x10);
	assert_ptr_equal(guest_mem_ptr(m, 0xfff0, 16), low + 0xfff0);
}

static void test_ranges_refused(void **state)
{
	struct guest_mem *m = *state;

	/* straddles the end of a region */
	assert_null(guest_mem_ptr(m, 0xfff8, 16));
	/* in the hole between regions */
	assert_null(guest_mem_ptr(m, 0x20000, 1));
	/* wraps around 2^64 */
	assert_null(guest_mem_ptr(m, ~0ULL - 4, 16));
	assert_null(guest_mem_ptr(m, 0x100000, ~0ULL));
	/* longer than the region */
	assert_null(guest_mem_ptr(m, 0x100000, sizeof(high) + 1));
	assert_int_equal(guest_mem_read(m, 0x30000, low, 4), -EFAULT);
}

static void test_overlap_and_limits(void **state)
{
	struct guest_mem *m = *state;
	static uint8_t x[4096];

	assert_null(guest_mem_add_host(m, 0x8000, sizeof(x), x, GUEST_RAM));
	assert_int_equal(errno, EEXIST);
	assert_null(guest_mem_add_host(m, ~0ULL - 10, sizeof(x), x, GUEST_RAM));
	assert_int_equal(errno, EINVAL);
	assert_null(guest_mem_add(m, 0x200000, 100, GUEST_RAM));
	assert_int_equal(errno, EINVAL);
}

static void test_rom_is_read_only_for_devices(void **state)
{
	struct guest_mem *m = *state;
	static uint8_t rom[4096];
	uint32_t v = 0x12345678, r = 0;

	assert_non_null(guest_mem_add_host(m, 0xc0000, sizeof(rom), rom,
					   GUEST_ROM));
	assert_int_equal(guest_mem_write(m, 0xc0000, &v, 4), -EFAULT);
	assert_int_equal(guest_mem_load(m, 0xc0000, &v, 4), 0);
	assert_int_equal(guest_mem_read(m, 0xc0000, &r, 4), 0);
	assert_int_equal(r, v);
	assert_null(guest_mem_ptr_rw(m, 0xc0000, 4));
}

static void test_sizes(void **state)
{
	struct guest_mem *m = *state;

	assert_int_equal(guest_mem_ram_size(m), sizeof(low) + sizeof(high));
	assert_int_equal(guest_mem_ram_end(m), 0x100000 + sizeof(high));
}

static void test_anonymous_region(void **state)
{
	struct guest_mem m;
	uint64_t v = 42, r = 0;

	(void)state;
	guest_mem_init(&m);
	assert_non_null(guest_mem_add(&m, 0x100000, 0x200000, GUEST_RAM));
	assert_int_equal(guest_mem_write(&m, 0x2ffff8, &v, 8), 0);
	assert_int_equal(guest_mem_read(&m, 0x2ffff8, &r, 8), 0);
	assert_int_equal(r, 42);
	guest_mem_free(&m);
	assert_int_equal(m.nr, 0);
}

/* --- host memory backing (guest_mem_set_backing) --- */

/* VmFlags of the mapping holding addr say "hg" (MADV_HUGEPAGE). */
static bool thp_advised(const void *addr)
{
	char line[512];
	bool in = false, hg = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		unsigned long lo, hi;

		/* a mapping's first line, not a "Key: value" one */
		if (sp && sp > line && sp[-1] != ':' &&
		    sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && !strncmp(line, "VmFlags:", 8))
			hg = strstr(line, " hg") != NULL;
	}
	fclose(f);
	return hg;
}

static size_t resident_pages(void *p, size_t len)
{
	unsigned char vec[4096];
	size_t n = 0;

	assert_true(len / 4096 <= sizeof(vec));
	assert_int_equal(mincore(p, len, vec), 0);
	for (size_t i = 0; i < len / 4096; i++)
		n += vec[i] & 1;
	return n;
}

static long meminfo(const char *key)
{
	char line[128];
	long n = -1;
	size_t k = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':')
			n = strtol(line + k + 1, NULL, 10);
	fclose(f);
	return n;
}

static long free_huge(void)
{
	return meminfo("HugePages_Free");
}

static long read_nr_hugepages(void)
{
	return meminfo("HugePages_Total");
}

static bool write_nr_hugepages(long n)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "we");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", n) > 0;
	return (fclose(f) == 0) && ok;
}

/* The host mapping of a region agrees with its gpa modulo 2 MiB, so a
 * host huge page backs a guest 2 MiB frame; THP is asked for on the
 * whole frames inside RAM only. */
static void test_huge_alignment(void **state)
{
	struct guest_mem m;
	struct guest_region *r;

	(void)state;
	guest_mem_init(&m);
	r = guest_mem_add(&m, 0x100000, 0x3f00000, GUEST_RAM);
	assert_non_null(r);
	assert_int_equal(((uintptr_t)r->host - r->gpa) % GUEST_MEM_HUGE_SIZE, 0);
	assert_int_equal(r->backing, 0);
	if (r->thp)      /* false only where THP is "never" */
		assert_true(thp_advised(r->host + 0x100000));
	r = guest_mem_add(&m, 0, 0xa0000, GUEST_RAM);
	assert_non_null(r);
	assert_int_equal((uintptr_t)r->host % GUEST_MEM_HUGE_SIZE, 0);
	assert_false(r->thp);  /* no whole 2 MiB frame in 640 KiB */
	r = guest_mem_add(&m, 0xe0000, 0x20000, GUEST_ROM);
	assert_non_null(r);
	assert_false(r->thp);
	guest_mem_free(&m);
}

/* prealloc: every page is there before the guest touches one. */
static void test_prealloc(void **state)
{
	struct guest_mem m;
	struct guest_region *r;
	char why[128];

	(void)state;
	guest_mem_init(&m);
	guest_mem_set_backing(&m, GUEST_MEM_PREALLOC);
	r = guest_mem_add(&m, 0x200000, 0x400000, GUEST_RAM);
	assert_non_null(r);
	assert_true(r->backing & GUEST_MEM_PREALLOC);
	assert_int_equal(resident_pages(r->host, r->size), r->size / 4096);
	assert_non_null(strstr(guest_mem_describe(r, why, sizeof(why)),
			       "preallocated"));
	guest_mem_free(&m);
	/* without it, nothing is */
	guest_mem_init(&m);
	r = guest_mem_add(&m, 0x200000, 0x400000, GUEST_RAM);
	assert_non_null(r);
	assert_int_equal(resident_pages(r->host, r->size), 0);
	guest_mem_free(&m);
}

/* guest_mem_zero (a loader's bss): zeros, whole pages of cvisor's own
 * anonymous RAM given back rather than written (a 350 KiB bss was 350 KiB
 * of RSS), the edges written; caller-owned and prealloc'd memory stays
 * resident. */
static void test_zero(void **state)
{
	struct guest_mem m;
	struct guest_region *r;
	uint8_t buf[0x4000 + 200];

	(void)state;
	guest_mem_init(&m);
	r = guest_mem_add(&m, 0x200000, 0x400000, GUEST_RAM);
	assert_non_null(r);
	memset(r->host, 0xaa, 0x10000);
	assert_int_equal(resident_pages(r->host, 0x10000), 16);
	/* from 0x100 into the first page to 0x100 into the fifth */
	assert_int_equal(guest_mem_zero(&m, 0x200100, 0x4000), 0);
	assert_int_equal(resident_pages(r->host + 0x1000, 0x3000), 0);
	assert_int_equal(resident_pages(r->host, 0x10000), 13);
	assert_int_equal(r->host[0xff], 0xaa);
	assert_int_equal(r->host[0x4100], 0xaa);
	assert_int_equal(guest_mem_read(&m, 0x200100, buf, 0x4000), 0);
	for (unsigned i = 0; i < 0x4000; i++)
		assert_int_equal(buf[i], 0);
	/* outside RAM, across its end: refused, nothing written */
	assert_int_equal(guest_mem_zero(&m, 0x5ff000, 0x2000), -EFAULT);
	assert_int_equal(guest_mem_zero(&m, 0x100000, 0x1000), -EFAULT);
	guest_mem_free(&m);
	/* memory the caller owns is written, never given back */
	memset(buf, 0x55, sizeof(buf));
	guest_mem_init(&m);
	assert_non_null(guest_mem_add_host(&m, 0, sizeof(buf), buf, GUEST_RAM));
	assert_int_equal(guest_mem_zero(&m, 1, sizeof(buf) - 2), 0);
	assert_int_equal(buf[0], 0x55);
	assert_int_equal(buf[sizeof(buf) - 1], 0x55);
	for (unsigned i = 1; i < sizeof(buf) - 1; i++)
		assert_int_equal(buf[i], 0);
	guest_mem_free(&m);
	/* prealloc'd RAM stays populated */
	guest_mem_init(&m);
	guest_mem_set_backing(&m, GUEST_MEM_PREALLOC);
	r = guest_mem_add(&m, 0x200000, 0x200000, GUEST_RAM);
	assert_non_null(r);
	assert_int_equal(guest_mem_zero(&m, 0x200000, 0x200000), 0);
	assert_int_equal(resident_pages(r->host, r->size), r->size / 4096);
	guest_mem_free(&m);
	/* DMA-mapped (pass-through: VFIO pins the pages) is written, never
	 * given back: a page given back is replaced at the guest's next
	 * touch, while the device goes on with the old one */
	guest_mem_init(&m);
	r = guest_mem_add(&m, 0x200000, 0x400000, GUEST_RAM);
	assert_non_null(r);
	memset(r->host, 0xaa, 0x10000);
	guest_mem_pin(&m);
	assert_int_equal(guest_mem_zero(&m, 0x200000, 0x10000), 0);
	assert_int_equal(resident_pages(r->host, 0x10000), 16);
	for (unsigned i = 0; i < 0x10000; i++)
		assert_int_equal(r->host[i], 0);
	guest_mem_free(&m);
}

/* hugepages: hugetlbfs pages, or, on a host with too few reserved, a
 * refusal that says what to do. Reserves some for the test when root
 * (and puts the count back), else skips the positive half. */
static void test_hugetlb(void **state)
{
	struct guest_mem m;
	struct guest_region *r;
	long before = read_nr_hugepages();
	char why[256];
	bool reserved = false, ok;

	(void)state;
	guest_mem_init(&m);
	guest_mem_set_backing(&m, GUEST_MEM_HUGETLB);
	if (before >= 0 && free_huge() < 3 && geteuid() == 0)
		reserved = write_nr_hugepages(before + 3);
	if (free_huge() < 3) {
		/* too few reserved: the error names the fix */
		r = guest_mem_add(&m, 0x100000, 0x200000, GUEST_RAM);
		if (!r) {
			bool named = strstr(guest_mem_strerror(&m, errno,
					0x200000, why, sizeof(why)),
					"nr_hugepages") != NULL;

			guest_mem_free(&m);
			if (reserved)  /* the host's count back first */
				assert_true(write_nr_hugepages(before));
			assert_true(named);
			print_message("SKIP: hugetlb pages: fewer than 3 free "
				      "on this host (%s): checked the refusal's "
				      "message only\n", geteuid() ?
				      "not root, none reserved" :
				      "root, but the kernel gave none");
			skip();
		}
		/* The pages came all the same (surplus pages, or freed
		 * meanwhile): checked below as any hugetlb region is. */
	} else {
		r = guest_mem_add(&m, 0x100000, 0x200000, GUEST_RAM);
	}
	ok = r && r->backing == GUEST_MEM_HUGETLB &&
	     ((uintptr_t)r->host - r->gpa) % GUEST_MEM_HUGE_SIZE == 0 &&
	     guest_mem_write(&m, 0x2ffff8, "12345678", 8) == 0 &&
	     strstr(guest_mem_describe(r, why, sizeof(why)), "hugetlb");
	guest_mem_free(&m);
	if (reserved)          /* the host's count back before judging */
		assert_true(write_nr_hugepages(before));
	assert_true(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sorted_and_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rom_is_read_only_for_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test(test_anonymous_region),
		cmocka_unit_test(test_huge_alignment),
		cmocka_unit_test(test_prealloc),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_hugetlb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
