#!/usr/bin/env bash
# `cvisor check` on every sample config: each tests/configs/bad/*.qvmconf
# must exit 65 with stderr exactly `PATH:LINE:COL: message`, taken from its
# first line `# expect: LINE:COL: message` ($FILE = the config's path, $DIR
# = its directory; a message starting with `$DIR/` names an included file
# instead of the config itself); each tests/configs/good/*.qvmconf must
# exit 0.
# Exit status: 0 pass, 1 fail, 77 skip (cvisor not built).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
build=${BUILD:-build}
cvisor=$build/cvisor
if [ ! -x "$cvisor" ]; then
	echo "skip: $cvisor is not built"
	exit 77
fi

fails=0 count=0
fail() {
	echo "FAIL $1"
	shift
	printf '    %s\n' "$@"
	fails=$((fails + 1))
}

for f in tests/configs/bad/*.qvmconf; do
	count=$((count + 1))
	first=$(head -n 1 "$f")
	case $first in
	"# expect: "*) ;;
	*) fail "$f" "first line is not '# expect: LINE:COL: message'"; continue ;;
	esac
	want=${first#"# expect: "}
	case $want in
	'$DIR/'*) prefix="" ;;
	*) prefix="$f:" ;;
	esac
	want=${want//\$FILE/$f}
	want=${want//\$DIR/$(dirname "$f")}
	want="$prefix$want"
	got=$("$cvisor" check "@$f" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 65 ]; then
		fail "$f" "exit status $rc, want 65" "stderr: $got"
	elif [ "$got" != "$want" ]; then
		fail "$f" "got:  $got" "want: $want"
	fi
done

for f in tests/configs/good/*.qvmconf; do
	count=$((count + 1))
	got=$("$cvisor" check "@$f" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 0 ] || fail "$f" "exit status $rc, want 0" "stderr: $got"
done

echo "config_check: $((count - fails))/$count configs as expected"
[ $fails -eq 0 ] || exit 1
exit 0
