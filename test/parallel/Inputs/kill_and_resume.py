"""Kills a training run with SIGKILL at random moments and resumes it from
its checkpoint folder each time, then checks that every step's loss equals
the one of an uninterrupted run, bit for bit.

usage: kill_and_resume.py NP KILLS SEED RUN_DIR STRAIGHT.jsonl -- TRAIN ARGS
Runs `llmc train TRAIN ARGS --load RUN_DIR --save RUN_DIR --save-every 1`
(under mpirun -np NP when NP > 1) up to KILLS times, each killed (with
every process of its session) after a random delay drawn with SEED within
the time the rest of the run takes (timed on an uninterrupted run that
saves as often), so kills land in start-up, in steps and in checkpoint
writes; then once more to the end. The first attempt is killed
deterministically instead, halfway through writing the middle step's
checkpoint (rank 0 raises SIGKILL there: --inject-fault kill-in-save), so
at least one kill and one resume happen however the timing falls.
STRAIGHT.jsonl is the log of that uninterrupted run, which it runs first.
"""
import json
import os
import random
import subprocess
import sys
import time

np_, kills, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
run_dir, straight_log = sys.argv[4], sys.argv[5]
train = sys.argv[sys.argv.index("--") + 1:]
llmc = os.path.join(os.environ["LLMC_TOOLS_DIR"], "llmc")
launch = [llmc] if np_ == 1 else [
    "env", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "mpirun",
    "--oversubscribe", "-np", str(np_), llmc]


def start(extra):
    # Its own session, so the kill reaches mpirun and every rank it started.
    return subprocess.Popen(launch + ["train"] + train + extra,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def kill_session(sid):
    # Until none is left: mpirun may start a rank while the first kill runs.
    for _ in range(100):
        pids = [int(p) for p, s, state in (
            line.split() for line in subprocess.run(
                ["ps", "-eo", "pid=,sid=,stat="], text=True,
                capture_output=True).stdout.splitlines())
            if int(s) == sid and not state.startswith("Z")]  # not yet reaped
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    sys.exit("processes of session %d survive SIGKILL" % sid)


def losses(path):
    out = {}
    for line in open(path):
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the last line of a killed run, half written
        out[entry["step"]] = entry["loss"]
    return out


t0 = time.time()
job = start(["--log", straight_log, "--save", run_dir + ".straight",
             "--save-every", "1"])
_, err = job.communicate(timeout=300)
if job.returncode != 0:
    sys.exit("the uninterrupted run failed: " + err)
wall = time.time() - t0
straight = losses(straight_log)
# Start-up and time per step (saving included), so that each kill can be
# drawn within what is left of the run.
elapsed = [json.loads(l)["elapsed_s"] for l in open(straight_log)]
per_step = elapsed[-1] / len(elapsed)
startup = max(wall - elapsed[-1], 0.0)


def steps_left():
    try:
        name = open(os.path.join(run_dir, "latest")).read().strip()
        return len(straight) - int(name[len("step-"):])
    except OSError:
        return len(straight)


rng = random.Random(seed)
resume = ["--load", run_dir, "--save", run_dir, "--save-every", "1"]
logs, killed, during_write = [], 0, 0
for attempt in range(kills + 1):
    logs.append("%s.attempt%d.jsonl" % (run_dir, attempt))
    extra = []
    if attempt == 0:
        # However the random delays fall on a loaded machine, one kill lands
        # mid-write, after a checkpoint exists: rank 0 kills itself (SIGKILL)
        # while saving the middle step.
        extra = ["--inject-fault", "kill-in-save:%d" % (len(straight) // 2)]
    job = start(resume + ["--log", logs[-1]] + extra)
    if attempt == 0:
        job.wait(timeout=300)
        kill_session(job.pid)  # what mpirun may leave of the other ranks
        killed += 1
        during_write += any(".tmp." in n for n in os.listdir(run_dir))
        continue
    if attempt < kills and steps_left() > 0:
        try:
            job.wait(timeout=rng.uniform(0.1, 0.9) *
                     (startup + per_step * steps_left()))
        except subprocess.TimeoutExpired:
            kill_session(job.pid)
            job.wait()
            killed += 1
            during_write += any(".tmp." in n for n in os.listdir(run_dir)) \
                if os.path.isdir(run_dir) else 0
            continue
    _, err = job.communicate(timeout=300)
    if job.returncode != 0:
        sys.exit("attempt %d failed (exit %d): %s"
                 % (attempt, job.returncode, err))
    break

seen, resumed = set(), 0
for log in logs:
    if not os.path.exists(log):
        continue
    steps = losses(log)
    resumed += bool(steps) and min(steps) > 0
    for step, loss in steps.items():
        if loss != straight[step]:
            sys.exit("%s: step %d loss %r, uninterrupted %r"
                     % (log, step, loss, straight[step]))
        seen.add(step)
if not killed or not resumed:
    sys.exit("%d kills, %d runs resumed from a checkpoint: nothing was tried"
             % (killed, resumed))
if seen != set(straight):
    sys.exit("steps %s were never run" % sorted(set(straight) - seen))
manifest = json.load(open(os.path.join(
    run_dir, open(os.path.join(run_dir, "latest")).read().strip(),
    "manifest.json")))
if manifest["step"] != max(straight) + 1:
    sys.exit("latest is step %d, expected %d"
             % (manifest["step"], max(straight) + 1))
print("%d kills (%d left a checkpoint half written), %d runs resumed from a "
      "checkpoint: the losses of all %d steps equal the uninterrupted run's "
      "bit for bit" % (killed, during_write, resumed, len(straight)),
      flush=True)
