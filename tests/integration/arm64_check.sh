# arm64 configs checked on this (x86) host (issue 15): `arch arm64` and
# --arch pick the rules, `intr gic:N` takes SPIs 32-1019 once each, errors
# name file:line:col; --dump-dtb writes a tree that dtc reads without a
# warning and that has what the config describes.
. "$(dirname "$0")/lib.sh"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
AGUEST=$BUILD/guest/testguest-arm64.bin
[ -f "$AGUEST" ] || skip "no AArch64 test guest (needs gcc-aarch64-linux-gnu: scripts/deps.sh test)"
command -v dtc >/dev/null || skip "dtc not installed (Debian: device-tree-compiler)"

conf() {   # conf FILE [extra lines...]: an arm64 VM around the test guest
	local f=$1; shift
	{
		echo "ram 0x80000000,64m"
		echo "cpu"; echo "cpu"
		echo "load $PWD/$AGUEST"
		echo 'cmdline "hello smp"'
		echo "vdev pl011 loc 0x1c090000 intr gic:37 hostdev >-"
		printf '%s\n' "$@"
	} >"$f"
}
# expect_err FILE LINE:COL REGEX [cvisor args...]
expect_err() {
	local f=$1 at=$2 re=$3; shift 3
	"$CVISOR" check "$@" "@$f" 2>"$TMP/err"
	st=$?
	[ $st -eq 65 ] || fail "check $f: status $st, expected 65: $(cat "$TMP/err")"
	grep -qE "^$f:$at: .*$re" "$TMP/err" || fail "check $f: wanted $at /$re/, got: $(cat "$TMP/err")"
}

# Without `arch arm64` the x86 rules apply: gic is refused, at its place.
conf "$TMP/a.qvmconf"
expect_err "$TMP/a.qvmconf" 6:32 "undefined interrupt controller 'gic' \(arm64's: add 'arch arm64'"
"$CVISOR" check --arch arm64 "@$TMP/a.qvmconf" 2>"$TMP/err" ||
	fail "--arch arm64: $(cat "$TMP/err")"
conf "$TMP/b.qvmconf" "arch arm64"
"$CVISOR" check "@$TMP/b.qvmconf" 2>"$TMP/err" || fail "arch arm64: $(cat "$TMP/err")"
"$CVISOR" check -v "@$TMP/b.qvmconf" 2>&1 | grep -q 'boot: arm64 Linux Image at 0x80080000' ||
	fail "the test guest is not taken for an arm64 Image"
# The same guest as an ELF file: its segment at its physical address.
sed 's/testguest-arm64\.bin$/testguest-arm64.elf/' "$TMP/b.qvmconf" >"$TMP/elf.qvmconf"
"$CVISOR" check -v "@$TMP/elf.qvmconf" 2>&1 |
	grep -q 'boot: ELF at 0x80080000-' || fail "the guest's ELF file is not loaded as ELF"

# The GIC's lines: SPIs only, each once; 1020 is a special INTID.
conf "$TMP/c.qvmconf" "arch arm64" "vdev virtio-entropy loc 0x1c0b0000 intr gic:1020"
expect_err "$TMP/c.qvmconf" 8:41 "interrupt line 1020 out of range for gic \(SPIs: 32-1019\)"
conf "$TMP/d.qvmconf" "arch arm64" "vdev virtio-entropy loc 0x1c0b0000 intr gic:31"
expect_err "$TMP/d.qvmconf" 8:41 "interrupt line 31 out of range"
conf "$TMP/e.qvmconf" "arch arm64" "vdev virtio-entropy loc 0x1c0b0000 intr gic:37"
expect_err "$TMP/e.qvmconf" 8:41 "interrupt gic:37 already used by .*pl011"
conf "$TMP/f.qvmconf" "arch arm64" "vdev virtio-entropy loc 0x1c0b0000 intr ioapic:5"
expect_err "$TMP/f.qvmconf" 8:41 "undefined interrupt controller 'ioapic' \(an arm64 VM has 'gic'\)"
# The GIC's windows are taken.
conf "$TMP/g.qvmconf" "arch arm64" "vdev virtio-entropy loc 0x080a0000 intr gic:41"
expect_err "$TMP/g.qvmconf" 8:25 "gic redistributors"
conf "$TMP/h.qvmconf" "arch sparc"
expect_err "$TMP/h.qvmconf" 7:6 "arch: expected 'x86' or 'arm64', got 'sparc'"

# The device tree, through dtc with every warning on.
conf "$TMP/t.qvmconf" "arch arm64" "vdev virtio-blk loc 0x1c0b0000 intr gic:40 hostdev $TMP/disk.img"
truncate -s 1M "$TMP/disk.img"
"$CVISOR" --dump-dtb "$TMP/t.dtb" "@$TMP/t.qvmconf" 2>"$TMP/err" ||
	fail "--dump-dtb: $(cat "$TMP/err")"
dtc -I dtb -O dts -o "$TMP/t.dts" "$TMP/t.dtb" 2>"$TMP/dtc" || fail "dtc: $(cat "$TMP/dtc")"
[ -s "$TMP/dtc" ] && fail "dtc warns: $(cat "$TMP/dtc")"
for want in 'compatible = "arm,gic-v3";' \
	'reg = <0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x40000>;' \
	'compatible = "arm,armv8-timer";' 'enable-method = "psci";' \
	'method = "hvc";' 'reg = <0x00 0x80000000 0x00 0x4000000>;' \
	'interrupts = <0x00 0x05 0x04>;' 'interrupts = <0x00 0x08 0x01>;' \
	'compatible = "virtio,mmio";' 'stdout-path = "/pl011@1c090000";' \
	'bootargs = "hello smp";'; do
	grep -qF "$want" "$TMP/t.dts" || fail "the tree lacks '$want': $(cat "$TMP/t.dts")"
done
[ "$(grep -c 'device_type = "cpu";' "$TMP/t.dts")" = 2 ] || fail "not 2 cpus in the tree"
# vdev gic version 2: the GICv2's distributor and CPU interface, the
# timer's PPIs with the two CPUs' mask; the CPU interface's window taken.
conf "$TMP/v2.qvmconf" "arch arm64" "vdev gic version 2"
"$CVISOR" --dump-dtb "$TMP/v2.dtb" "@$TMP/v2.qvmconf" 2>"$TMP/err" ||
	fail "--dump-dtb (GICv2): $(cat "$TMP/err")"
dtc -I dtb -O dts -o "$TMP/v2.dts" "$TMP/v2.dtb" 2>"$TMP/dtc" || fail "dtc: $(cat "$TMP/dtc")"
[ -s "$TMP/dtc" ] && fail "dtc warns (GICv2): $(cat "$TMP/dtc")"
for want in 'compatible = "arm,cortex-a15-gic";' \
	'reg = <0x00 0x8000000 0x00 0x1000 0x00 0x8010000 0x00 0x2000>;' \
	'interrupts = <0x01 0x0d 0x304 0x01 0x0e 0x304 0x01 0x0b 0x304 0x01 0x0a 0x304>;'; do
	grep -qF "$want" "$TMP/v2.dts" || fail "the GICv2 tree lacks '$want': $(cat "$TMP/v2.dts")"
done
# The MMIO 16550 (regshift 2) and the PL031 RTC in the tree.
conf "$TMP/u.qvmconf" "arch arm64" "vdev ser8250 loc 0x1c0a0000 intr gic:43 regshift 2" \
	"vdev pl031 loc 0x1c170000 intr gic:44"
"$CVISOR" --dump-dtb "$TMP/u.dtb" "@$TMP/u.qvmconf" 2>"$TMP/err" ||
	fail "--dump-dtb (16550, PL031): $(cat "$TMP/err")"
dtc -I dtb -O dts -o "$TMP/u.dts" "$TMP/u.dtb" 2>"$TMP/dtc" || fail "dtc: $(cat "$TMP/dtc")"
[ -s "$TMP/dtc" ] && fail "dtc warns (16550, PL031): $(cat "$TMP/dtc")"
for want in 'serial@1c0a0000 {' 'compatible = "ns16550a";' \
	'reg = <0x00 0x1c0a0000 0x00 0x20>;' 'reg-shift = <0x02>;' 'reg-io-width = <0x04>;' \
	'pl031@1c170000 {' 'compatible = "arm,pl031\0arm,primecell";' \
	'interrupts = <0x00 0x0c 0x04>;'; do
	grep -qF "$want" "$TMP/u.dts" || fail "the tree lacks '$want': $(cat "$TMP/u.dts")"
done
conf "$TMP/u2.qvmconf" "arch arm64" "vdev ser8250 intr gic:43"
expect_err "$TMP/u2.qvmconf" 8:6 "vdev ser8250 needs 'loc ADDR' on arm64"
# A PCI function with an I/O BAR: refused by check as by a run.
conf "$TMP/u3.qvmconf" "arch arm64" "vdev lsi53c895a hostdev $TMP/disk.img"
expect_err "$TMP/u3.qvmconf" 8:6 "vdev lsi53c895a has an I/O BAR, and arm64's PCI bridge has no I/O space"
conf "$TMP/v2c.qvmconf" "arch arm64" "vdev gic version 2" \
	"vdev virtio-entropy loc 0x08011000 intr gic:41"
expect_err "$TMP/v2c.qvmconf" 9:25 "gic cpu interface"
printf 'ram 64m\nload %s\nvdev gic version 2\n' "$PWD/$GUEST" >"$TMP/v2x.qvmconf"
expect_err "$TMP/v2x.qvmconf" 3:6 "vdev gic is arm64's interrupt controller"

# virtio-pci: the ECAM host bridge with its interrupt-map and msi-map,
# the ITS under the GICv3 (GICv2: INTx only, no ITS); its windows taken.
conf "$TMP/p.qvmconf" "arch arm64" "vdev virtio-blk hostdev $TMP/disk.img" \
	"vdev virtio-entropy loc pci:0:5.0"
"$CVISOR" check "@$TMP/p.qvmconf" 2>"$TMP/err" || fail "check (PCI): $(cat "$TMP/err")"
"$CVISOR" --dump-dtb "$TMP/p.dtb" "@$TMP/p.qvmconf" 2>"$TMP/err" ||
	fail "--dump-dtb (PCI): $(cat "$TMP/err")"
dtc -I dtb -O dts -o "$TMP/p.dts" "$TMP/p.dtb" 2>"$TMP/dtc" || fail "dtc: $(cat "$TMP/dtc")"
[ -s "$TMP/dtc" ] && fail "dtc warns (PCI): $(cat "$TMP/dtc")"
for want in 'pcie@3f000000 {' 'compatible = "pci-host-ecam-generic";' \
	'device_type = "pci";' 'bus-range = <0x00 0x00>;' \
	'reg = <0x00 0x3f000000 0x00 0x100000>;' \
	'ranges = <0x2000000 0x00 0x20000000 0x00 0x20000000 0x00 0x1f000000>;' \
	'interrupt-map-mask = <0x1800 0x00 0x00 0x07>;' 'msi-map = <0x00 0x03 0x00 0x10000>;' \
	'its@8080000 {' 'compatible = "arm,gic-v3-its";' 'msi-controller;' 'dma-coherent;'; do
	grep -qF "$want" "$TMP/p.dts" || fail "the PCI tree lacks '$want': $(cat "$TMP/p.dts")"
done
conf "$TMP/p2.qvmconf" "arch arm64" "vdev gic version 2" "vdev virtio-entropy"
"$CVISOR" --dump-dtb "$TMP/p2.dtb" "@$TMP/p2.qvmconf" 2>"$TMP/err" ||
	fail "--dump-dtb (PCI, GICv2): $(cat "$TMP/err")"
dtc -I dtb -O dts -o "$TMP/p2.dts" "$TMP/p2.dtb" 2>"$TMP/dtc" || fail "dtc: $(cat "$TMP/dtc")"
[ -s "$TMP/dtc" ] && fail "dtc warns (PCI, GICv2): $(cat "$TMP/dtc")"
grep -qF 'interrupt-map-mask' "$TMP/p2.dts" || fail "GICv2: no INTx map"
grep -qE 'msi-map|its@' "$TMP/p2.dts" && fail "GICv2: an ITS or msi-map: $(cat "$TMP/p2.dts")"
conf "$TMP/pw.qvmconf" "arch arm64" "vdev virtio-entropy" "vdev testdev loc 0x3f000000"
expect_err "$TMP/pw.qvmconf" 9:18 "overlaps the pci ecam window"

# `vdev pmu`: KVM's PMUv3, its node with the overflow PPI 23 (7 + 16); on
# a GICv2 the PPI cell names the CPUs. arm64's only, and nothing to place.
conf "$TMP/m.qvmconf" "arch arm64" "vdev pmu"
"$CVISOR" --dump-dtb "$TMP/m.dtb" "@$TMP/m.qvmconf" 2>"$TMP/err" ||
	fail "--dump-dtb (pmu): $(cat "$TMP/err")"
dtc -I dtb -O dts -o "$TMP/m.dts" "$TMP/m.dtb" 2>"$TMP/dtc" || fail "dtc: $(cat "$TMP/dtc")"
[ -s "$TMP/dtc" ] && fail "dtc warns (pmu): $(cat "$TMP/dtc")"
for want in 'pmu {' 'compatible = "arm,armv8-pmuv3";' 'interrupts = <0x01 0x07 0xf04>;'; do
	grep -qF "$want" "$TMP/m.dts" || fail "the tree lacks '$want': $(cat "$TMP/m.dts")"
done
grep -q 'armv8-pmuv3' "$TMP/t.dts" && fail "a pmu node without vdev pmu"
conf "$TMP/m2.qvmconf" "arch arm64" "vdev gic version 2" "vdev pmu"
"$CVISOR" --dump-dtb "$TMP/m2.dtb" "@$TMP/m2.qvmconf" 2>"$TMP/err" ||
	fail "--dump-dtb (pmu, GICv2): $(cat "$TMP/err")"
dtc -I dtb -O dts -o "$TMP/m2.dts" "$TMP/m2.dtb" 2>/dev/null
grep -qF 'interrupts = <0x01 0x07 0x304>;' "$TMP/m2.dts" || fail "GICv2 pmu: $(grep -A3 'pmu {' "$TMP/m2.dts")"
printf 'ram 64m\nload %s\nvdev pmu\n' "$PWD/$GUEST" >"$TMP/m3.qvmconf"
expect_err "$TMP/m3.qvmconf" 3:6 "vdev pmu is arm64's performance monitor unit"
conf "$TMP/m4.qvmconf" "arch arm64" "vdev pmu loc 0x1c000000"
expect_err "$TMP/m4.qvmconf" 8:14 "vdev pmu is in the vCPUs: it takes no 'loc'"

# An x86 config has no device tree to dump.
"$CVISOR" --dump-dtb "$TMP/x.dtb" ram 64m load "$PWD/$GUEST" 2>"$TMP/err" &&
	fail "--dump-dtb of an x86 config succeeded"
grep -q 'not an arm64 config' "$TMP/err" || fail "--dump-dtb x86: $(cat "$TMP/err")"
echo "arm64 check: rules, errors at file:line:col, the device tree through dtc (with PCI and the ITS)"
