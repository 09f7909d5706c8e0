# The VM's teardown off the exit's critical path (issue 12, vm_reaper.c):
# cvisor exits with the guest's status while a reaper that shares its
# address space holds the KVM descriptors; the reaper dies of SIGKILL
# (PR_SET_PDEATHSIG) once cvisor is gone (or exits 0 at once if cvisor was
# gone before it asked for that signal), and the kernel destroys the VM in
# the reaper's exit. A subreaper (this test) adopts the orphan and sees it
# end that way: before the reaper there was no orphan at all. With
# CVISOR_FULL_TEARDOWN=1 the VM goes down inside cvisor: no orphan either.
# Nothing but the VM stays with the reaper: the guest's disk image (and its
# lock) is closed by the time cvisor has exited. The phase stamps
# (CVISOR_PHASES, vm_phases.h) ride along: one line per startup phase.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3"
cat >"$TMP/adopt.py" <<'PY'
import ctypes, os, signal, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0):          # PR_SET_CHILD_SUBREAPER
    print("SKIP: no PR_SET_CHILD_SUBREAPER"); sys.exit(77)
signal.alarm(60)
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
print("status", p.returncode)
# Who still has the disk image open, now that cvisor has exited: nobody
# (the reaper closed its copy, and with it the image's lock, before
# cvisor went on to exit).
disk = os.environ.get("DISK")
for d in os.listdir("/proc") if disk else []:
    try:
        for fd in os.listdir("/proc/%s/fd" % d):
            if os.readlink("/proc/%s/fd/%s" % (d, fd)) == disk:
                print("held by", d)
    except OSError:
        pass
sys.stdout.write(p.stdout.decode(errors="replace"))
sys.stderr.write(p.stderr.decode(errors="replace"))
try:
    pid, st = os.waitpid(-1, 0)
except ChildProcessError:
    print("orphan none"); sys.exit(0)
if os.WIFSIGNALED(st):
    print("orphan killed", os.WTERMSIG(st))
else:
    print("orphan exited", os.WEXITSTATUS(st))
PY
truncate -s 1M "$TMP/disk.img"
# shellcheck disable=SC2046
DISK=$TMP/disk.img CVISOR_PHASES=$TMP/phases python3 "$TMP/adopt.py" \
	"$CVISOR" $(base_args) cmdline hello vdev virtio-blk \
	hostdev "$TMP/disk.img" >"$TMP/out" 2>"$TMP/err"
STATUS=$?
[ "$STATUS" -eq 77 ] && skip "$(tail -1 "$TMP/out")"
expect_status 0
expect_out '^status 0$'
expect_out '^RESULT hello ok=1'
if grep -q '^held by' "$TMP/out"; then
	fail "the disk image still open after the exit: $(grep '^held by' "$TMP/out")"
fi
# killed: by its PR_SET_PDEATHSIG; exited 0: it found cvisor gone already
expect_out '^orphan (killed 9|exited 0)$'
phases=$(awk '$1 == "cvisor" { printf "%s,", $2 }' "$TMP/phases")
want="main,config,seccomp-compiled,kvm-vm,memory,irqchip,devices,loader,vcpus,event-thread,vcpu-threads,sandbox-main,guest-exit,main-woken,threads-joined,teardown,"
[ "$phases" = "$want" ] || fail "phase stamps: $phases, expected $want"

# shellcheck disable=SC2046
CVISOR_FULL_TEARDOWN=1 python3 "$TMP/adopt.py" "$CVISOR" $(base_args) \
	cmdline hello >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out '^status 0$'
expect_out '^orphan none$'
echo "the reaper outlived cvisor and died with it; full teardown: none"

# `memory hugepages`: the host's huge pages must be free again when cvisor
# has exited (a VM restarted at once needs them), so no reaper holds the
# guest memory. The pool is this host's: reserved here if there is none,
# and given back.
nr=/proc/sys/vm/nr_hugepages
old_nr=$(cat $nr 2>/dev/null || echo)
free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
if [ "${free:-0}" -lt 32 ] && [ -w $nr ]; then
	trap 'echo "$old_nr" >$nr; rm -rf "$TMP"' EXIT
	echo $((old_nr + 40)) >$nr
	free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
fi
[ "${free:-0}" -ge 32 ] || skip "SKIP: the reaper's rules checked, but not with memory hugepages: no 32 free huge pages, and $nr not writable"
# shellcheck disable=SC2046
python3 "$TMP/adopt.py" "$CVISOR" $(base_args) memory hugepages \
	cmdline hello >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out '^status 0$'
expect_out '^orphan none$'
after=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
[ "$after" = "$free" ] || fail "huge pages free: $free before the run, $after after cvisor exited"
echo "memory hugepages: no reaper, the $free free huge pages free again at the exit"
