#!/usr/bin/env bash
# The main job: installs what is missing, builds, then trains the small GPT-2
# (examples/configs/gpt2-tiny.json) on the King James Bible (Debian's
# bible-kjv), tokenised with a sentencepiece BPE of 8192, with a progress
# bar, and saves a checkpoint. Work files go to run/ (or $LLMC_RUN_DIR).
# STEPS, MICRO_BATCH and SEQ override the defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LLMC_BUILD_DIR:-$root/build}
work=${LLMC_RUN_DIR:-$root/run}
steps=${STEPS:-300}
micro_batch=${MICRO_BATCH:-8}
seq=${SEQ:-128}

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
llmc="$build/bin/llmc"
mkdir -p "$work"

if [ ! -s "$work/train.bin" ]; then
  bible "gen1:1-rev22:21" > "$work/kjv.txt"
  "$llmc" tokenize "$work/kjv.txt" --vocab-size 8192 \
    --model-prefix "$work/tok" --train-out "$work/train.bin" \
    --val-out "$work/val.bin"
fi

"$llmc" compile "$root/examples/configs/gpt2-tiny.json" --mode train \
  --micro-batch "$micro_batch" --seq "$seq" -o "$work/gpt2-tiny.plan"
"$llmc" train "$work/gpt2-tiny.plan" --data "$work/train.bin" \
  --steps "$steps" --lr 1e-3 --min-lr 1e-4 --warmup-steps 30 \
  --data-order shuffled --log "$work/train.jsonl" \
  --save "$work/gpt2-tiny.safetensors" --save-every 100

/usr/bin/python3 - "$work/train.jsonl" "$work/gpt2-tiny.safetensors" <<'PY'
import json, sys
steps = [json.loads(line) for line in open(sys.argv[1])]
first = sum(s["loss"] for s in steps[:10]) / min(10, len(steps))
last = sum(s["loss"] for s in steps[-10:]) / min(10, len(steps))
tps = sorted(s["tokens_per_s"] for s in steps)[len(steps) // 2]
print("trained %d steps: mean loss of the first 10 steps %.3f, of the last 10 "
      "%.3f; median %.0f tokens/s; checkpoint %s"
      % (len(steps), first, last, tps, sys.argv[2]))
PY
