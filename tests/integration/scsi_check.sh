# `cvisor check` on lsi53c895a configs: two disks on one target id, an
# MMIO loc, target 7 (the controller's own ID) are refused with exit 65 and
# file:line:col on the culprit; examples/scsi.qvmconf passes.
. "$(dirname "$0")/lib.sh"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
truncate -s 1M "$TMP/d.img"
: >"$TMP/g.elf"

# check_bad LINE:COL MESSAGE CONFIG-BODY
check_bad() {
	local at=$1 msg=$2 body=$3
	printf 'ram 1m\nload %s\n%s\n' "$TMP/g.elf" "$body" >"$TMP/c.qvmconf"
	"$CVISOR" check "@$TMP/c.qvmconf" >"$TMP/out" 2>"$TMP/err"
	st=$?
	[ $st -eq 65 ] || fail "exit $st, want 65, for: $body"
	grep -qF "$TMP/c.qvmconf:$at: vdev lsi53c895a: $msg" "$TMP/err" ||
		fail "want $at: $msg; got: $(cat "$TMP/err")"
}

d=$TMP/d.img
check_bad "4:$((12 + ${#d}))" "two disks with the same target id (and lun)" \
	"vdev lsi53c895a hostdev $d target 1
  hostdev $d target 1"
check_bad "3:21" "a PCI device: it takes \`loc pci:0:D.F\` (or no loc), not a memory or I/O address" \
	"vdev lsi53c895a loc 0xd0000000 hostdev $d"
check_bad "3:$((25 + ${#d} + 1))" "target 7 is the controller's own SCSI ID" \
	"vdev lsi53c895a hostdev $d target 7"

"$CVISOR" check @examples/scsi.qvmconf >"$TMP/out" 2>"$TMP/err" ||
	fail "examples/scsi.qvmconf: $(cat "$TMP/err")"
