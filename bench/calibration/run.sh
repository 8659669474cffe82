#!/usr/bin/env bash
# bench/calibration: does a calibrated cluster spec predict this machine?
# `llmc calibrate` measures sgemm by shape, memory bandwidth, the runtime's
# other kernels (in the train steps of two small probe models, d 256, 2
# layers) and the MPI link; then, for three models the probes are not, the
# step time `llmc explain --cluster` predicts from each compiled plan is
# compared with the median step time `llmc train` measures (steps 2-6).
# PRECISION=bf16-mixed compiles bf16-mixed plans (their GEMMs costed on the
# bf16 curve `llmc calibrate` fits apart). Goal: within 20%.
set -euo pipefail
source "$(dirname "$0")/../common.sh"

"$llmc" calibrate -o "$work/spec.json" --name this-machine
make_tokens 400000
models=(
  "$root/examples/configs/gpt2-tiny.json 8 128"
  "$here/../train_cpu/config.json 4 256"
  "$root/examples/configs/gpt2-small.json 2 128"
)
for model in "${models[@]}"; do
  set -- $model
  name=$(basename "$(dirname "$1")")/$(basename "$1")
  "$llmc" compile "$1" --mode train --micro-batch "$2" --seq "$3" \
    --precision "${PRECISION:-fp32}" -o "$work/m.plan"
  "$llmc" explain "$work/m.plan" --cluster "$work/spec.json" > "$work/explain.txt"
  "$llmc" train "$work/m.plan" --data "$work/train.bin" --steps 6 \
    --log "$work/log.jsonl" --progress never
  /usr/bin/python3 - "$work" "$name" "$2" "$3" <<'PY'
import json, re, sys
work, name, b, s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
predicted = float(re.search(r"predicted step time on \S+: ([0-9.]+) ms",
                            open(work + "/explain.txt").read()).group(1))
steps = [json.loads(l) for l in open(work + "/log.jsonl")][1:]
measured = sorted(1e3 * b * s / r["tokens_per_s"] for r in steps)[len(steps) // 2]
print("%-24s b=%d s=%-4d predicted %8.1f ms, measured %8.1f ms, ratio %.3f"
      % (name, b, s, predicted, measured, predicted / measured))
PY
done
