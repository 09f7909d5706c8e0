#!/usr/bin/env python3
"""Run cvisor with the test guest's blk-fault workload and break the disk
between its phases.

usage: blk_fault_run.py OUT ERR [ACTION...] -- CVISOR ARGS...

COM1 must be `hostdev -` (stdin and stdout). Each time the guest prints
"blk-fault: waiting for a byte on COM1", the next ACTION (a bash command)
runs, and when it succeeds one byte goes to the guest, which starts its
next phase. No sleeps: the guest waits for the byte, the host for the
line. cvisor's stdout and stderr end up in OUT and ERR. Exit status:
cvisor's, 124 if it did not finish in 240 s (a hang guard), 125 if an ACTION failed or
there were more waits than ACTIONs.
"""
import subprocess
import sys
import threading

TIMEOUT_S = 240
WAIT_LINE = "blk-fault: waiting for a byte on COM1"


def main():
    if "--" not in sys.argv or sys.argv.index("--") < 3:
        print(__doc__)
        return 2
    sep = sys.argv.index("--")
    out_path, err_path = sys.argv[1], sys.argv[2]
    actions, cmd = sys.argv[3:sep], sys.argv[sep + 1:]
    with open(err_path, "wb") as err:
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=err)
        expired = threading.Event()

        def expire():
            expired.set()
            p.kill()
        timer = threading.Timer(TIMEOUT_S, expire)
        timer.start()
        status = None
        with open(out_path, "w") as out:
            for raw in p.stdout:
                line = raw.decode(errors="replace")
                out.write(line)
                out.flush()
                if not line.startswith(WAIT_LINE):
                    continue
                if not actions:
                    out.write("blk_fault_run: more phases than actions\n")
                    status = 125
                    p.kill()
                    break
                act = actions.pop(0)
                r = subprocess.run(["bash", "-c", act], capture_output=True,
                                   text=True)
                out.write(f"blk_fault_run: `{act}` -> {r.returncode} "
                          f"{r.stdout.strip()} {r.stderr.strip()}\n")
                if r.returncode:
                    status = 125
                    p.kill()
                    break
                try:
                    p.stdin.write(b"g")
                    p.stdin.flush()
                except BrokenPipeError:
                    out.write("blk_fault_run: cvisor is gone\n")
        p.wait()
        timer.cancel()
    if expired.is_set():
        return 124
    return status if status is not None else p.returncode


if __name__ == "__main__":
    sys.exit(main())
