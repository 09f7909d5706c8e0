# Shared by the bench scripts: timing through build/bench/runner, medians.
BUILD=${BUILD:-build}
GUEST=${GUEST:-$BUILD/guest/testguest.elf}
RUNNER=$BUILD/bench/runner

need_kvm() {
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "SKIP: /dev/kvm is missing or not accessible; benchmarks need KVM"
		exit 77
	fi
}

# median of column $1 from stdin
median() {
	awk -v c="$1" '{ print $c }' | sort -n |
		awk '{ v[NR] = $1 } END { if (!NR) { print "nan"; exit }
			print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "nan"; else printf "%.2f", a / b }'; }
