# Friction item 11 and the log's rate limits, against the fake KVM:
# - a guest writing port 0xf4 with no debug-exit configured gets a one-time
#   warning naming the port, without -v;
# - PC port probes (info level, hidden without -v) never produce a
#   "suppressed" line; a flood of one visible kind does not silence
#   another kind, and its suppressed count is said at exit.
. "$(dirname "$0")/lib.sh"
need_fake
noexit="ram 0,0xa0000 ram 1m,63m load $GUEST vdev ser8250 hostdev >-"

# shellcheck disable=SC2086
run_fake "out 0xf4 1 7;out 0xf4 1 7;out 0xf4 4 1;poweroff" $noexit
expect_status 0
n=$(grep -c "port 0xf4" "$TMP/err")
[ "$n" -eq 1 ] || fail "expected one warning about port 0xf4, got $n: $(cat "$TMP/err")"
grep -q "no 'vdev debug-exit'" "$TMP/err" || fail "the warning does not say why: $(cat "$TMP/err")"

# 100 probes of absent ISA ports (what Linux does at boot): nothing said
probes=""
for i in $(seq 1 100); do probes="$probes;in 0x2f8 1"; done
# shellcheck disable=SC2086
run_fake "${probes#;};poweroff" $noexit
expect_status 0
[ ! -s "$TMP/err" ] || fail "hidden probes left a message: $(cat "$TMP/err")"

# 30 unclaimed reads of one kind, then one of another: the second kind
# shown, and every read of the first either shown or counted in a
# "N more like this suppressed" line (at a window's end or at exit). How
# they split depends on how many 5 s windows (LOG_KIND_WINDOW_S) the 30
# reads span, which is the machine's speed: in each window at most 10
# (LOG_KIND_BURST) are shown, so at least the first 10 are, and all 30
# are accounted for. (In one window: 10 shown, 20 suppressed.)
flood=""
for i in $(seq 1 30); do flood="$flood;mmior 0xd0000000 4"; done
# shellcheck disable=SC2086
run_fake "${flood#;};in 0x1234 1;poweroff" $noexit
expect_status 0
shown=$(grep "unclaimed mmio read" "$TMP/err" | grep -vc "more like this suppressed")
suppressed=$(sed -n 's/.* \([0-9][0-9]*\) more like this suppressed: unclaimed mmio read.*/\1/p' "$TMP/err" |
	awk '{ n += $1 } END { print n + 0 }')
[ "$shown" -ge 10 ] || fail "only $shown of the first 10 mmio reads shown: $(cat "$TMP/err")"
[ $((shown + suppressed)) -eq 30 ] ||
	fail "30 mmio reads: $shown shown + $suppressed counted as suppressed: $(cat "$TMP/err")"
echo "mmio reads: $shown shown, $suppressed suppressed"
grep -q "unclaimed port read at 0x1234" "$TMP/err" || fail "the second kind was silenced: $(cat "$TMP/err")"
echo "port 0xf4 warned once; probes silent; per-kind limits and exit summary"
