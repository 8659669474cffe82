#!/usr/bin/env bash
# bench/infer_plan: `llmc plan --mode infer`'s predicted time to the first
# token and per output token against `llmc generate`'s measured ones, on
# this machine, with the cluster spec `llmc calibrate` measures here. For
# each model: batch 1 (one 128-token prompt, then 128 tokens) and batch 8
# (eight such requests decoding together), fp32 and int8 weights, and
# bf16-mixed (bf16 weights and GEMM math, costed on the bf16 GEMM curve
# llmc calibrate fits apart).
set -euo pipefail
source "$(dirname "$0")/../common.sh"
models=${MODELS:-"llama-134m gpt2-124m"}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
P=128 N=128
"$llmc" calibrate -o "$work/spec.json" --name this-machine --no-link >/dev/null
for b in 1 8; do
  /usr/bin/python3 -c "import json, random; r = random.Random(1)
for _ in range($b):
    print(json.dumps({'prompt_ids': [r.randrange(8000) for _ in range($P)]}))" \
    > "$work/prompts$b.jsonl"
done
printf '%-11s %5s %5s %10s %10s %6s %10s %10s %6s\n' model dtype batch \
  "ttft pred" "measured" "ratio" "tpot pred" "measured" "ratio"
for model in $models; do
  config="$root/bench/infer_cpu/$model.json"
  /usr/bin/python3 "$root/test/reference/make_init.py" --config "$config" \
    --out "$work/$model.safetensors" --seed 1 >/dev/null
  for dtype in fp32 int8 mixed; do
    flags="--weights-dtype $dtype"
    [ $dtype = mixed ] && flags="--precision bf16-mixed"
    # shellcheck disable=SC2086
    "$llmc" plan "$config" --mode infer --cluster "$work/spec.json" \
      --devices 1 --prompt-tokens $P --output-tokens $N \
      $flags --top 100 --json > "$work/$model.$dtype.json"
    for b in 1 8; do
      # shellcheck disable=SC2086
      "$llmc" compile "$config" --mode infer --max-batch $b \
        --max-seq $((P + N)) --prefill-tokens $P --prefill-rows 1 \
        $flags -o "$work/b$b.plan" >/dev/null
      "$llmc" generate "$work/b$b.plan" --weights "$work/$model.safetensors" \
        --prompts "$work/prompts$b.jsonl" --max-new-tokens $N --json \
        > "$work/$model.$dtype.$b.out"
      /usr/bin/python3 - "$work/$model.$dtype" $b "$model" $dtype <<'PY'
import json, statistics, sys
base, b, model, dtype = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
pred = next(c for c in json.load(open(base + ".json"))["candidates"]
            if c["max_batch"] == b and c["tp"] == 1)
runs = [json.loads(l) for l in open("%s.%d.out" % (base, b))]
# Requests arriving together are prefilled one a run before the batch
# decodes: the last of b sees its first token after b prefills. Then
# decode steps run all b sequences together.
ttft = max(r["ttft_ms"] for r in runs) / 1000
want_ttft = b * pred["ttft_s"]
tpot = statistics.median(1 / r["tokens_per_s"] for r in runs)
print("%-11s %5s %5d %8.1fms %8.1fms %5.2fx %8.2fms %8.2fms %5.2fx"
      % (model, dtype, b, 1e3 * want_ttft, 1e3 * ttft, want_ttft / ttft,
         1e3 * pred["tpot_s"], 1e3 * tpot, pred["tpot_s"] / tpot))
PY
    done
  done
done
echo "(ratio: predicted over measured; ttft: the last request's time to its" \
  "first token, after every request's prefill; tpot: seconds per output" \
  "token of a request while the batch decodes together, the median over" \
  "requests)"
