"""Kills one rank of a data-parallel run mid-training and checks the rest.

usage: kill_one_rank.py PLAN -- MPIRUN-COMMAND...
Starts the command, waits until training is under way, SIGKILLs the newest
`llmc train PLAN` process, and requires the whole job to exit non-zero
within 60 s with a message naming the lost rank.
"""
import os
import signal
import subprocess
import sys
import time

plan = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
start = time.time()
job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)


def ranks():
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        # The ranks themselves, not mpirun or env launching them.
        # llmc hands train to llmc-run in the same process (execv).
        if args[0].endswith((b"llmc", b"llmc-run")) and b"train" in args and \
                plan.encode() in args:
            pids.append(int(pid))
    return sorted(pids)


try:
    # Both ranks up (slow on a loaded machine), then a moment of training.
    victims = []
    while len(victims) < 2 and time.time() - start < 30:
        time.sleep(0.5)
        victims = ranks()
    if len(victims) < 2:
        sys.exit("expected 2 running ranks within 30 s, found %s" % victims)
    time.sleep(1)
    os.kill(victims[-1], signal.SIGKILL)
    try:
        out, _ = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        sys.exit("the surviving ranks did not exit within 60 s: a hang")
finally:
    # Never leave a run behind, whatever failed above.
    if job.poll() is None:
        job.kill()
        for pid in ranks():
            os.kill(pid, signal.SIGKILL)
elapsed = time.time() - start
print(out)
print("exit code %d after %.1f s" % (job.returncode, elapsed))
if job.returncode == 0:
    sys.exit("the job exited 0 after losing a rank")
