#!/usr/bin/env bash
# The libFuzzer targets (tests/fuzz/) for FUZZ_S seconds each (10 by
# default): `make fuzz`, which first replays every saved regression input,
# builds into $BUILD-fuzz with clang, and fails if any target crashes.
# Skips where clang or its libFuzzer runtime is missing. Targets listed in
# tests/fuzz/ci-skip (a known bug elsewhere, until it is fixed) are left
# out, each with its reason printed.
# Exit status: 0 pass, 1 fail, 77 skip.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${BUILD:-build}
cc=${FUZZ_CC:-clang}

# The targets are built with their own sanitizers into $build-fuzz and do
# not depend on the build under test: the sanitizer pass of `make check`
# (BUILD=...-san) would only run the same binaries again.
case $build in
*-san) echo "skip: fuzz targets do not depend on BUILD; they run in the pass on the normal build"
       exit 77 ;;
esac

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "skip: $cc not installed (Debian: clang, libclang-rt-14-dev; scripts/deps.sh test)"
	exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
	>"$probe/p.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" \
	>"$probe/log" 2>&1; then
	echo "skip: $cc cannot link -fsanitize=fuzzer,address,undefined (libclang-rt-14-dev missing?): $(head -1 "$probe/log")"
	exit 77
fi

targets=()
for f in tests/fuzz/fuzz_*.c; do
	t=${f#tests/fuzz/fuzz_}
	t=${t%.c}
	why=$(awk -v t="$t" '$1 == t { $1 = ""; sub(/^[ \t]+/, ""); print }' \
		tests/fuzz/ci-skip 2>/dev/null)
	if [ -n "$why" ]; then
		echo "fuzz $t: not run here (tests/fuzz/ci-skip): $why"
	else
		targets+=("$t")
	fi
done
make --no-print-directory -j2 BUILD="$build" FUZZ_CC="$cc" \
	FUZZ_S="${FUZZ_S:-10}" FUZZ_TARGETS="${targets[*]}" fuzz 2>&1 |
	grep -v '^  FUZZCC '
exit "${PIPESTATUS[0]}"
