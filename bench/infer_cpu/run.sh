#!/usr/bin/env bash
# bench/infer_cpu: llmc generation against PyTorch eager generation with a
# KV cache (the same OpenMP OpenBLAS) and onnxruntime (npm onnxruntime-node
# on graphs exported from the same reference: a prefill, and a decode step
# with past keys and values), side by side, on the same model, weights and
# threads (2). As llama-bench reports them: prompt processing
# (pp128: one prefill of a 128-token prompt, tokens/s) and generation at
# batch 1 (tg128: 128 decode steps, tokens/s). MODELS lists the configs
# (default: a 134M LLaMA-style and GPT-2 124M); RUNS the runs per figure.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
runs=${RUNS:-3}
models=${MODELS:-"llama-134m gpt2-124m"}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
P=128 N=128

/usr/bin/python3 -c "import json, random; r = random.Random(1);
print(json.dumps({'prompt_ids': [r.randrange(8000) for _ in range($P)]}))" \
  > "$work/pp.jsonl"
/usr/bin/python3 -c "import json, random; r = random.Random(2);
print(json.dumps({'prompt_ids': [r.randrange(8000) for _ in range(16)]}))" \
  > "$work/tg.jsonl"

printf '%-12s %8s %8s %8s %8s %8s %8s %7s %7s %6s\n' model "llmc pp" \
  "torch pp" "ort pp" "llmc tg" "torch tg" "ort tg" "pp x" "tg x" "same"
for model in $models; do
  config="$here/$model.json"
  /usr/bin/python3 "$root/test/reference/make_init.py" --config "$config" \
    --out "$work/$model.safetensors" --seed 1 >/dev/null
  # pp: a plan whose prefill is exactly the prompt; tg: room for 16 + N.
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $P \
    -o "$work/pp.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $((16 + N)) \
    -o "$work/tg.plan"
  for i in $(seq "$runs"); do
    "$llmc" generate "$work/pp.plan" --weights "$work/$model.safetensors" \
      --prompts "$work/pp.jsonl" --max-new-tokens 1 --json >> "$work/$model.pp"
    "$llmc" generate "$work/tg.plan" --weights "$work/$model.safetensors" \
      --prompts "$work/tg.jsonl" --max-new-tokens $((N + 1)) --json \
      >> "$work/$model.tg"
  done
  /usr/bin/python3 "$here/torch_bench.py" "$config" \
    "$work/$model.safetensors" $P $N "$runs" > "$work/$model.torch"
  /usr/bin/python3 "$here/export_decode.py" "$config" \
    "$work/$model.safetensors" $P "$work/$model-onnx"
  shape=$(/usr/bin/python3 -c "import sys; sys.path.insert(0, '$root/test/reference')
import train_ref; c = train_ref.load_config('$config'); g = c['family'] == 'gpt2'
print(c['n_layer'] if g else c['num_hidden_layers'],
      c['n_head'] if g else c['num_key_value_heads'],
      c['n_embd'] // c['n_head'] if g else c['head_dim'])")
  # shellcheck disable=SC2086
  node "$here/ort_bench.mjs" "$work/$model-onnx" $P $N "$runs" 2 $shape \
    "$work/tg.jsonl" > "$work/$model.ort"
  /usr/bin/python3 - "$work/$model" "$model" $P <<'PY'
import json, statistics, sys
base, model, P = sys.argv[1], sys.argv[2], int(sys.argv[3])
pp = statistics.median(P / (json.loads(l)["ttft_ms"] / 1000)
                       for l in open(base + ".pp"))
runs = [json.loads(l) for l in open(base + ".tg")]
tg = statistics.median(r["tokens_per_s"] for r in runs)
torch = json.load(open(base + ".torch"))
ort = json.load(open(base + ".ort"))
# The greedy ids both engines chose from the same prompt: how many agree
# before the first difference (random weights leave near-ties).
ours, theirs = runs[0]["output_ids"][:len(ort["ids"])], ort["ids"]
same = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
            min(len(ours), len(theirs)))
best_pp, best_tg = max(torch["pp"], ort["pp"]), max(torch["tg"], ort["tg"])
print("%-12s %8.0f %8.0f %8.0f %8.1f %8.1f %8.1f %6.2fx %6.2fx %6d"
      % (model, pp, torch["pp"], ort["pp"], tg, torch["tg"], ort["tg"],
         pp / best_pp, tg / best_tg, same))
PY
done
echo "(pp: tokens/s of one $P-token prefill, as time to the first token;" \
  "tg: tokens/s of $N decode steps at batch 1; medians of $runs runs;" \
  "x: llmc over the faster peer; same: greedy ids llmc and onnxruntime" \
  "agree on before the first difference)"
