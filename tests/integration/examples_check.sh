# Every bundled example configuration is valid.
. "$(dirname "$0")/lib.sh"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
n=0
for f in examples/*.qvmconf; do
	"$CVISOR" check "@$f" 2>"$TMP/err" || fail "$f: $(cat "$TMP/err")"
	n=$((n + 1))
done
[ $n -ge 4 ] || fail "only $n examples found"
