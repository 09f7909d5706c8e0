# The jail: as root, --chroot and --user put the VMM in new mount, PID,
# IPC and UTS namespaces, with the prepared directory as its root, the
# given ids, lower rlimits and its seccomp filters, and the VM runs and
# stops as usual. Without root the same command runs and says what it
# could not do.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, pivot_root, setuid)"

# LeakSanitizer reads /proc/self/task at exit, and the jail has no /proc.
grep -q __asan_init "$CVISOR" && export ASAN_OPTIONS=detect_leaks=0

jail=$TMP/jail
mkdir -p "$jail" && touch "$jail/marker-$$"
rm -f "$TMP/out"     # the boot line below must be this run's
# shellcheck disable=SC2046
timeout 60 "$CVISOR" --user 65534:65534 --chroot "$jail" $(base_args) \
	cmdline "echo timeout_ms=600000" >"$TMP/out" 2>"$TMP/err" < <(sleep 120) &
pid=$!
until grep -q testguest "$TMP/out" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || fail "cvisor ended before the guest booted: $(tail -5 "$TMP/err")"
	sleep 0.1
done
# timeout -> supervisor (root, outside) -> the VMM (PID 1 inside)
sup=$(pgrep -P $pid -x cvisor) || fail "no supervisor process"
vmm=$(pgrep -P "$sup" -x cvisor) || fail "no VMM under the supervisor"
check() {
	grep -qE "$2" "/proc/$vmm/$1" || { kill $pid; fail "/proc/VMM/$1 lacks /$2/: $(cat "/proc/$vmm/$1")"; }
}
check status '^Uid:\s+65534\s+65534\s+65534\s+65534$'
check status '^Gid:\s+65534\s+65534\s+65534\s+65534$'
check status '^Groups:\s*$'
check status "^NSpid:\s+$vmm\s+1$"
check status '^Seccomp:\s+2$'
check limits '^Max open files\s+4096\s+4096'
check limits '^Max core file size\s+0\s+0'
for ns in mnt pid ipc uts; do
	[ "$(readlink "/proc/$vmm/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] ||
		{ kill $pid; fail "the VMM shares our $ns namespace"; }
done
[ -e "/proc/$vmm/root/marker-$$" ] || { kill $pid; fail "the VMM's root is not $jail"; }
grep -q '^Uid:\s*0\s' "/proc/$sup/status" || { kill $pid; fail "supervisor is not root"; }
# SIGTERM to the supervisor reaches the VMM: 3, as without a jail
kill -TERM $pid
wait $pid
STATUS=$?
expect_status 3

# A guest's own exit status comes out through the supervisor.
# shellcheck disable=SC2046
timeout 60 "$CVISOR" --user 65534:65534 --chroot "$jail" $(base_args) \
	cmdline "exit status=5" </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 5
expect_out '^testguest: booted'

# The threaded block engine's workers exist when the user is dropped, and
# glibc makes each of them call setresuid too: their filter allows it.
truncate -s 16M "$TMP/disk.img"
# shellcheck disable=SC2046
CVISOR_BLOCK_ENGINE=sync timeout 60 "$CVISOR" --user 65534:65534 --chroot "$jail" \
	$(base_args) vdev virtio-blk hostdev "$TMP/disk.img" \
	cmdline "blk-verify transport=pci" </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out '^RESULT blk-verify .*flush=1 ok=1$'

# A directory that is not there is a fatal error before the guest starts.
# shellcheck disable=SC2046
timeout 60 "$CVISOR" --chroot "$TMP/nonexistent" $(base_args) cmdline hello \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 64
grep -q "jail: cannot make .*nonexistent the root" "$TMP/err" || fail "no jail error: $(cat "$TMP/err")"

# From inside a chroot (as scripts/nested-kvm.sh runs the tests), where
# "/" is no mount point: --chroot falls back to chroot(2), and the VM runs.
if command -v unshare >/dev/null; then
	fake=$TMP/fakeroot
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -c '
		set -e
		for d in usr lib lib64 bin sbin etc dev proc "$2" "$3"; do
			[ -e "/$d" ] || continue
			mkdir -p "$1/$d" && mount --rbind "/$d" "$1/$d"
		done
		cd "$2"
		exec chroot "$1" sh -c "cd \"$2\" && exec \"\$@\"" sh "$4" --user 65534:65534 \
			--chroot "$5" ram 0,0xa0000 ram 1m,63m load "$6" vdev ser8250 \
			hostdev ">-" vdev debug-exit mode plain cmdline "exit status=6"
	' sh "$fake" "$(pwd)" "$TMP" "$CVISOR" "$jail" "$GUEST" \
		</dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	expect_status 6
	grep -q 'jail: / is not a mount point' "$TMP/err" ||
		fail "no chroot fallback message: $(cat "$TMP/err")"
fi

# Without root (nobody, against the fake /dev/kvm, which nobody may open):
# the VM runs, and cvisor says what it did not do.
[ -f "$FAKEKVM" ] || fail "$FAKEKVM not built"
command -v setpriv >/dev/null || skip "needs setpriv for the non-root case"
# nobody must be able to reach what it runs: the tree may be in a private
# directory (a CI clone in a mktemp -d), so copies go to a public one
pub=$(mktemp -d) && chmod 755 "$pub" || fail "mktemp"
trap 'rm -rf "$TMP" "$pub"' EXIT
cp "$CVISOR" "$FAKEKVM" "$GUEST" "$pub/" && mkdir "$pub/jail" || fail "copy to $pub"
GUEST=$pub/$(basename "$GUEST")
# shellcheck disable=SC2046
timeout 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
	env FAKEKVM_SCRIPT="out 0xf4 1 0" LD_PRELOAD="$pub/$(basename "$FAKEKVM")" \
	ASAN_OPTIONS=verify_asan_link_order=0 "$pub/$(basename "$CVISOR")" --user 1000:1000 --chroot "$pub/jail" $(base_args) cmdline hello \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
grep -q 'jail: not running as root: no mount/PID/IPC/UTS namespaces, no rlimits, no pivot_root, no change of user' "$TMP/err" ||
	fail "no 'not root' warning: $(cat "$TMP/err")"
exit 0
