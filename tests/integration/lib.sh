# Helpers for integration tests. Exit 77 = skipped (reason on the last line).
BUILD=${BUILD:-build}
CVISOR=$BUILD/cvisor
GUEST=$BUILD/guest/testguest.elf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

skip() { echo "$*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

# Every test's `timeout` runs in the foreground. Without --foreground, GNU
# timeout passes a signal it gets on to its command (kill -TERM $pid,
# where $pid is the timeout) and then sends the command a SIGCONT. A
# SIGCONT that comes while LeakSanitizer's exit-time tracer attaches to
# cvisor's main thread throws away the SIGSTOP of PTRACE_ATTACH; the
# tracer then waits for a stop that never comes, and the sanitizer pass
# hung 300 s (scsi_lock, fake_stop) whenever a loaded host delayed the
# SIGCONT that far. An alias, not a function: `timeout ... &` must stay
# the timeout process itself, which the tests signal through $!.
# harness_signals.sh checks that no SIGCONT is sent. A test whose command
# starts processes of its own and is never signalled by the test says
# `command timeout`, so that an expiry stops the whole process group.
shopt -s expand_aliases
alias timeout='timeout --foreground'

need_kvm() {
	[ -e /dev/kvm ] || skip "needs /dev/kvm (not present on this machine)"
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "needs read/write access to /dev/kvm"
}

need_guest() {
	[ -x "$CVISOR" ] || fail "$CVISOR not built"
	[ -f "$GUEST" ] || fail "$GUEST not built"
}

# The common machine for the test guest: 64 MiB, COM1 on stdout, plain exit.
base_args() {
	echo "ram 0,0xa0000 ram 1m,63m load $GUEST vdev ser8250 hostdev >- vdev debug-exit mode plain"
}

# run_guest CMDLINE [extra tokens...]: runs cvisor, output in $TMP/out and
# $TMP/err, status in $STATUS. A 60 s limit turns a hang into a failure.
run_guest() {
	local cmdline=$1; shift
	# shellcheck disable=SC2046
	timeout 60 "$CVISOR" $(base_args) cmdline "$cmdline" "$@" \
		</dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	[ "$STATUS" -eq 124 ] && fail "cvisor did not finish in 60 s: $(tail -5 "$TMP/err")"
	return 0
}

expect_status() {
	[ "$STATUS" -eq "$1" ] || fail "exit status $STATUS, expected $1; stderr: $(tail -20 "$TMP/err"); stdout: $(tail -20 "$TMP/out")"
}

expect_out() {
	grep -qE "$1" "$TMP/out" || fail "stdout lacks /$1/: $(tail -20 "$TMP/out")"
}

# --- fake KVM (tests/fakekvm): no guest code runs, exits are scripted ----
FAKEKVM=$BUILD/tests/fakekvm.so

need_fake() {
	[ -x "$CVISOR" ] || fail "$CVISOR not built"
	[ -f "$FAKEKVM" ] || fail "$FAKEKVM not built"
	[ -f "$GUEST" ] || fail "$GUEST not built"
}

# run_fake SCRIPT TOKENS...: cvisor against the fake /dev/kvm. Output in
# $TMP/out, $TMP/err, the fake's record in $TMP/log, status in $STATUS.
run_fake() {
	local script=$1; shift
	rm -f "$TMP/log"
	FAKEKVM_SCRIPT=$script FAKEKVM_LOG=$TMP/log LD_PRELOAD=$FAKEKVM \
	ASAN_OPTIONS=verify_asan_link_order=0 \
		timeout 30 "$CVISOR" "$@" <"${STDIN:-/dev/null}" >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	[ "$STATUS" -eq 124 ] && fail "cvisor hung (30 s): $(tail -5 "$TMP/err")"
	return 0
}

expect_log() {
	grep -qE "$1" "$TMP/log" || fail "fake KVM log lacks /$1/: $(cat "$TMP/log")"
}

# --- the control socket's tests (ctl*.sh, trace.sh) ---
# ctl_sockdir: SOCKDIR and SOCK=$SOCKDIR/api.sock on a local file system
# (a UNIX socket cannot live on 9p, the nested machine's /tmp; /run is a
# tmpfs). The caller removes SOCKDIR.
ctl_sockdir() {
	SOCKDIR=$(mktemp -d /run/cvisor-ctl.XXXXXX 2>/dev/null || mktemp -d)
	SOCK=$SOCKDIR/api.sock
}

# CTL ARGS...: cvisor ctl with a hang guard (a pause that never completes
# fails the test instead of hanging it).
CTL() { timeout 60 "$CVISOR" ctl "$@"; }

# wait_for CMD...: until CMD succeeds; cvisor ($pid) dying ends the wait
# with its last messages ($TMP/err). The limit is a hang guard only.
wait_for() {
	local i
	for i in $(seq 600); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || fail "cvisor ended: $(tail -5 "$TMP/err")"
		sleep 0.1
	done
	fail "timed out waiting for: $*"
}
