#!/usr/bin/env bash
# bench/pipeline_bubble: the pipeline bubble measured from llmc's Chrome
# traces against the schedule formula (p-1)/m (Narayanan et al. 2021): the
# bench/train_cpu model (d 512, 8 layers) on pp=2 stages, one rank per core,
# 1F1B and GPipe with m = 2, 4 and 8 microbatches of 1 sequence of 256, and
# interleaved 1F1B with v = 2 model chunks per rank against (p-1)/(v·m).
# Per step, the bubble of a rank is the time inside the step's window (the
# first forward to the last backward, over all ranks) that the rank spends
# outside its forward and backward programs, over the time inside them;
# steps 1-3 of each run are averaged (step 0 warms up).
# The stages are balanced by llmc's cost model, not exactly: the measured
# bubble also holds that imbalance, and the p2p copies.
# It also checks the cost model on pipelines: `llmc calibrate` (one thread,
# as each rank runs) measures this machine, and `llmc explain --cluster`
# predicts each plan's step time (the chunks' programs costed kernel by
# kernel, the schedules simulated against each other), against the median
# measured step (steps 1-3).
set -euo pipefail
source "$(dirname "$0")/../common.sh"
use_mpi_ranks
p=2

make_tokens 400000
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$llmc" calibrate -o "$work/cpu.json"
/usr/bin/python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['devices_per_node']=$p; json.dump(c, open(sys.argv[1], 'w'))" "$work/cpu.json"
for schedule in 1f1b gpipe interleaved; do
  for m in 2 4 8; do
    name=$schedule.m$m
    flags=(--schedule "$schedule")
    if [ "$schedule" = interleaved ]; then flags+=(--virtual-stages 2); fi
    "$llmc" compile "$here/../train_cpu/config.json" --mode train \
      --micro-batch 1 --microbatches "$m" --seq 256 --mesh "pp=$p" \
      "${flags[@]}" -o "$work/$name.plan"
    "$llmc" explain "$work/$name.plan" --cluster "$work/cpu.json" \
      | grep '^predicted step time' > "$work/$name.predicted"
    mpirun --oversubscribe -np "$p" "$llmc" train "$work/$name.plan" \
      --data "$work/train.bin" --steps 4 --trace "$work/$name.json" \
      --trace-steps 4 --progress never --log "$work/$name.jsonl"
  done
done

/usr/bin/python3 - "$work" "$p" <<'PY'
import collections, glob, json, re, sys
work, p = sys.argv[1], int(sys.argv[2])
print("%-11s %3s %10s %12s %8s %11s %11s %6s" % (
    "", "m", "bubble", "(p-1)/(v*m)", "ratio", "step ms", "predicted",
    "ratio"))
for schedule in ("1f1b", "gpipe", "interleaved"):
    for m in (2, 4, 8):
        spans = collections.defaultdict(list)  # step -> (rank, start, end)
        for path in glob.glob("%s/%s.m%d.rank*.json" % (work, schedule, m)):
            for e in json.load(open(path))["traceEvents"]:
                if e.get("cat") == "microbatch":
                    spans[e["args"]["step"]].append(
                        (e["pid"], e["ts"], e["ts"] + e["dur"]))
        bubbles = []
        for step in sorted(spans)[1:]:
            window = (max(s[2] for s in spans[step]) -
                      min(s[1] for s in spans[step]))
            for rank in range(p):
                busy = sum(e - s for r, s, e in spans[step] if r == rank)
                bubbles.append((window - busy) / busy)
        measured = sum(bubbles) / len(bubbles)
        v = 2 if schedule == "interleaved" else 1
        formula = (p - 1) / (v * m)
        name = "%s/%s.m%d" % (work, schedule, m)
        steps = [json.loads(l) for l in open(name + ".jsonl")][1:]
        seconds = sorted(256 * m / s["tokens_per_s"] for s in steps)
        step = 1e3 * seconds[len(seconds) // 2]
        predicted = float(re.search(r": ([0-9.]+) ms",
                                    open(name + ".predicted").read()).group(1))
        print("%-11s %3d %10.3f %12.3f %8.2f %11.1f %11.1f %6.2f" % (
            schedule, m, measured, formula, measured / formula, step,
            predicted, predicted / step))
PY
