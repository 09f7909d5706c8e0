/* Config layer: lexer, includes, every statement, defaults, argv form.
 * Malformed configs are in test_config_bad.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "config/config.h"
#include "devices/registry.h"

static char dir[64];
static char name[128];          /* dir/t.qvmconf: relative paths use dir */
static struct vm_config cfg;
static struct cfg_error err;

static void write_file(const char *file, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/cvisor-cfg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(name, sizeof(name), "%s/t.qvmconf", dir);
	write_file("blob.dat", "blob\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void ok(const char *text)
{
	if (config_from_string(&cfg, name, text, &err))
		fail_msg("rejected: %u:%u: %s", err.pos.line, err.pos.col,
			 err.msg);
}

/* Expect failure with "LINE:COL: message". */
static void bad(const char *text, const char *want)
{
	char got[1100];

	if (!config_from_string(&cfg, name, text, &err)) {
		config_free(&cfg);
		fail_msg("accepted, wanted %s", want);
	}
	snprintf(got, sizeof(got), "%u:%u: %s", err.pos.line, err.pos.col,
		 err.msg);
	assert_string_equal(got, want);
}

#define RL "ram 1m load blob.dat "

/* ---- lexer ---- */

static void test_comments_and_whitespace(void **state)
{
	ok("# comment\n\tram\t1m # trailing\n\n  load blob.dat#glued\n"
	   "system\r\nvm1\n");
	assert_string_equal(cfg.system, "vm1");
	assert_int_equal(cfg.nr_ram, 1);
	config_free(&cfg);
}

static void test_strings(void **state)
{
	ok(RL "cmdline \"a  b # not a comment\n c\\\nd \\\"q\\\" e\\x\"");
	assert_string_equal(cfg.cmdline, "a  b # not a comment\n cd \"q\" e\\x");
	assert_int_equal(cfg.cmdline_pos.line, 1);
	assert_int_equal(cfg.cmdline_pos.col, 22);
	config_free(&cfg);
	/* a quoted part inside a word, and an empty string */
	ok(RL "cmdline \"\" vdev ser8250 hostdev >\"|cat -n\"");
	assert_string_equal(cfg.cmdline, "");
	assert_true(cfg.vdevs[0].hostdevs[0].is_pipe);
	assert_string_equal(cfg.vdevs[0].hostdevs[0].path, "cat -n");
	assert_int_equal(cfg.vdevs[0].hostdevs[0].dir, HOSTDEV_OUT);
	config_free(&cfg);
}

static void test_positions(void **state)
{
	ok("ram 1m\n  load blob.dat\n\tvdev   ser8250\n");
	assert_string_equal(cfg.vdevs[0].pos.file, name);
	assert_int_equal(cfg.vdevs[0].pos.line, 3);
	assert_int_equal(cfg.vdevs[0].pos.col, 9);   /* a tab is one byte */
	assert_int_equal(cfg.loads[0].pos.line, 2);
	assert_int_equal(cfg.loads[0].pos.col, 8);
	config_free(&cfg);
	/* a string spanning lines: the next token's line is counted on */
	bad("cmdline \"a\nb\" foo", "2:4: unknown option 'foo'; expected one "
	    "of system, ram, rom, reserve, cpu, load, cmdline, vdev, pass, "
	    "reboot, triplefault");
}

static void test_numbers(void **state)
{
	ok("ram 0,640k ram 1m,0x1000 ram 0X200000,2M ram 1g,1G load blob.dat");
	assert_int_equal(cfg.ram[0].size, 640 * 1024);
	assert_int_equal(cfg.ram[1].start, 1 << 20);
	assert_int_equal(cfg.ram[1].size, 0x1000);
	assert_int_equal(cfg.ram[2].start, 0x200000);
	assert_int_equal(cfg.ram[2].size, 2 << 20);
	assert_int_equal(cfg.ram[3].start, 1ULL << 30);
	assert_int_equal(cfg.ram[3].size, 1ULL << 30);
	config_free(&cfg);
	bad("ram 0x", "1:5: invalid size '0x'");
	bad("ram 18446744073709551616", "1:5: size '18446744073709551616' is "
	    "too large");
	bad("ram 17179869184g", "1:5: size '17179869184g' is too large");
	bad("ram 1mm", "1:5: invalid size '1mm'");
	bad("ram -1", "1:5: invalid size '-1'");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "ram 1m\0x";
	struct vm_config c;
	FILE *f;
	char path[256], arg[260];
	char *argv[] = { arg };

	snprintf(path, sizeof(path), "%s/nul.qvmconf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, sizeof(text) - 1, f);
	fclose(f);
	snprintf(arg, sizeof(arg), "@%s", path);
	assert_int_equal(config_from_args(&c, 1, argv, &err), -1);
	assert_string_equal(err.msg, "unexpected nul byte");
	assert_int_equal(err.pos.col, 7);
}

/* ---- includes ---- */

static void test_include_relative(void **state)
{
	char sub[256];

	snprintf(sub, sizeof(sub), "%s/sub", dir);
	mkdir(sub, 0755);
	write_file("sub/inner.qvmconf", "vdev ser8250 hostdev out.txt\n"
		   "initrd load ../blob.dat\n");
	write_file("sub/outer.qvmconf", "@inner.qvmconf\nsystem x\n");
	ok("ram 1m load blob.dat @sub/outer.qvmconf cmdline \"c\"");
	assert_string_equal(cfg.system, "x");
	assert_int_equal(cfg.nr_vdevs, 1);
	assert_non_null(strstr(cfg.vdevs[0].pos.file, "sub/inner.qvmconf"));
	assert_int_equal(cfg.vdevs[0].pos.line, 1);
	assert_int_equal(cfg.vdevs[0].pos.col, 6);
	/* hostdev and load paths are relative to the including file */
	assert_non_null(strstr(cfg.vdevs[0].hostdevs[0].path, "sub/out.txt"));
	assert_non_null(strstr(cfg.loads[1].path, "sub/../blob.dat"));
	assert_string_equal(cfg.cmdline, "c");
	config_free(&cfg);
}

static void test_include_cycle(void **state)
{
	char want[512], got[512];

	write_file("a.qvmconf", "ram 1m\n@b.qvmconf\n");
	write_file("b.qvmconf", "\n  @a.qvmconf\n");
	snprintf(want, sizeof(want), "2:3: include cycle: '%s/a.qvmconf' is "
		 "already being read", dir);
	bad("@a.qvmconf", want);
	snprintf(got, sizeof(got), "%s/b.qvmconf", dir);
	assert_string_equal(err.pos.file, got);
	/* including the same file twice in a row is no cycle */
	write_file("c.qvmconf", "# nothing\n");
	ok("@c.qvmconf @c.qvmconf ram 1m load blob.dat");
	config_free(&cfg);
}

static void test_include_depth(void **state)
{
	char file[32], text[64];

	/* d0 includes d1 ... d20: the 17th nesting level is refused */
	for (int i = 0; i <= 20; i++) {
		snprintf(file, sizeof(file), "d%d.qvmconf", i);
		snprintf(text, sizeof(text), "@d%d.qvmconf\n", i + 1);
		write_file(file, text);
	}
	bad("@d0.qvmconf", "1:1: include depth limit of 16 exceeded");
	assert_non_null(strstr(err.pos.file, "d14.qvmconf"));
}

static void test_include_errors(void **state)
{
	bad("ram 1m @", "1:8: expected a file name after '@'");
	/* a quoted @ is a plain word */
	bad("\"@x\"", "1:1: unknown option '@x'; expected one of system, ram, "
	    "rom, reserve, cpu, load, cmdline, vdev, pass, reboot, triplefault");
}

/* ---- statements ---- */

static void test_memory(void **state)
{
	ok("ram 0,0xa0000 reserve loc 0xa0000,0x20000 rom 0xc0000,0x40000 "
	   "ram 1m,1023m ram 16m load blob.dat");
	assert_int_equal(cfg.nr_ram, 3);
	assert_int_equal(cfg.nr_rom, 1);
	assert_int_equal(cfg.rom[0].start, 0xc0000);
	assert_int_equal(cfg.rom[0].size, 0x40000);
	/* no start: right after the highest RAM/ROM so far */
	assert_int_equal(cfg.ram[2].start, 1ULL << 30);
	assert_int_equal(cfg.ram[2].size, 16 << 20);
	assert_int_equal(cfg.nr_reserve, 1);
	assert_int_equal(cfg.reserve[0].kind, RESERVE_LOC);
	assert_int_equal(cfg.reserve[0].loc.space, LOC_MEM);
	assert_int_equal(cfg.reserve[0].loc.len, 0x20000);
	config_free(&cfg);
	/* QNX's x86 map: `ram 0xa0000` then rom, then ram after the rom */
	ok("ram 0xa0000 rom 0xc0000,0x40000 ram 1024M load blob.dat");
	assert_int_equal(cfg.ram[0].start, 0);
	assert_int_equal(cfg.ram[1].start, 0x100000);
	config_free(&cfg);
}

static void test_reserve(void **state)
{
	ok(RL "reserve intr 5,ioapic:6 loc io 0xcf,0x8 loc pci:0:1 "
	   "loc pci:8086/0x1234 loc io:0x500");
	assert_int_equal(cfg.nr_reserve, 6);
	assert_string_equal(cfg.reserve[0].intr.pic, "ioapic");
	assert_int_equal(cfg.reserve[0].intr.line, 5);
	assert_int_equal(cfg.reserve[1].intr.line, 6);
	assert_int_equal(cfg.reserve[2].loc.space, LOC_IO);
	assert_int_equal(cfg.reserve[2].loc.addr, 0xcf);
	assert_int_equal(cfg.reserve[2].loc.len, 8);
	assert_int_equal(cfg.reserve[3].loc.space, LOC_PCI);
	assert_int_equal(cfg.reserve[3].loc.dev, 1);
	assert_true(cfg.reserve[4].loc.pci_by_id);
	assert_int_equal(cfg.reserve[4].loc.vid, 0x8086);
	assert_int_equal(cfg.reserve[4].loc.did, 0x1234);
	assert_false(cfg.reserve[5].loc.has_len);
	config_free(&cfg);
}

static void test_cpus(void **state)
{
	ok(RL "cpu cpu sched 10 cpu sched 20f runmask 1,3 cpu sched 5o");
	assert_int_equal(cfg.nr_cpus, 4);
	assert_false(cfg.cpus[0].has_sched);
	assert_int_equal(cfg.cpus[1].policy, SCHED_POL_RR);
	assert_int_equal(cfg.cpus[1].priority, 10);
	assert_int_equal(cfg.cpus[2].policy, SCHED_POL_FIFO);
	assert_true(cfg.cpus[2].has_runmask);
	assert_true(CPU_ISSET(1, &cfg.cpus[2].runmask));
	assert_true(CPU_ISSET(3, &cfg.cpus[2].runmask));
	assert_false(CPU_ISSET(2, &cfg.cpus[2].runmask));
	assert_int_equal(cfg.cpus[3].policy, SCHED_POL_OTHER);
	config_free(&cfg);
	/* overlapping FIFO runmasks are only a warning */
	ok(RL "cpu sched 10f runmask 2 cpu sched 10f runmask 2");
	config_free(&cfg);
}

static void test_too_many_cpus(void **state)
{
	char text[512] = "";

	for (int i = 0; i <= CFG_MAX_CPUS; i++)
		strcat(text, "cpu ");
	bad(text, "1:257: too many cpus (max 64)");
}

static void test_loads(void **state)
{
	ok("ram 0,16m load 0x100000,blob.dat initrd load blob.dat "
	   "data load 0x2000,blob.dat acpi load blob.dat fdt load blob.dat");
	assert_int_equal(cfg.nr_loads, 5);
	assert_int_equal(cfg.loads[0].type, BLOB_GUEST);
	assert_true(cfg.loads[0].has_addr);
	assert_int_equal(cfg.loads[0].addr, 0x100000);
	assert_non_null(strstr(cfg.loads[0].path, "/blob.dat"));
	assert_int_equal(cfg.loads[1].type, BLOB_INITRD);
	assert_int_equal(cfg.loads[2].type, BLOB_DATA);
	assert_int_equal(cfg.loads[3].type, BLOB_ACPI);
	assert_int_equal(cfg.loads[4].type, BLOB_FDT);
	config_free(&cfg);
	/* `guest load` is the default blob spelled out */
	ok("ram 1m guest load blob.dat");
	assert_int_equal(cfg.loads[0].type, BLOB_GUEST);
	config_free(&cfg);
	/* a load into ROM is fine */
	ok("ram 1m rom 0x100000,64k load blob.dat data load 0x100000,blob.dat");
	config_free(&cfg);
}

static void test_system_cmdline_reboot(void **state)
{
	ok(RL "system guest1 cmdline console=ttyS0");
	assert_string_equal(cfg.system, "guest1");
	assert_string_equal(cfg.cmdline, "console=ttyS0");
	assert_int_equal(cfg.reboot, REBOOT_RESET);
	config_free(&cfg);
	ok(RL "reboot exit");
	assert_int_equal(cfg.reboot, REBOOT_EXIT);
	config_free(&cfg);
	ok(RL "reboot reset");
	assert_int_equal(cfg.reboot, REBOOT_RESET);
	assert_int_equal(cfg.triplefault, REBOOT_EXIT);
	config_free(&cfg);
	ok(RL "triplefault reset reboot exit");
	assert_int_equal(cfg.triplefault, REBOOT_RESET);
	assert_int_equal(cfg.reboot, REBOOT_EXIT);
	config_free(&cfg);
}

static void test_unsupported_statements(void **state)
{
	static const char *const words[] = {
		"debug", "set", "unsupported", "dump", "safety",
	};
	char want[64];

	for (unsigned i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "1:1: '%s' is not supported yet",
			 words[i]);
		bad(words[i], want);
	}
	bad("cpu partition p", "1:5: 'partition' is not supported yet");
	bad("guest pass loc pci:0:2.0", "1:7: 'guest pass' (host memory "
	    "mapped into the guest) is refused: without VFIO, Linux isolates "
	    "neither DMA nor interrupts; use 'guest load'");
}

/* ---- vdevs and defaults ---- */

static void test_defaults(void **state)
{
	ok("ram 1m load blob.dat vdev ser8250 vdev ser8250 vdev pckeyboard "
	   "vdev debug-exit vdev testdev vdev timer8254 vdev 8259 vdev 8259");
	assert_int_equal(cfg.nr_cpus, 1);
	assert_string_equal(cfg.ioapic_name, "ioapic");
	assert_int_equal(cfg.reboot, REBOOT_RESET);
	assert_int_equal(cfg.vdevs[0].index, 0);
	assert_int_equal(cfg.vdevs[0].locs[0].space, LOC_IO);
	assert_int_equal(cfg.vdevs[0].locs[0].addr, 0x3f8);
	assert_string_equal(cfg.vdevs[0].intrs[0].pic, "ioapic");
	assert_int_equal(cfg.vdevs[0].intrs[0].line, 4);
	assert_int_equal(cfg.vdevs[1].index, 1);
	assert_int_equal(cfg.vdevs[1].locs[0].addr, 0x2f8);
	assert_int_equal(cfg.vdevs[1].intrs[0].line, 3);
	assert_int_equal(cfg.vdevs[2].locs[0].addr, 0x60);
	assert_int_equal(cfg.vdevs[2].nr_intrs, 1);
	assert_int_equal(cfg.vdevs[2].intrs[0].line, 1);
	assert_int_equal(cfg.vdevs[3].locs[0].addr, 0xf4);
	assert_int_equal(cfg.vdevs[4].locs[0].space, LOC_MEM);
	assert_int_equal(cfg.vdevs[4].locs[0].addr, 0xfeb00000);
	assert_int_equal(cfg.vdevs[5].intrs[0].line, 0);
	assert_int_equal(cfg.vdevs[6].locs[0].addr, 0x20);
	assert_int_equal(cfg.vdevs[7].locs[0].addr, 0xa0);
	assert_int_equal(cfg.vdevs[7].index, 1);
	for (unsigned i = 0; i < cfg.nr_vdevs; i++)
		assert_false(cfg.vdevs[i].on_pci);
	config_free(&cfg);
}

static void test_vdev_options(void **state)
{
	const struct cfg_devopt *o;

	ok(RL "vdev ioapic name myioapic intr apic hostvector 32 "
	   "vdev vdev-ser8250.so loc 0x2f8 intr myioapic:3 name com2 "
	   "hostdev <in.txt hostdev >- batch 100 delayed forever sched 10 "
	   "vdev isa-debug-exit mode plain vdev pl011 loc mem:0x9000000,0x2000 "
	   "intr myioapic:5 hostdev -");
	assert_string_equal(cfg.ioapic_name, "myioapic");
	assert_true(cfg.vdevs[0].intrs[0].is_apic);
	assert_int_equal(cfg.vdevs[0].locs[0].addr, 0xfec00000);
	o = vdev_opt(&cfg.vdevs[0], "hostvector");
	assert_non_null(o);
	assert_int_equal(o->num, 32);
	assert_ptr_equal(cfg.vdevs[1].type, &ser8250_type);
	/* a bare address means the type's own space: io for the 8250 */
	assert_int_equal(cfg.vdevs[1].locs[0].space, LOC_IO);
	assert_int_equal(cfg.vdevs[1].locs[0].addr, 0x2f8);
	assert_string_equal(cfg.vdevs[1].intrs[0].pic, "myioapic");
	assert_string_equal(cfg.vdevs[1].name, "com2");
	assert_int_equal(cfg.vdevs[1].nr_hostdevs, 2);
	assert_int_equal(cfg.vdevs[1].hostdevs[0].dir, HOSTDEV_IN);
	assert_non_null(strstr(cfg.vdevs[1].hostdevs[0].path, "/in.txt"));
	assert_int_equal(cfg.vdevs[1].hostdevs[1].dir, HOSTDEV_OUT);
	assert_string_equal(cfg.vdevs[1].hostdevs[1].path, "-");
	assert_int_equal(vdev_opt(&cfg.vdevs[1], "batch")->num, 100);
	assert_string_equal(vdev_opt(&cfg.vdevs[1], "delayed")->value,
			    "forever");
	assert_null(vdev_opt(&cfg.vdevs[1], "nosuch"));
	assert_ptr_equal(cfg.vdevs[2].type, &debug_exit_type);
	assert_string_equal(vdev_opt(&cfg.vdevs[2], "mode")->value, "plain");
	assert_int_equal(cfg.vdevs[3].locs[0].len, 0x2000);
	assert_true(cfg.vdevs[3].locs[0].has_len);
	assert_int_equal(cfg.vdevs[3].hostdevs[0].dir, HOSTDEV_BOTH);
	config_free(&cfg);
}

static void test_context_continues(void **state)
{
	/* QNX: top-level options do not end a vdev context */
	ok("vdev ser8250 ram 1m intr ioapic:3 load blob.dat name c");
	assert_int_equal(cfg.vdevs[0].intrs[0].line, 3);
	assert_string_equal(cfg.vdevs[0].name, "c");
	config_free(&cfg);
	/* a context lasts until the next one opens */
	bad(RL "reserve loc 0x200000 cpu loc 0x300000", "1:47: 'loc' is only "
	    "valid after vdev, pass or reserve");
}

/* ---- command line ---- */

/* The PCI hole [0xB0000000, 0xFC000000) is only kept free when some vdev
 * is on PCI; the host bridge is slot 0 of the only bus. */
static void test_pci_hole(void **state)
{
	ok("ram 0,2816m load blob.dat rom 0xfc000000,0x1000 "
	   "vdev virtio-entropy vdev virtio-entropy loc pci:0:31.7 "
	   "vdev virtio-entropy loc pci:1af4/1044");
	assert_true(vm_config_has_pci(&cfg));
	assert_true(cfg.vdevs[0].on_pci);
	config_free(&cfg);
	/* without PCI the same addresses are ordinary memory */
	ok("ram 0,3g load blob.dat rom 0xc0000000,64k "
	   "vdev testdev loc 0xd0000000");
	assert_false(vm_config_has_pci(&cfg));
	config_free(&cfg);
	ok(RL "vdev virtio-entropy loc 0xd0000000 intr ioapic:10");
	assert_false(vm_config_has_pci(&cfg));
	config_free(&cfg);
	/* the message names the vdev by file:line:col, a temporary path */
	assert_int_equal(config_from_string(&cfg, name, RL "rom "
			 "0xfbfff000,0x2000 vdev virtio-entropy", &err), -1);
	assert_int_equal(err.pos.col, 26);
	assert_non_null(strstr(err.msg, "rom mem 0xfbfff000-0xfc000fff "
			       "overlaps the PCI hole 0xb0000000-0xfbffffff "
			       "(needed by vdev virtio-entropy at "));
	assert_non_null(strstr(err.msg, "t.qvmconf:1:49)"));
}

static void test_pci_slots(void **state)
{
	bad(RL "vdev virtio-entropy loc pci:1:2",
	    "1:46: pci bus 1 does not exist (there is only bus 0)");
	bad(RL "vdev virtio-entropy loc pci:0:0.3",
	    "1:46: pci slot 0 is the host bridge");
	/* a reserve of slot 0 is harmless: nothing else may take it */
	ok(RL "reserve loc pci:0:0 vdev virtio-entropy");
	config_free(&cfg);
}

/* Every table at its CFG_MAX_* count: the conflict check's region table
 * holds them with the six windows every x86 VM has (it was one short:
 * a write past a stack array). */
static void test_region_table_full(void **state)
{
	static char text[16384];
	size_t n = 0;

#define ADD(...) (n += (size_t)snprintf(text + n, sizeof(text) - n, \
					__VA_ARGS__))
	for (unsigned i = 0; i < 16; i++)
		ADD("ram 0x%x,4k\n", i * 0x1000);
	for (unsigned i = 0; i < 8; i++)
		ADD("rom 0x%x,4k\n", 0x100000 + i * 0x1000);
	ADD("reserve");
	for (unsigned i = 0; i < 32; i++)
		ADD(" loc mem:0x%x", 0x200000 + i);
	ADD("\n");
	for (unsigned d = 1; d <= 8; d++)
		for (unsigned f = 0; f < 8; f++)
			ADD("vdev virtio-entropy loc pci:0:%u.%u\n", d, f);
	for (unsigned d = 9; d <= 24; d++)
		ADD("pass loc pci:1:%u.0 guest-loc pci:0:%u\n", d, d);
	ADD("load blob.dat\n");
#undef ADD
	assert_true(n < sizeof(text));
	ok(text);
	config_free(&cfg);
}

/* A device takes its own size whatever its loc's length says; the check
 * used the length, and the run then failed to register the second. */
static void test_device_size(void **state)
{
	char want[512];

	snprintf(want, sizeof(want), "1:67: vdev ser8250 io 0x3fc-0x403 "
		 "overlaps vdev ser8250 io 0x3f8-0x3ff at %s:1:39", name);
	bad(RL "vdev ser8250 loc io:0x3f8,1 vdev ser8250 loc io:0x3fc", want);
}

/* Addresses KVM could never map, and that wrapped the overlap checks. */
static void test_gpa_limit(void **state)
{
	bad(RL "ram 0x10000000000000,4k",
	    "1:26: ram 0x10000000000000,0x1000 is beyond the 52-bit "
	    "guest-physical address space");
	bad(RL "vdev testdev loc 0xfffffffffffff000",
	    "1:39: location '0xfffffffffffff000' is beyond the 52-bit "
	    "guest-physical address space");
	bad(RL "reserve loc mem:0xffffffffff000,0x2000",
	    "1:34: location 'mem:0xffffffffff000,0x2000' is beyond the "
	    "52-bit guest-physical address space");
	ok(RL "reserve loc mem:0xffffffffff000,0x1000");
	config_free(&cfg);
}

/* The firmware image's window (up to 4 GiB) is the firmware's. */
static void test_firmware_overlap(void **state)
{
	static char img[128 * 1024];
	char path[256], want[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fw.bin", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, sizeof(img), f), sizeof(img));
	fclose(f);
	snprintf(want, sizeof(want), "1:35: rom mem 0xfffff000-0xffffffff "
		 "overlaps firmware mem 0xfffe0000-0xffffffff at %s:1:24",
		 name);
	bad("ram 0,0xa0000 firmware fw.bin rom 0xfffff000,4k", want);
}

/* An include that is a FIFO with no writer: refused, not waited on. */
static void test_include_fifo(void **state)
{
	char path[256], arg[260];
	char *argv[] = { "ram", "1m", arg };

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(arg, sizeof(arg), "@%s", path);
	assert_int_not_equal(config_from_args(&cfg, 3, argv, &err), 0);
	assert_non_null(strstr(err.msg, "': invalid argument"));
	unlink(path);
}

static void test_args(void **state)
{
	char blob[256], file[256], inc[260];
	char *argv[] = { "ram", "256m", "load", blob, "cmdline",
			 "console=ttyS0 quiet", "vdev", "ser8250", "hostdev",
			 ">-", inc };

	snprintf(blob, sizeof(blob), "%s/blob.dat", dir);
	write_file("args.qvmconf", "system fromfile\n");
	snprintf(file, sizeof(file), "%s/args.qvmconf", dir);
	snprintf(inc, sizeof(inc), "@%s", file);
	assert_int_equal(config_from_args(&cfg, 11, argv, &err), 0);
	assert_string_equal(cfg.cmdline, "console=ttyS0 quiet");
	assert_string_equal(cfg.system, "fromfile");
	assert_string_equal(cfg.vdevs[0].pos.file, "<command line>");
	assert_int_equal(cfg.vdevs[0].pos.line, 1);
	assert_int_equal(cfg.vdevs[0].pos.col, 8);
	/* argv paths are relative to the cwd: kept as written */
	assert_string_equal(cfg.loads[0].path, blob);
	config_free(&cfg);
}

static void test_args_errors(void **state)
{
	char *argv1[] = { "ram", "1m", "load" };
	char *argv2[] = { "@/nonexistent/x.qvmconf" };
	char *argv3[] = { "ram", "1m", "load", "blob.dat-not-here" };

	assert_int_equal(config_from_args(&cfg, 3, argv1, &err), -1);
	assert_string_equal(err.pos.file, "<command line>");
	assert_int_equal(err.pos.col, 3);
	assert_string_equal(err.msg, "expected [ADDR,]PATH after 'load'");
	assert_int_equal(config_from_args(&cfg, 1, argv2, &err), -1);
	assert_string_equal(err.msg, "cannot read '/nonexistent/x.qvmconf': "
			    "no such file or directory");
	assert_int_equal(err.pos.col, 1);
	assert_int_equal(config_from_args(&cfg, 4, argv3, &err), -1);
	assert_int_equal(err.pos.col, 4);
	assert_int_equal(config_from_args(&cfg, 0, argv3, &err), -1);
	assert_string_equal(err.msg, "no ram: add `ram SIZE`");
	assert_int_equal(err.pos.col, 1);
	/* the error survives the config: it owns its file name */
	assert_ptr_equal(err.pos.file, err.file);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comments_and_whitespace),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_include_relative),
		cmocka_unit_test(test_include_cycle),
		cmocka_unit_test(test_include_depth),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_too_many_cpus),
		cmocka_unit_test(test_loads),
		cmocka_unit_test(test_system_cmdline_reboot),
		cmocka_unit_test(test_unsupported_statements),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_vdev_options),
		cmocka_unit_test(test_context_continues),
		cmocka_unit_test(test_pci_hole),
		cmocka_unit_test(test_pci_slots),
		cmocka_unit_test(test_region_table_full),
		cmocka_unit_test(test_device_size),
		cmocka_unit_test(test_gpa_limit),
		cmocka_unit_test(test_firmware_overlap),
		cmocka_unit_test(test_include_fifo),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_args_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
