#!/usr/bin/env bash
# The main job: installs what is missing, builds, then trains the small GPT-2
# (examples/configs/gpt2-tiny.json) on the King James Bible (Debian's
# bible-kjv), tokenised with a sentencepiece BPE of 8192, across 4 ranks
# (dp2 x tp2 with sequence parallelism, under mpirun), with a progress bar,
# saves checkpoint folders (full Hugging Face layout, loadable on any mesh),
# and generates a few lines from it with an inference plan; SERVE=1 then
# serves it (a web page and OpenAI's API on http://127.0.0.1:8000).
# Work files go to run/ (or $LLMC_RUN_DIR). STEPS, MICRO_BATCH (per
# data-parallel rank and microbatch), SEQ, DP, TP, SP (1: sequence parallel),
# PP (pipeline stages, 1F1B) and MICROBATCHES override the defaults; DP=1
# TP=1 trains on one process without MPI, and e.g. PP=2 DP=2 TP=1
# MICRO_BATCH=2 MICROBATCHES=2 on a pipeline of 2 stages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LLMC_BUILD_DIR:-$root/build}
work=${LLMC_RUN_DIR:-$root/run}
steps=${STEPS:-300}
micro_batch=${MICRO_BATCH:-4}
seq=${SEQ:-128}
dp=${DP:-2}
tp=${TP:-2}
sp=${SP:-1}
pp=${PP:-1}
microbatches=${MICROBATCHES:-1}

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

mesh=(--mesh "pp=$pp,dp=$dp,tp=$tp" --microbatches "$microbatches")
if [ "$sp" = 1 ] && [ "$tp" -gt 1 ]; then mesh+=(--sequence-parallel); fi
"$llmc" compile "$root/examples/configs/gpt2-tiny.json" --mode train \
  --micro-batch "$micro_batch" --seq "$seq" "${mesh[@]}" \
  -o "$work/gpt2-tiny.plan"
"$llmc" explain "$work/gpt2-tiny.plan" | sed -n '/^collectives/,/total:/p'

launch=()
ranks=$((pp * dp * tp))
if [ "$ranks" -gt 1 ]; then
  # One OpenMP/BLAS thread per rank: the ranks share this machine's cores.
  if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  launch=(mpirun --oversubscribe -np "$ranks" -x OMP_NUM_THREADS=1
          -x OPENBLAS_NUM_THREADS=1)
fi
progress=never
if [ -t 2 ]; then progress=always; fi
"${launch[@]}" "$llmc" train "$work/gpt2-tiny.plan" --data "$work/train.bin" \
  --steps "$steps" --lr 1e-3 --min-lr 1e-4 --warmup-steps 30 \
  --data-order shuffled --log "$work/train.jsonl" --progress "$progress" \
  --val-data "$work/val.bin" --eval-every 100 --eval-batches 8 \
  --save "$work/gpt2-tiny" --save-every 100 --keep-last 2 \
  --tokenizer "$work/tok.model"

/usr/bin/python3 - "$work/train.jsonl" "$work/gpt2-tiny" \
  "$ranks (pp=$pp, dp=$dp, tp=$tp, sp=$sp)" <<'PY'
import json, sys
steps = [json.loads(line) for line in open(sys.argv[1])]
first = sum(s["loss"] for s in steps[:10]) / min(10, len(steps))
last = sum(s["loss"] for s in steps[-10:]) / min(10, len(steps))
tps = sorted(s["tokens_per_s"] for s in steps)[len(steps) // 2]
print("trained %d steps on %s ranks: mean loss of the first 10 steps %.3f, of the last 10 "
      "%.3f; median %.0f tokens/s; checkpoints in %s"
      % (len(steps), sys.argv[3], first, last, tps, sys.argv[2]))
PY

# Generation from the model just trained: an inference plan (prefill and
# decode over a paged KV cache), then a few lines from prompts of the
# corpus, sampled.
"$llmc" compile "$root/examples/configs/gpt2-tiny.json" --mode infer \
  --max-batch 4 --max-seq 128 -o "$work/gpt2-tiny.infer.plan"
printf '%s\n' '{"prompt": "In the beginning"}' \
  '{"prompt": "And the LORD said unto Moses,"}' \
  '{"prompt": "Blessed are the"}' > "$work/prompts.jsonl"
echo "generating from $work/gpt2-tiny (its latest step):"
"$llmc" generate "$work/gpt2-tiny.infer.plan" \
  --weights "$work/gpt2-tiny" \
  --prompts "$work/prompts.jsonl" --max-new-tokens 40 --temperature 0.8 \
  --top-p 0.95 --seed 1 | while IFS= read -r line; do echo "  $line"; done
echo "again, by hand: $llmc generate $work/gpt2-tiny.infer.plan --weights" \
  "$work/gpt2-tiny --prompt 'TEXT'"
serve=("$llmc" serve "$work/gpt2-tiny.infer.plan" --weights "$work/gpt2-tiny")
if [ "${SERVE:-0}" = 1 ]; then
  echo "serving: open http://127.0.0.1:8000/ (a page with scenarios), or use" \
    "OpenAI's API at http://127.0.0.1:8000/v1; Ctrl-C stops it"
  exec "${serve[@]}"
fi
echo "or serve it (a web page on http://127.0.0.1:8000/, OpenAI's API under" \
  "/v1): ${serve[*]}   (SERVE=1 scripts/run.sh does this)"
