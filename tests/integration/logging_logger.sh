# QNX's logging statements with their QNX meaning, and --log: `logger
# FILTERS DEST` selects the levels shown (not a threshold) and sends them
# to stderr or the system log (slog); -v/-q on the command line win; a
# vdev's `log FILTERS DEST` sets its own messages' levels; --log FILE
# appends timestamped lines. Against the fake KVM.
. "$(dirname "$0")/lib.sh"
need_fake
g="ram 0,0xa0000 ram 1m,63m load $GUEST vdev pl011 loc 0xfe001000 intr ioapic:5"
# an unclaimed MMIO read (a warning) and a write to an unknown pl011
# register (the pl011's own warning)
s="mmior 0xd0000000 4;mmiow 0xfe001100 4 1;poweroff"

# shellcheck disable=SC2086
run_fake "$s" $g
expect_status 0
grep -q "warning: unclaimed mmio read" "$TMP/err" || fail "default: no warning: $(cat "$TMP/err")"
grep -q "warning: pl011: write to unknown register" "$TMP/err" || fail "default: no pl011 warning: $(cat "$TMP/err")"

# logger error: warnings are not shown
# shellcheck disable=SC2086
run_fake "$s" $g logger fatal,error stderr
expect_status 0
grep -q "warning" "$TMP/err" && fail "logger error: a warning was shown: $(cat "$TMP/err")"
# ...unless the command line says otherwise
# shellcheck disable=SC2086
run_fake "$s" -v $g logger error stderr
grep -q "warning: unclaimed mmio read" "$TMP/err" || fail "-v did not win over logger: $(cat "$TMP/err")"

# vdev log: the pl011 shows errors only, the rest as before
# shellcheck disable=SC2086
run_fake "$s" $g log error stderr
expect_status 0
grep -q "pl011:" "$TMP/err" && fail "vdev log error: the pl011's warning was shown: $(cat "$TMP/err")"
grep -q "warning: unclaimed mmio read" "$TMP/err" || fail "vdev log hid another device's warning: $(cat "$TMP/err")"

# --log FILE: appended, one timestamp (seconds since start) per line
echo "first line" >"$TMP/log.txt"
# shellcheck disable=SC2086
run_fake "$s" --log "$TMP/log.txt" $g
expect_status 0
[ "$(head -1 "$TMP/log.txt")" = "first line" ] || fail "--log truncated the file"
grep -Eq "^cvisor: [0-9]+\.[0-9]{6} warning: unclaimed mmio read" "$TMP/log.txt" || fail "--log: $(cat "$TMP/log.txt")"
grep -q "unclaimed" "$TMP/err" && fail "--log: the message also went to stderr"

# logger ... slog: the system log (a datagram socket of our own here)
command -v python3 >/dev/null || skip "needs python3 for the syslog socket (the rest passed)"
cat >"$TMP/slog.py" <<'EOF_PY'
import os, socket, subprocess, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(60)          # a hang guard only
env = dict(os.environ, CVISOR_SYSLOG_SOCKET=path)
p = subprocess.Popen(sys.argv[2:], env=env, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = p.communicate()[1]
sys.stderr.buffer.write(err)
got = []
s.setblocking(False)
try:
    while True:
        got.append(s.recv(4096).decode())
except BlockingIOError:
    pass
print("\n".join(got))
sys.exit(p.returncode)
EOF_PY
# shellcheck disable=SC2086
FAKEKVM_SCRIPT=$s FAKEKVM_LOG=$TMP/fk LD_PRELOAD=$FAKEKVM ASAN_OPTIONS=verify_asan_link_order=0 \
	python3 "$TMP/slog.py" "$TMP/slog.sock" "$CVISOR" $g logger error,warning slog \
	>"$TMP/slog.out" 2>"$TMP/err" || fail "slog run: status $?: $(cat "$TMP/err")"
grep -Eq "^<12>cvisor\[[0-9]+\]: warning: unclaimed mmio read" "$TMP/slog.out" || fail "slog: $(cat "$TMP/slog.out")"
grep -q "unclaimed" "$TMP/err" && fail "slog: the message also went to stderr"
echo "logger filters and slog, -v wins, vdev log, --log FILE"
