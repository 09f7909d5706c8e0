# Shared by the bench scripts: timing through build/bench/runner, medians.
BUILD=${BUILD:-build}
GUEST=${GUEST:-$BUILD/guest/testguest.elf}
RUNNER=$BUILD/bench/runner

# NESTED=1 runs the whole benchmark inside scripts/nested-kvm.sh, with
# or without a /dev/kvm here: every peer then runs on the same emulated
# machine, so the ratios mean something and the absolute numbers do not.
need_kvm() {
	if [ "${NESTED:-0}" = 1 ] && [ -z "${NESTED_KVM:-}" ]; then
		exec scripts/nested-kvm.sh -t 3000 bash "$0" "$@"
	fi
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		[ -n "${NESTED_KVM:-}" ] &&
			echo "NOTE: nested machine (QEMU TCG + emulated SVM): compare ratios, not absolute numbers"
		return 0
	fi
	echo "SKIP: /dev/kvm is missing or not accessible; benchmarks need KVM (NESTED=1: run them in scripts/nested-kvm.sh)"
	exit 77
}

# median of column $1 from stdin
median() {
	awk -v c="$1" '{ print $c }' | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) { print "nan"; exit }
			print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.2f", a / b }'; }
