#!/usr/bin/env bash
# Install the Debian 12 packages a step needs, only those missing.
#   scripts/deps.sh build|test|bench
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu
build_pkgs="gcc make libc6-dev binutils libcmocka-dev pkg-config liburing-dev libseccomp-dev libslirp-dev libjson-c-dev libfdt-dev"
# make ARCH=arm64 (a static cross build) and its emulated arm64 rig
# (scripts/nested-arm64.sh); the :arm64 ones come through multiarch
# (not libfdt-dev:arm64, which would replace the native one: the Makefile
# unpacks its libfdt.a instead).
arm64_pkgs="gcc-aarch64-linux-gnu qemu-system-arm device-tree-compiler liburing-dev:arm64 libseccomp-dev:arm64 libjson-c-dev:arm64"
# seabios, grub-pc-bin: firmware boot from a GRUB disk (seabios_*.sh)
test_pkgs="$build_pkgs qemu-system-x86 valgrind acpica-tools clang libclang-rt-14-dev iproute2 ethtool genisoimage seabios grub-pc-bin $arm64_pkgs"
bench_pkgs="$build_pkgs qemu-system-x86 fio"
case "${1:-build}" in
build) want=$build_pkgs ;;
test)  want=$test_pkgs ;;
bench) want=$bench_pkgs ;;
*) echo "usage: $0 build|test|bench" >&2; exit 64 ;;
esac

missing=""
native=$(dpkg --print-architecture)
for p in $want; do
	# One line per installed architecture (multiarch): a name without
	# :ARCH means the native one (or all).
	case $p in *:*) a=${p#*:} ;; *) a=$native ;; esac
	st=$(dpkg-query -W -f='${Architecture} ${db:Status-Status}\n' "$p" 2>/dev/null |
		grep -E "^($a|all) installed$" || true)
	[ -n "$st" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "cvisor needs these Debian packages:$missing" >&2
	echo "run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
case $missing in *:arm64*)
	dpkg --print-foreign-architectures | grep -qx arm64 ||
		{ dpkg --add-architecture arm64 && apt-get update -qq; } ;;
esac
# A fresh machine has no package lists yet; refresh when install fails.
$cmd >/dev/null 2>&1 || { apt-get update -qq && $cmd -qq >/dev/null; }
