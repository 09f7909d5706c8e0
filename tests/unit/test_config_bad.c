/* Malformed configurations: each must fail with the exact position and
 * message. The same table is written to tests/configs/bad/NN-name.qvmconf
 * (run this binary with `--write DIR`), whose first line is the
 * `# expect: LINE:COL: message` comment that tests/integration/
 * config_check.sh checks against `cvisor check`. Line 1 of every text is
 * that comment, so the texts here start at line 2.
 *
 * In messages, $FILE stands for the config's path and $DIR for its
 * directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "config/config.h"

struct bad {
	const char *name, *text, *want;
};

#define RL "ram 1m\nload blob.dat\n"   /* a minimal valid start */
/* n vdevs that each take a PCI slot of their own, one a line */
#define E1  "vdev virtio-entropy\n"
#define E10 E1 E1 E1 E1 E1 E1 E1 E1 E1 E1
#define E30 E10 E10 E10

static const struct bad bad[] = {
	{ "unknown-option", RL "foo\n",
	  "4:1: unknown option 'foo'; expected one of system, ram, rom, "
	  "reserve, cpu, load, cmdline, vdev, pass, reboot, triplefault" },
	{ "unknown-vdev-option", RL "vdev ser8250 foo 1\n",
	  "4:14: unknown option 'foo' for vdev ser8250 (see cvisor help vdev "
	  "ser8250)" },
	{ "loc-at-top", "loc 0x1000\n",
	  "2:1: 'loc' is only valid after vdev, pass or reserve" },
	{ "sched-after-vdev", RL "vdev debug-exit sched 5\n",
	  "4:17: 'sched' is only valid after cpu" },
	{ "hostdev-after-cpu", "cpu hostdev >-\n",
	  "2:5: 'hostdev' is only valid after vdev" },
	{ "ram-missing-arg", "load blob.dat\nram\n",
	  "3:1: expected [START,]SIZE after 'ram'" },
	{ "unknown-vdev-type", "vdev nosuch\n",
	  "2:6: unknown vdev type 'nosuch' (cvisor --help lists them)" },
	{ "unsupported-vdev", "vdev hpet\n",
	  "2:6: vdev type 'hpet' is not supported yet" },
	{ "pass", "ram 1m\npass loc pci:0:2\n",
	  "3:10: pass location 'pci:0:2' needs a function: BUS:DEV.FN" },
	{ "logger", "logger debug,infos slog\n",
	  "2:8: unknown log filter 'infos'; expected fatal, internal, error, "
	  "warning, info, debug or verbose" },
	{ "sporadic", "cpu sched 10,5,1000,2000,500s\n",
	  "2:11: sporadic scheduling is not supported yet" },
	{ "cluster", "cpu cluster c0\n", "2:5: 'cluster' is not supported yet" },
	{ "cmdline-twice", "cmdline \"a\"\ncmdline \"b\"\n",
	  "3:1: 'cmdline' given twice (first at $FILE:2:1)" },
	{ "no-ram", "load blob.dat\n", "2:1: no ram: add `ram SIZE`" },
	{ "no-guest", "ram 1m\ninitrd load blob.dat\n",
	  "2:1: no guest image: add `load PATH`" },
	{ "two-guests", RL "guest load blob.dat\n",
	  "4:12: more than one guest image (first at $FILE:3:6)" },
	{ "missing-file", "ram 1m\nload nofile.bin\n",
	  "3:6: cannot read '$DIR/nofile.bin': no such file or directory" },
	{ "data-no-addr", RL "data load blob.dat\n",
	  "4:11: data load needs an address: data load ADDR,PATH" },
	{ "load-outside-ram", "ram 1m\nload 0x200000,blob.dat\n",
	  "3:6: load address 0x200000 is outside ram and rom" },
	{ "ram-after-load", RL "initrd load 0x200000,blob.dat\nram 2m,1m\n",
	  "4:13: ram must be allocated before components that refer to guest "
	  "memory (ram at $FILE:5:5 comes after this load)" },
	{ "ram-unaligned", "ram 0x1001,1m\n",
	  "2:5: ram start 0x1001 is not 4 KiB aligned" },
	{ "ram-size-unaligned", "ram 1000\n",
	  "2:5: ram size 0x3e8 is not a multiple of 4 KiB" },
	{ "ram-zero", "ram 0\n", "2:5: ram size must not be zero" },
	{ "number-overflow", "ram 0x10000000000000000\n",
	  "2:5: size '0x10000000000000000' is too large" },
	{ "suffix-overflow", "ram 0x10,0x1000000000000g\n",
	  "2:5: size '0x1000000000000g' is too large" },
	{ "ram-wraps", "ram 0xfffffffffffff000,8k\n",
	  "2:5: ram 0xfffffffffffff000,0x2000 wraps around the address space" },
	{ "ram-limit", "ram 2048g\n", "2:5: total ram exceeds the limit of 1 TiB" },
	{ "ram-overlap", "ram 0,1m\nload blob.dat\nram 0x80000,1m\n",
	  "4:5: ram mem 0x80000-0x17ffff overlaps ram mem 0x0-0xfffff at "
	  "$FILE:2:5" },
	{ "rom-no-start", "rom 256k\n",
	  "2:5: expected START,SIZE after 'rom', got '256k'" },
	{ "reserve-overlap", "ram 0,0xa0000\nload blob.dat\n"
	  "reserve loc 0x9f000,0x2000\n",
	  "4:13: reserve mem 0x9f000-0xa0fff overlaps ram mem 0x0-0x9ffff at "
	  "$FILE:2:5" },
	{ "io-overlap", RL "vdev ser8250\nvdev pckeyboard loc io:0x3fc\n",
	  "5:21: vdev pckeyboard io 0x3fc-0x3fc overlaps vdev ser8250 io "
	  "0x3f8-0x3ff at $FILE:4:6" },
	{ "lapic-overlap", RL "vdev testdev loc 0xfee00000\n",
	  "4:18: vdev testdev mem 0xfee00000-0xfee00fff overlaps the local apic "
	  "window mem 0xfee00000-0xfeefffff" },
	{ "pci-overlap", RL "reserve loc pci:0:1 loc pci:0:1.0\n",
	  "4:25: reserve pci 0:1.0 overlaps reserve pci 0:1.0 at $FILE:4:13" },
	{ "duplicate-intr", RL "vdev ser8250\nvdev ser8250 intr ioapic:4\n",
	  "5:19: interrupt ioapic:4 already used by ser8250 at $FILE:4:6" },
	{ "reserved-intr", RL "reserve intr 3\nvdev ser8250 intr ioapic:3\n",
	  "5:19: interrupt ioapic:3 already reserved at $FILE:4:14" },
	{ "intr-out-of-range", RL "vdev ser8250 intr ioapic:24\n",
	  "4:19: interrupt line 24 out of range for ioapic (0-23)" },
	{ "undefined-pic", RL "vdev ser8250 intr gic:37\n",
	  "4:19: undefined interrupt controller 'gic' (arm64's: add 'arch "
	  "arm64' to the config, or check with --arch arm64)" },
	{ "renamed-ioapic", RL "vdev ioapic name myioapic\n"
	  "vdev ser8250 intr ioapic:4\n",
	  "5:19: undefined interrupt controller 'ioapic'" },
	{ "pic-name-colon", "vdev ioapic name my:ioapic\n",
	  "2:18: interrupt controller name 'my:ioapic' must not contain ':'" },
	{ "ioapic-moved", RL "vdev ioapic loc 0xf8000000 intr apic name myioapic\n",
	  "4:17: ioapic loc must be 0xfec00000 (the in-kernel ioapic cannot "
	  "move)" },
	{ "ioapic-intr", RL "vdev ioapic intr ioapic:2\n",
	  "4:18: vdev ioapic only takes 'intr apic'" },
	{ "apic-on-uart", RL "vdev ser8250 intr apic\n",
	  "4:19: 'intr apic' is only valid for vdev ioapic" },
	{ "loc-missing", RL "vdev pl011 intr ioapic:5\n",
	  "4:6: vdev pl011 needs 'loc' (it has no default location)" },
	{ "intr-missing", RL "vdev pl011 loc 0x9000000\n",
	  "4:6: vdev pl011 needs 'intr' (it has no default interrupt)" },
	{ "loc-wrong-space", RL "vdev ser8250 loc mem:0x3f8\n",
	  "4:18: vdev ser8250 needs an io location, not mem" },
	{ "max-instances", "vdev debug-exit\nvdev debug-exit\n",
	  "3:6: too many debug-exit vdevs (max 1)" },
	{ "num-out-of-range", "vdev ser8250 batch 2000000\n",
	  "2:20: value 2000000 for 'batch' out of range (0-1000000)" },
	{ "enum-bad-value", "vdev debug-exit mode foo\n",
	  "2:22: invalid value 'foo' for 'mode'; expected one of qemu|plain" },
	{ "hostdev-not-allowed", "vdev debug-exit hostdev >-\n",
	  "2:17: vdev debug-exit does not take 'hostdev'" },
	{ "too-many-hostdevs", "vdev ser8250 hostdev a hostdev b hostdev c "
	  "hostdev d hostdev e\n",
	  "2:54: too many hostdev options for vdev ser8250 (max 4)" },
	{ "unterminated-string", "ram 1m\ncmdline \"abc\n",
	  "3:9: unterminated string" },
	{ "include-missing", "@nothere.qvmconf\n",
	  "2:1: cannot read '$DIR/nothere.qvmconf': no such file or directory" },
	{ "invalid-number", "ram 12q\n", "2:5: invalid size '12q'" },
	{ "invalid-location", "vdev testdev loc foo:1\n",
	  "2:18: invalid location 'foo:1'; expected mem:ADDR[,LEN], "
	  "io:PORT[,LEN], pci:BUS:DEV[.FN] or pci:VID/DID" },
	{ "pci-device-range", "reserve loc pci:0:40\n",
	  "2:13: pci device 40 out of range (0-31)" },
	{ "io-beyond-ffff", "reserve loc io:0xfff0,0x20\n",
	  "2:13: io location 'io:0xfff0,0x20' is beyond port 0xffff" },
	{ "runmask-range", "cpu runmask 1024\n",
	  "2:13: cpu 1024 in runmask out of range (0-1023)" },
	{ "priority-range", "cpu sched 0\n",
	  "2:11: priority 0 out of range (1-99)" },
	{ "priority-bad", "cpu sched 10x\n",
	  "2:11: invalid priority '10x'; expected PRIO[r|f|o]" },
	{ "reboot-bad", "reboot never\n",
	  "2:8: expected 'reset' or 'exit' after 'reboot', got 'never'" },
	{ "vdev-missing-type", "ram 1m\nvdev\n",
	  "3:1: expected a vdev type after 'vdev'" },
	{ "blob-without-load", "initrd blob.dat\n",
	  "2:1: expected 'load' after 'initrd'" },
	{ "pic8259-moved", RL "vdev 8259 loc 0x30\n",
	  "4:15: vdev 8259 is emulated by kvm and cannot move to io 0x30" },
	{ "timer-intr-moved", RL "vdev timer8254 intr ioapic:2\n",
	  "4:21: vdev timer8254 is emulated by kvm on line 0 and cannot move "
	  "to line 2" },
	{ "intr-not-taken", RL "vdev debug-exit intr ioapic:5\n",
	  "4:22: vdev debug-exit does not take 'intr'" },
	{ "vdev-log", "vdev ser8250 log info syslog\n",
	  "2:23: unknown log destination 'syslog'; expected stderr or slog" },
	{ "name-too-long", "system "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  "2:8: name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaa' is too long (max 63 characters)" },
	{ "legacy-not-virtio", "vdev ser8250 legacy\n",
	  "2:14: vdev ser8250 does not take 'legacy'" },
	{ "option-twice", "vdev ser8250 batch 5 batch 6\n",
	  "2:22: 'batch' given twice for vdev ser8250 (first at $FILE:2:14)" },
	{ "loc-twice", "vdev ser8250 loc 0x3f8 loc 0x2f8\n",
	  "2:24: 'loc' given twice for vdev ser8250 (first at $FILE:2:18)" },
	{ "system-twice", "system a\nsystem b\n",
	  "3:1: 'system' given twice (first at $FILE:2:1)" },
	{ "pipe-input", "vdev ser8250 hostdev <\"|cat\"\n",
	  "2:22: a hostdev pipe must be an output: hostdev >\"|command\"" },
	{ "duplicate-name", "vdev ser8250 name a\nvdev ser8250 name a\n",
	  "3:19: name 'a' already used by vdev ser8250 at $FILE:2:6" },
	{ "intr-missing-arg", "vdev ser8250 intr\n",
	  "2:14: expected an interrupt after 'intr'" },
	{ "intr-syntax", "vdev ser8250 intr 4\n",
	  "2:19: invalid interrupt '4'; expected NAME:LINE or apic" },
	{ "multiboot-module", "multiboot-module load blob.dat\n",
	  "2:1: 'multiboot-module' is not supported yet" },
	{ "blob-too-big", "ram 0,64k\nload 0xf000,big.dat\n",
	  "3:6: '$DIR/big.dat' (8192 bytes) does not fit at 0xf000: memory ends "
	  "at 0x10000" },
	{ "reserve-unknown", "reserve size 4\n",
	  "2:9: unknown option 'size' for reserve; expected loc or intr" },
	{ "cpu-unknown", "cpu prio 4\n",
	  "2:5: unknown option 'prio' for cpu; expected sched or runmask" },
	{ "sched-twice", "cpu sched 10 sched 11\n",
	  "2:14: 'sched' given twice for the cpu at $FILE:2:1" },
	{ "virtio-half-mmio", RL "vdev virtio-net loc 0x1c0c0000\n",
	  "4:6: virtio-mmio vdev virtio-net needs both 'loc' and 'intr'" },
	{ "hostvector-range", "vdev ioapic hostvector 256\n",
	  "2:24: value 256 for 'hostvector' out of range (0-255)" },
	{ "hostvector-not-taken", "vdev ser8250 hostvector 4\n",
	  "2:14: unknown option 'hostvector' for vdev ser8250 (see cvisor "
	  "help vdev ser8250)" },
	{ "triplefault-bad", "triplefault maybe\n",
	  "2:13: expected 'reset' or 'exit' after 'triplefault', got 'maybe'" },
	{ "triplefault-twice", "triplefault exit triplefault reset\n",
	  "2:18: 'triplefault' given twice (first at $FILE:2:1)" },
	{ "pci-hole-ram", "ram 0x80000000,2g\nload blob.dat\nvdev virtio-entropy\n",
	  "2:5: ram mem 0x80000000-0xffffffff overlaps the PCI hole "
	  "0xb0000000-0xfbffffff (needed by vdev virtio-entropy at $FILE:4:6)" },
	{ "pci-hole-device", RL "vdev virtio-entropy\nvdev testdev loc 0xc0000000\n",
	  "5:18: vdev testdev mem 0xc0000000-0xc0000fff overlaps the PCI hole "
	  "0xb0000000-0xfbffffff (needed by vdev virtio-entropy at $FILE:4:6)" },
	{ "pci-slot-0", RL "vdev virtio-entropy loc pci:0:0\n",
	  "4:25: pci slot 0 is the host bridge" },
	{ "pci-same-slot", RL "vdev virtio-entropy loc pci:0:3\n"
	  "vdev virtio-console loc pci:0:3.0 hostdev >-\n",
	  "5:25: vdev virtio-console pci 0:3.0 overlaps vdev virtio-entropy pci "
	  "0:3.0 at $FILE:4:25" },
	{ "kvm-private-pages", RL "rom 0xfffb0000,0x10000\n",
	  "4:5: rom mem 0xfffb0000-0xfffbffff overlaps kvm's real-mode tss and "
	  "identity map mem 0xfffbc000-0xfffbffff" },
	{ "acpi-pm-ports", RL "vdev ser8250 loc io:0x600\n",
	  "4:18: vdev ser8250 io 0x600-0x607 overlaps the acpi power registers "
	  "io 0x600-0x613" },
	{ "net-bad-mac", RL "vdev virtio-net mac 02:00:00:00:00\n",
	  "4:21: invalid value '02:00:00:00:00' for 'mac': expected a MAC "
	  "address XX:XX:XX:XX:XX:XX" },
	{ "net-multicast-mac", RL "vdev virtio-net mac 01:00:5e:00:00:01\n",
	  "4:21: invalid value '01:00:5e:00:00:01' for 'mac': a multicast MAC "
	  "address cannot be a NIC's address" },
	{ "net-unknown-backend", RL "vdev virtio-net hostdev tap0\n",
	  "4:25: vdev virtio-net: hostdev 'tap0': unknown network backend; "
	  "expected 'user' or 'tap:NAME'" },
	{ "net-hostfwd", RL "vdev virtio-net hostfwd tcp:127.0.0.1:2222\n",
	  "4:25: invalid value 'tcp:127.0.0.1:2222' for 'hostfwd': expected "
	  "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT" },
	{ "net-hostfwd-port", RL "vdev virtio-net hostfwd udp::0-:7\n",
	  "4:25: invalid value 'udp::0-:7' for 'hostfwd': invalid port "
	  "(1-65535)" },
	{ "net-mtu", RL "vdev virtio-net mtu 65522\n",
	  "4:21: value 65522 for 'mtu' out of range (68-65521)" },
	{ "net-peer-not-net", RL "vdev virtio-blk hostdev blob.dat peer /tmp/l\n",
	  "4:34: unknown option 'peer' for vdev virtio-blk (see cvisor help "
	  "vdev virtio-blk)" },
	{ "net-peer-hostdev", RL "vdev virtio-net hostdev user peer /tmp/l\n",
	  "4:30: vdev virtio-net: peer and hostdev are exclusive: a peer link "
	  "is the backend" },
	{ "fw-cfg-missing-file", RL "vdev fw-cfg file opt/x,nofile.bin\n",
	  "4:13: vdev fw-cfg: file opt/x: cannot read '$DIR/nofile.bin': no "
	  "such file or directory" },
	{ "fw-cfg-name", RL "vdev fw-cfg string etc/x,abc\n",
	  "4:20: invalid value 'etc/x,abc' for 'string': the name must start "
	  "with opt/ and go on (QEMU keeps the other names for itself and for "
	  "firmware)" },
	{ "fw-cfg-twice", RL "vdev fw-cfg string opt/a,1 file opt/a,blob.dat\n",
	  "4:28: vdev fw-cfg: item opt/a given twice (first at $FILE:4:13)" },
	{ "fw-cfg-not-a-file", RL "vdev fw-cfg file opt/x,.\n",
	  "4:13: vdev fw-cfg: file opt/x: '$DIR/.' is not a regular file" },
	{ "fw-cfg-moved", RL "vdev fw-cfg loc io:0x520\n",
	  "4:17: vdev fw-cfg: its ports are fixed at io 0x510-0x51b, where "
	  "firmware looks for them" },
	{ "pc-testdev-moved", RL "vdev pc-testdev loc 0xf0\n",
	  "4:21: vdev pc-testdev: its addresses are QEMU's and fixed (io "
	  "0xe0-0xeb, io 0x2000-0x2017, mem 0xff000000-0xff00ffff)" },
	{ "memory-bad", RL "memory thp,huge\n",
	  "4:8: memory: 'huge': expected thp, hugepages or prealloc" },
	{ "memory-exclusive", RL "memory prealloc,thp,hugepages\n",
	  "4:8: memory: thp and hugepages exclude each other" },
	{ "memory-twice", RL "memory prealloc memory thp\n",
	  "4:17: 'memory' given twice (first at $FILE:4:1)" },
	/* bus 0 has 31 slots besides the host bridge's: the 32nd function
	 * finds none, as the builder would find */
	{ "pci-slots-full", RL E30 E1 E1,
	  "35:6: vdev virtio-entropy: no free pci slot (bus 0 has 31 besides "
	  "the host bridge's, all taken)" },
	/* a slot named later (a pass's guest-loc, a reserve) is set aside
	 * before the vdevs without a loc are placed */
	{ "pci-slots-named-later", RL E30 E1
	  "pass loc pci:0:3.0 guest-loc pci:0:1\n",
	  "34:6: vdev virtio-entropy: no free pci slot (bus 0 has 31 besides "
	  "the host bridge's, all taken)" },
	{ "pci-slots-reserved", RL E30 "reserve loc pci:0:31.0\n" E1,
	  "35:6: vdev virtio-entropy: no free pci slot (bus 0 has 31 besides "
	  "the host bridge's, all taken)" },
	{ "virtio-mmio-two-intrs",
	  RL "vdev virtio-entropy loc 0x10000000 intr ioapic:5,ioapic:6\n",
	  "4:41: vdev virtio-entropy takes one interrupt" },
	{ "blk-legacy", RL "vdev virtio-blk legacy hostdev blob.dat\n",
	  "4:17: vdev virtio-blk: legacy (virtio 0.9.5) is not supported: "
	  "cvisor's virtio devices are modern only" },
	{ "blk-no-hostdev", RL "vdev virtio-blk\n",
	  "4:6: vdev virtio-blk: needs a disk image: `hostdev [<]path`" },
	{ "blk-two-hostdevs",
	  RL "vdev virtio-blk hostdev blob.dat hostdev <blob.dat\n",
	  "4:42: vdev virtio-blk: takes one hostdev (one disk image)" },
	{ "blk-hostdev-out", RL "vdev virtio-blk hostdev >blob.dat\n",
	  "4:25: vdev virtio-blk: hostdev must be `path` or `<path` "
	  "(read-only)" },
	{ "console-legacy", RL "vdev virtio-console legacy hostdev >-\n",
	  "4:21: vdev virtio-console: legacy (virtio 0.9.5) is not supported: "
	  "cvisor's virtio devices are modern only" },
	{ "entropy-legacy", RL "vdev virtio-entropy legacy\n",
	  "4:21: vdev virtio-entropy: legacy (virtio 0.9.5) is not supported: "
	  "cvisor's virtio devices are modern only" },
};

static char tmpdir[64];

/* $FILE and $DIR → the actual path. */
static void expand(const char *in, const char *file, const char *dir,
		   char *out, size_t size)
{
	size_t n = 0;

	while (*in && n + 1 < size) {
		const char *sub = NULL;

		if (!strncmp(in, "$FILE", 5))
			sub = file;
		else if (!strncmp(in, "$DIR", 4))
			sub = dir;
		if (sub) {
			n += (size_t)snprintf(out + n, size - n, "%s", sub);
			in += sub == file ? 5 : 4;
		} else {
			out[n++] = *in++;
		}
	}
	out[n < size ? n : size - 1] = '\0';
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	char path[128], big[8192];

	strcpy(tmpdir, "/tmp/cvisor-cfg-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/blob.dat", tmpdir);
	write_file(path, "blob\n", 5);
	memset(big, 0, sizeof(big));
	snprintf(path, sizeof(path), "%s/big.dat", tmpdir);
	write_file(path, big, sizeof(big));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool check_one(const struct bad *b)
{
	static struct vm_config cfg;
	struct cfg_error err;
	char file[128], want[1024], got[1100], text[4096];

	snprintf(file, sizeof(file), "%s/%s.qvmconf", tmpdir, b->name);
	/* line 1 stands for the `# expect:` comment of the file form */
	snprintf(text, sizeof(text), "\n%s", b->text);
	expand(b->want, file, tmpdir, want, sizeof(want));
	if (!config_from_string(&cfg, file, text, &err)) {
		config_free(&cfg);
		print_error("%s: accepted, expected %s\n", b->name, want);
		return false;
	}
	snprintf(got, sizeof(got), "%u:%u: %s", err.pos.line, err.pos.col,
		 err.msg);
	config_free(&cfg);     /* harmless after a failure */
	if (strcmp(got, want) || strcmp(err.pos.file, file)) {
		print_error("%s:\n  got  %s: %s\n  want %s\n", b->name,
			    err.pos.file, got, want);
		return false;
	}
	return true;
}

static void test_bad_table(void **state)
{
	unsigned failed = 0;

	/* report every mismatch, not only the first */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		failed += !check_one(&bad[i]);
	assert_int_equal(failed, 0);
}

static void test_table_size(void **state)
{
	assert_true(sizeof(bad) / sizeof(bad[0]) >= 40);
}

/* `--write DIR`: regenerate tests/configs/bad from the table. */
static int write_bad(const char *dir)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%02zu-%s.qvmconf", dir, i + 1,
			 bad[i].name);
		f = fopen(path, "w");
		if (!f) {
			perror(path);
			return 1;
		}
		fprintf(f, "# expect: %s\n%s", bad[i].want, bad[i].text);
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_size),
		cmocka_unit_test(test_bad_table),
	};

	if (argc == 3 && !strcmp(argv[1], "--write"))
		return write_bad(argv[2]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
