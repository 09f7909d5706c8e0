#!/usr/bin/env python3
"""SIGKILL cvisor while the test guest's blk-crash workload writes and
flushes, then check the image (crash_check.py states the claim).

usage: crash_run.py CVISOR GUEST WORKDIR ITERATIONS SEED [KMAX]

Iteration n derives from SEED and n: the guest's pattern seed and k, the
FLUSHED line (1..KMAX) after which cvisor is killed. The kill is not
timed: the host reads the console (COM1 on cvisor's stdout, a pipe) and
sends SIGKILL the moment it has read the k-th FLUSHED line, while the
guest keeps writing. The lines it reads after the kill (cvisor wrote them
before it died) count too; nothing the guest printed that did not reach
the pipe is relied on. CVISOR_BLOCK_ENGINE in the environment picks the
backend engine. Exit 0 if every iteration kept every promise, 1 if one
did not, 77 if cvisor could not start the disk (reason printed last).
"""
import os
import random
import signal
import subprocess
import sys
import threading

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crash_check  # noqa: E402

BLOCKS, BATCH = 64, 8
IMAGE_BYTES = 1 << 20
TIMEOUT_S = 120   # a hang guard, not a speed assumption


def run_once(cvisor, guest, image, gseed, k):
    with open(image, "wb") as f:
        f.truncate(IMAGE_BYTES)
    cmd = [cvisor, "ram", "0,0xa0000", "ram", "1m,63m", "load", guest,
           "vdev", "ser8250", "hostdev", ">-",
           "vdev", "debug-exit", "mode", "plain",
           "cmdline", f"blk-crash rounds=0 seed={gseed:#x} blocks={BLOCKS} "
                      f"batch={BATCH} timeout_ms=600000",
           "vdev", "virtio-blk", "hostdev", image]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    # A hang must not hang the test: kill at the deadline (a failure).
    timer = threading.Timer(TIMEOUT_S, p.kill)
    timer.start()
    lines, seen, killed = [], 0, False
    for raw in p.stdout:
        line = raw.decode(errors="replace")
        lines.append(line)
        if line.startswith("FLUSHED gen="):
            seen += 1
            if seen == k and not killed:
                os.kill(p.pid, signal.SIGKILL)
                killed = True
    err = p.stderr.read().decode(errors="replace")
    p.wait()
    timer.cancel()
    return p.returncode, killed, "".join(lines), err


def main():
    if len(sys.argv) not in (6, 7):
        print(__doc__)
        return 2
    cvisor, guest, work = sys.argv[1:4]
    iters, seed = int(sys.argv[4]), int(sys.argv[5], 0)
    kmax = int(sys.argv[6]) if len(sys.argv) > 6 else 40
    engine = os.environ.get("CVISOR_BLOCK_ENGINE", "default")
    image = os.path.join(work, "crash.img")
    lost = newer_total = 0
    print(f"crash_run: engine={engine} seed={seed:#x} iterations={iters} "
          f"k=1..{kmax}")
    for n in range(iters):
        rng = random.Random(seed * 100003 + n)
        gseed, k = rng.getrandbits(32), rng.randint(1, kmax)
        rc, killed, out, err = run_once(cvisor, guest, image, gseed, k)
        if not killed:
            if "io_uring unavailable" in err:
                print(f"io_uring unavailable: {err.strip().splitlines()[-1]}")
                return 77
            print(f"crash_run: iteration {n}: cvisor ended (status {rc}) "
                  f"before FLUSHED line {k}\n{out[-2000:]}\n{err[-2000:]}")
            return 1
        if rc != -signal.SIGKILL:
            print(f"crash_run: iteration {n}: status {rc}, not SIGKILL")
            return 1
        with open(os.path.join(work, "console.log"), "w") as f:
            f.write(out)
        msgs = []
        bad, flushed, newer = crash_check.check(image, out, gseed, BLOCKS,
                                                BATCH, msgs.append)
        newer_total += newer
        if bad:
            lost += 1
            print(f"crash_run: iteration {n} (guest seed={gseed:#x}, "
                  f"k={k}, flushed gen={flushed}): {bad} bad sectors")
            print("\n".join(msgs))
    print(f"crash_run: engine={engine}: {iters} kills, {lost} with lost "
          f"data; {newer_total} slots held writes newer than the last "
          f"flush seen")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
