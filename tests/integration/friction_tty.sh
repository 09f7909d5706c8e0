# Friction item 2: on a terminal, cvisor run in the background (here by
# `timeout`, which puts its command in a process group of its own) leaves
# the terminal alone instead of being stopped by SIGTTOU/SIGTTIN for ever;
# in the foreground (`timeout --foreground`) it still switches it to raw
# mode and puts it back. Against the fake KVM, on a pty made by python3.
. "$(dirname "$0")/lib.sh"
need_fake
command -v python3 >/dev/null || skip "needs python3 for a pty"
cat >"$TMP/ttyrun.py" <<'EOF_PY'
import os, pty, sys, termios, time

def stopped_in(pgrp):
    """Is a process of pgrp stopped by job control?"""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        f = st[st.rindex(")") + 2:].split()
        if int(f[2]) == pgrp and f[0] == "T":
            return True
    return False

fg = sys.argv[1] == "fg"
cmd = ["timeout"] + (["--foreground"] if fg else []) + sys.argv[2:]
pid, master = pty.fork()
if pid == 0:
    # the pty is our controlling terminal and we are its foreground job
    before = termios.tcgetattr(0)
    child = os.spawnvp(os.P_NOWAIT, cmd[0], cmd)
    pgrp = os.getpgrp() if fg else child     # plain timeout: own group
    deadline = time.monotonic() + 60          # a hang guard only
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            rc = os.waitstatus_to_exitcode(status)
            break
        if not fg and stopped_in(pgrp):
            os.killpg(pgrp, 9)
            os.waitpid(child, 0)
            rc = -1000
            break
        if time.monotonic() > deadline:
            rc = -2000
            break
        time.sleep(0.02)
    after = termios.tcgetattr(0)
    os.write(2, b"RC=%d RESTORED=%d\n" % (rc, before == after))
    os._exit(0)
out = b""
while True:
    try:
        b = os.read(master, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
EOF_PY
args="ram 0,0xa0000 ram 1m,63m load $GUEST vdev ser8250 hostdev >- vdev debug-exit mode plain"
for mode in bg fg; do
	# shellcheck disable=SC2086
	FAKEKVM_SCRIPT="outs 0x3f8 hello;out 0x3f8 1 10;out 0xf4 1 0" \
	FAKEKVM_LOG=$TMP/log LD_PRELOAD=$FAKEKVM ASAN_OPTIONS=verify_asan_link_order=0 \
		python3 "$TMP/ttyrun.py" $mode 30 "$CVISOR" $args >"$TMP/$mode.out" 2>&1
	grep -q "RC=-1000" "$TMP/$mode.out" && fail "$mode: cvisor was stopped by job control (SIGTTOU/SIGTTIN): $(cat "$TMP/$mode.out")"
	grep -q "RC=0 RESTORED=1" "$TMP/$mode.out" || fail "$mode: expected exit 0 and the terminal as it was: $(cat "$TMP/$mode.out")"
	grep -q hello "$TMP/$mode.out" || fail "$mode: no guest output: $(cat "$TMP/$mode.out")"
done
echo "background: runs to the end, terminal untouched; foreground: raw and restored"
