/* x86_memmap_build, and the guest ABI layouts of the PVH and multiboot
 * structures (checked field by field against the published specs). */
#include "fixtures/boot/boot_fixture.h"

static void ram(struct vm_config *c, uint64_t start, uint64_t size)
{
	c->ram[c->nr_ram].start = start;
	c->ram[c->nr_ram++].size = size;
}

static void rom(struct vm_config *c, uint64_t start, uint64_t size)
{
	c->rom[c->nr_rom].start = start;
	c->rom[c->nr_rom++].size = size;
}

static void reserve(struct vm_config *c, enum cfg_space space, uint64_t addr,
		    uint64_t len, bool has_len)
{
	struct reserve_config *r = &c->reserve[c->nr_reserve++];

	r->kind = RESERVE_LOC;
	r->loc.space = space;
	r->loc.addr = addr;
	r->loc.len = len;
	r->loc.has_len = has_len;
}

static void expect(const struct e820_entry *e, uint64_t addr, uint64_t size,
		   uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

/* The typical x86 map of the QNX documentation. */
static void test_pc_layout(void **state)
{
	static struct vm_config c;
	struct e820_entry m[X86_MEMMAP_MAX];

	ram(&c, 1 * MiB, 1023 * MiB);
	rom(&c, 0xc0000, 0x40000);
	reserve(&c, LOC_MEM, 0xa0000, 0x20000, true);
	ram(&c, 0, 0xa0000);
	assert_int_equal(x86_memmap_build(&c, m, X86_MEMMAP_MAX), 3);
	expect(&m[0], 0, 0xa0000, E820_RAM);
	expect(&m[1], 0xa0000, 0x60000, E820_RESERVED);
	expect(&m[2], 1 * MiB, 1023 * MiB, E820_RAM);
}

/* No LAPIC/IOAPIC entries are invented: the map is the config. */
static void test_nothing_added(void **state)
{
	static struct vm_config c;
	struct e820_entry m[X86_MEMMAP_MAX];

	ram(&c, 0, 256 * MiB);
	assert_int_equal(x86_memmap_build(&c, m, X86_MEMMAP_MAX), 1);
	expect(&m[0], 0, 256 * MiB, E820_RAM);
}

/* With PCI the map is still the config: the ECAM window is reserved by a
 * PNP0C02 device in the DSDT, not by an e820 entry, and the PCI hole is
 * simply absent (the validator keeps RAM out of it). */
static void test_pci_nothing_added(void **state)
{
	static struct vm_config c;
	struct e820_entry m[X86_MEMMAP_MAX];

	ram(&c, 0, 0xa0000);
	ram(&c, 1 * MiB, 0xb0000000 - 1 * MiB);
	ram(&c, 4 * GiB, 1 * GiB);
	c.vdevs[0].on_pci = true;
	c.nr_vdevs = 1;
	assert_true(vm_config_has_pci(&c));
	assert_int_equal(x86_memmap_build(&c, m, X86_MEMMAP_MAX), 4);
	expect(&m[0], 0, 0xa0000, E820_RAM);
	expect(&m[1], 0xe0000, 0x20000, E820_RESERVED);  /* BIOS area */
	expect(&m[2], 1 * MiB, 0xb0000000 - 1 * MiB, E820_RAM);
	expect(&m[3], 4 * GiB, 1 * GiB, E820_RAM);
}

static void test_merge_and_sort(void **state)
{
	static struct vm_config c;
	struct e820_entry m[X86_MEMMAP_MAX];

	ram(&c, 4 * GiB, 2 * GiB);
	ram(&c, 2 * MiB, 2 * MiB);
	ram(&c, 1 * MiB, 1 * MiB);          /* touches the one above */
	ram(&c, 8 * MiB, 0);                /* empty: dropped */
	reserve(&c, LOC_IO, 0xcf8, 8, true); /* not memory: ignored */
	reserve(&c, LOC_MEM, 0xfee00000, 0, false); /* one byte */
	rom(&c, 0xfffc0000, 0x40000);
	/* nothing maps 0xE0000-0xFFFFF: the firmware tables' BIOS area
	 * is added, reserved, and not merged with the RAM after it */
	assert_int_equal(x86_memmap_build(&c, m, X86_MEMMAP_MAX), 5);
	expect(&m[0], 0xe0000, 0x20000, E820_RESERVED);
	expect(&m[1], 1 * MiB, 3 * MiB, E820_RAM);
	expect(&m[2], 0xfee00000, 1, E820_RESERVED);
	expect(&m[3], 0xfffc0000, 0x40000, E820_RESERVED);
	expect(&m[4], 4 * GiB, 2 * GiB, E820_RAM);
}

/* Different types never merge, even when they touch. */
static void test_types_kept_apart(void **state)
{
	static struct vm_config c;
	struct e820_entry m[X86_MEMMAP_MAX];

	ram(&c, 0, 0x1000);
	reserve(&c, LOC_MEM, 0x1000, 0x1000, true);
	ram(&c, 0x2000, 0x1000);
	assert_int_equal(x86_memmap_build(&c, m, X86_MEMMAP_MAX), 4);
	expect(&m[0], 0, 0x1000, E820_RAM);
	expect(&m[1], 0x1000, 0x1000, E820_RESERVED);
	expect(&m[2], 0x2000, 0x1000, E820_RAM);
	expect(&m[3], 0xe0000, 0x20000, E820_RESERVED);   /* BIOS area */
}

static void test_overflow(void **state)
{
	static struct vm_config c;
	struct e820_entry m[2];

	ram(&c, 0, 0x1000);
	ram(&c, 0x10000, 0x1000);
	rom(&c, 0xe0000, 0x20000);          /* holds the firmware tables */
	assert_int_equal(x86_memmap_build(&c, m, 2), -1);
	c.nr_ram = 1;
	assert_int_equal(x86_memmap_build(&c, m, 2), 2);
}

static void test_pvh_layout(void **state)
{
	assert_int_equal(sizeof(struct hvm_start_info), 56);
	assert_int_equal(offsetof(struct hvm_start_info, magic), 0);
	assert_int_equal(offsetof(struct hvm_start_info, version), 4);
	assert_int_equal(offsetof(struct hvm_start_info, flags), 8);
	assert_int_equal(offsetof(struct hvm_start_info, nr_modules), 12);
	assert_int_equal(offsetof(struct hvm_start_info, modlist_paddr), 16);
	assert_int_equal(offsetof(struct hvm_start_info, cmdline_paddr), 24);
	assert_int_equal(offsetof(struct hvm_start_info, rsdp_paddr), 32);
	assert_int_equal(offsetof(struct hvm_start_info, memmap_paddr), 40);
	assert_int_equal(offsetof(struct hvm_start_info, memmap_entries), 48);
	assert_int_equal(sizeof(struct hvm_modlist_entry), 32);
	assert_int_equal(offsetof(struct hvm_modlist_entry, size), 8);
	assert_int_equal(offsetof(struct hvm_modlist_entry, cmdline_paddr), 16);
	assert_int_equal(sizeof(struct hvm_memmap_table_entry), 24);
	assert_int_equal(offsetof(struct hvm_memmap_table_entry, type), 16);
}

static void test_multiboot_layout(void **state)
{
	assert_int_equal(offsetof(struct multiboot_info, mem_lower), 4);
	assert_int_equal(offsetof(struct multiboot_info, mem_upper), 8);
	assert_int_equal(offsetof(struct multiboot_info, cmdline), 16);
	assert_int_equal(offsetof(struct multiboot_info, mods_count), 20);
	assert_int_equal(offsetof(struct multiboot_info, mods_addr), 24);
	assert_int_equal(offsetof(struct multiboot_info, mmap_length), 44);
	assert_int_equal(offsetof(struct multiboot_info, mmap_addr), 48);
	assert_int_equal(offsetof(struct multiboot_info, boot_loader_name), 64);
	assert_int_equal(offsetof(struct multiboot_info, vbe_mode), 80);
	assert_int_equal(sizeof(struct multiboot_info), 88);
	assert_int_equal(sizeof(struct multiboot_mod), 16);
	assert_int_equal(offsetof(struct multiboot_mod, string), 8);
	assert_int_equal(sizeof(struct multiboot_mmap_entry), 24);
	assert_int_equal(offsetof(struct multiboot_mmap_entry, addr), 4);
	assert_int_equal(offsetof(struct multiboot_mmap_entry, len), 12);
	assert_int_equal(offsetof(struct multiboot_mmap_entry, type), 20);
	assert_int_equal(offsetof(struct multiboot_header, entry_addr), 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pc_layout),
		cmocka_unit_test(test_nothing_added),
		cmocka_unit_test(test_pci_nothing_added),
		cmocka_unit_test(test_merge_and_sort),
		cmocka_unit_test(test_types_kept_apart),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_pvh_layout),
		cmocka_unit_test(test_multiboot_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
