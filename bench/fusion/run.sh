#!/usr/bin/env bash
# bench/fusion: what each of the compiler's fusions is worth on one CPU
# training step. The GPT-2 model of bench/train_cpu and a LLaMA of the same
# size (d 512, 8 layers, vocab 8192), batch 8 x seq 256, fp32, 2 threads,
# compiled with --fusion all, vertical, memory and none. The variants run
# in turn, ROUNDS times, so the machine's drift falls on all of them alike;
# each run's figure is the median tokens/s of steps 2..STEPS. Prints each
# variant's arena and tokens/s, and each kind's worth: vertical on over off
# (all / memory), memory on over off (all / vertical), both (all / none).
set -euo pipefail
source "$(dirname "$0")/../common.sh"
rounds=${ROUNDS:-2} steps=${STEPS:-4}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
B=8 T=256
make_tokens 200000
variants="all vertical memory none"
for model in gpt2 llama; do
  config=$([ $model = gpt2 ] && echo "$root/bench/train_cpu/config.json" ||
    echo "$here/llama.json")
  for f in $variants; do
    "$llmc" compile "$config" --mode train --micro-batch $B --seq $T \
      --fusion $f -o "$work/$model-$f.plan" > "$work/$model-$f.compile"
  done
done
for round in $(seq "$rounds"); do
  for model in gpt2 llama; do
    for f in $variants; do
      "$llmc" train "$work/$model-$f.plan" --data "$work/train.bin" \
        --steps "$steps" --log "$work/$model-$f-$round.jsonl" >/dev/null 2>&1
    done
  done
done
/usr/bin/python3 - "$work" "$rounds" "$variants" <<'PY'
import json, re, statistics, sys
work, rounds, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
print("%-6s %-9s %10s %10s  (%d runs each, median of steps 2..)" %
      ("model", "fusion", "arena MiB", "tokens/s", rounds))
for model in ["gpt2", "llama"]:
    tps = {}
    for f in variants:
        runs = []
        for r in range(1, rounds + 1):
            steps = [json.loads(l) for l in open("%s/%s-%s-%d.jsonl" %
                                                  (work, model, f, r))]
            runs.append(statistics.median(s["tokens_per_s"] for s in steps[1:]))
        tps[f] = statistics.median(runs)
        arena = re.search(r"arena ([0-9.]+) MiB",
                          open("%s/%s-%s.compile" % (work, model, f)).read())
        print("%-6s %-9s %10s %10.0f" % (model, f, arena.group(1), tps[f]))
    print("%-6s vertical on/off %.3fx, memory on/off %.3fx, both/none %.3fx" %
          (model, tps["all"] / tps["memory"], tps["all"] / tps["vertical"],
           tps["all"] / tps["none"]))
PY
