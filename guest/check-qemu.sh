#!/usr/bin/env bash
# Boot the test guest under QEMU (TCG is enough) on both entry paths and
# check every workload QEMU can exercise. Usage:
#   guest/check-qemu.sh [BUILD_DIR_OR_ELF]
# BUILD_DIR defaults to $BUILD/guest when BUILD is set, else build/guest at
# the top of the tree. Exit 0 all passed, 1 some failed, 77 no QEMU.
#
# QEMU's -kernel tries multiboot before PVH on every machine type, so the
# PVH entry is checked with testguest-pvh.elf, the same guest without the
# multiboot header; testguest.elf boots as multiboot on both machines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
qemu=${QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "SKIP: $qemu not installed"
	exit 77
fi

dir=${1:-}
if [ -z "$dir" ]; then
	if [ -n "${BUILD:-}" ]; then dir=$BUILD/guest; else dir=$here/../build/guest; fi
fi
[ -f "$dir" ] && dir=$(dirname "$dir")
if [ ! -f "$dir/testguest.elf" ] || [ ! -f "$dir/testguest-pvh.elf" ]; then
	mkdir -p "$dir"
	make -s -C "$here" BUILD="$(cd "$dir" && pwd)" >/dev/null || exit 1
fi
mb=$dir/testguest.elf
pvh=$dir/testguest-pvh.elf

pass=0 fail=0
out= rc=
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# run MACHINE IMAGE APPEND [extra qemu args...]; sets $out and $rc.
run() {
	local machine=$1 image=$2 append=$3
	shift 3
	timeout 60 "$qemu" -M "$machine" -accel tcg -nodefaults \
		-nographic -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4 \
		-kernel "$image" -append "$append" "$@" </dev/null >"$tmp" 2>&1
	rc=$?
	out=$(tr -d '\r' <"$tmp")
}

# check NAME WANT_RC PATTERN... : each pattern must match a line (grep -E).
check() {
	local name=$1 want=$2 ok=1 p
	shift 2
	[ "$rc" = "$want" ] || ok=0
	for p in "$@"; do
		if [ "${p#!}" != "$p" ]; then
			grep -qaE -- "${p#!}" <<<"$out" && ok=0
		else
			grep -qaE -- "$p" <<<"$out" || ok=0
		fi
	done
	if [ $ok = 1 ]; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name (exit $rc, want $want)"
		sed 's/^/     | /' <<<"$out" | tail -15
	fi
}

greeting='^cvisor test guest: hello from ring 3$'

run microvm "$pvh" ""
check "microvm pvh hello" 1 '^testguest: booted via pvh mem=[0-9]+MiB$' \
	"$greeting" '^RESULT hello ok=1$'
run microvm "$mb" ""
check "microvm testguest.elf hello" 1 '^testguest: booted via ' "$greeting" \
	'^RESULT hello ok=1$'
run pc "$mb" ""
check "pc multiboot hello" 1 'testguest: booted via multiboot mem=[0-9]+MiB$' \
	"$greeting" '^RESULT hello ok=1$'
run pc "$pvh" "hello"
check "pc pvh hello" 1 'testguest: booted via pvh ' "$greeting"

run microvm "$pvh" "smp" -smp 2
check "microvm pvh smp 2" 1 '^RESULT smp cpus=2 checked_in=2$'
run microvm "$mb" "smp" -smp 2
check "microvm smp 2" 1 '^RESULT smp cpus=2 checked_in=2$'
run pc "$mb" "smp" -smp 2
check "pc multiboot smp 2" 1 '^RESULT smp cpus=2 checked_in=2$'
run pc "$mb" "smp"
check "pc multiboot smp 1" 1 '^RESULT smp cpus=1 checked_in=1$'
run pc "$mb" "smp cpus=3 timeout_ms=500" -smp 2
check "pc smp cpus=3 mismatch fails" 3 '^RESULT smp cpus=3 checked_in=2$'

run pc "$mb" "mmio-latency n=1000"
check "pc mmio-latency" 1 \
	'^RESULT mmio-latency n=1000 ns_per_exit=[0-9]+ cycles_per_exit=[0-9]+$'
run microvm "$pvh" "mmio-latency n=1000 tsc_khz=1000000"
check "microvm pvh mmio-latency" 1 \
	'^RESULT mmio-latency n=1000 ns_per_exit=[0-9]+ cycles_per_exit=[0-9]+$'

# A triple fault resets the machine; with -no-reboot QEMU exits 0, which a
# debug-exit can never produce (its statuses are odd).
run pc "$mb" "triple-fault"
check "pc triple-fault" 0 '^triple-fault: ' '!RESULT'
run microvm "$pvh" "triple-fault"
check "microvm pvh triple-fault" 0 '^triple-fault: ' '!RESULT'

run pc "$mb" "exit status=5"
check "pc exit status=5" 11 '^RESULT exit status=5$'
run microvm "$pvh" "exit status=0x2a"
check "microvm exit status=0x2a" 85
run microvm "$pvh" "fault"
check "microvm fault" 7 '^testguest: exception vector=14 error=0x4 '
run microvm "$pvh" "no-such-workload"
check "unknown workload fails" 3 "unknown workload 'no-such-workload'"

# Echo: microvm only; SeaBIOS on pc may eat early input bytes.
printf 'ab.' | timeout 60 "$qemu" -M microvm -accel tcg -nodefaults \
	-nographic -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4 \
	-kernel "$pvh" -append "echo" >"$tmp" 2>&1
rc=$?
out=$(tr -d '\r' <"$tmp")
check "microvm echo" 1 '^ab\.$' '^RESULT echo bytes=3$'

# The IOAPIC -> LAPIC -> ring-3-interrupted -> EOI path the pl011 test
# uses, driven by COM1's receive interrupt instead (QEMU x86 has no PL011).
printf 'x' | timeout 60 "$qemu" -M microvm -accel tcg -nodefaults \
	-nographic -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4 \
	-kernel "$pvh" -append "uart-irq" >"$tmp" 2>&1
rc=$?
out=$(tr -d '\r' <"$tmp")
check "microvm uart-irq" 1 '^RESULT uart-irq irqs=[1-9][0-9]* bytes=[1-9]'

echo "check-qemu: $pass passed, $fail failed"
[ $fail = 0 ]
