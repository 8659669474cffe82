#!/usr/bin/env bash
# bench/infer_cpu: llmc generation against PyTorch eager generation with a
# KV cache (the same OpenMP OpenBLAS) and onnxruntime (npm onnxruntime-node
# on graphs exported from the same reference: a prefill, and a decode step
# with past keys and values) and llama.cpp (npm node-llama-cpp's prebuilt CPU
# library on the weights written as GGUF F32; LLaMA models), side by side, on
# the same model, weights and threads (2). As llama-bench reports them: prompt processing
# (pp128: one prefill of a 128-token prompt, tokens/s; PP=512 for pp512) and generation at
# batch 1 (tg128: 128 decode steps, tokens/s). Then INT8 weights: llmc's
# --weights-dtype int8 plans against llama.cpp on the same weights as Q8_0,
# and --weights-dtype bf16 plans.
# And decode as a fraction of the memory-bandwidth limit: bytes read per
# step times tokens/s over the read bandwidth measured in the same run.
# MODELS lists the configs (default: a 134M LLaMA-style and GPT-2 124M);
# RUNS the runs per figure.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
runs=${RUNS:-3}
models=${MODELS:-"llama-134m gpt2-124m"}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
P=${PP:-128} N=128   # PP=512: llama-bench's pp512
if [ ! -d "$here/node/node_modules/node-llama-cpp" ]; then
  # npm install keeps to package-lock.json as npm ci would, but (unlike npm
  # 11's ci) does not ask for the other platforms' optional packages.
  (cd "$here/node" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install \
    --no-audit --no-fund --omit=optional --silent)
fi

make_prompts $P

printf '%-11s %7s %7s %7s %7s %7s %7s %7s %7s %6s %6s %5s %5s\n' model \
  "llmc pp" "torch" "ort" "cpp" "llmc tg" "torch" "ort" "cpp" "pp x" "tg x" \
  "=ort" "=cpp"
for model in $models; do
  config="$here/$model.json"
  /usr/bin/python3 "$root/test/reference/make_init.py" --config "$config" \
    --out "$work/$model.safetensors" --seed 1 >/dev/null
  # pp: a plan whose prefill is exactly the prompt; tg: room for 16 + N.
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $P \
    -o "$work/pp.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $((16 + N)) \
    -o "$work/tg.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $P \
    --weights-dtype int8 -o "$work/pp-int8.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $((16 + N)) \
    --weights-dtype int8 -o "$work/tg-int8.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $P \
    --weights-dtype bf16 -o "$work/pp-bf16.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $((16 + N)) \
    --weights-dtype bf16 -o "$work/tg-bf16.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $P \
    --precision bf16-mixed -o "$work/pp-mixed.plan"
  "$llmc" compile "$config" --mode infer --max-batch 1 --max-seq $((16 + N)) \
    --precision bf16-mixed -o "$work/tg-mixed.plan"
  # The read bandwidth just before and after llmc's runs: the limit is the
  # best the machine gave during the run.
  /usr/bin/python3 "$here/read_bandwidth.py" 2 >> "$work/bandwidth.jsonl"
  for i in $(seq "$runs"); do
    for kind in "" -int8 -bf16 -mixed; do
      "$llmc" generate "$work/pp$kind.plan" --weights \
        "$work/$model.safetensors" --prompts "$work/pp.jsonl" \
        --max-new-tokens 1 --json >> "$work/$model$kind.pp"
      "$llmc" generate "$work/tg$kind.plan" --weights \
        "$work/$model.safetensors" --prompts "$work/tg.jsonl" \
        --max-new-tokens $((N + 1)) --json >> "$work/$model$kind.tg"
    done
  done
  /usr/bin/python3 "$here/read_bandwidth.py" 2 >> "$work/bandwidth.jsonl"
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
  if grep -q '"llama"' "$config"; then
    /usr/bin/python3 "$here/write_gguf.py" "$config" \
      "$work/$model.safetensors" "$work/$model.gguf"
    node "$here/llama_cpp_bench.mjs" "$work/$model.gguf" $P $N "$runs" 2 \
      "$work/tg.jsonl" > "$work/$model.cpp"
    /usr/bin/python3 "$here/write_gguf.py" "$config" \
      "$work/$model.safetensors" "$work/$model.gguf" --q8_0
    node "$here/llama_cpp_bench.mjs" "$work/$model.gguf" $P $N "$runs" 2 \
      "$work/tg.jsonl" > "$work/$model-q8.cpp"
    rm "$work/$model.gguf"
  fi
  /usr/bin/python3 - "$work/$model" "$model" $P <<'PY'
import json, statistics, sys
base, model, P = sys.argv[1], sys.argv[2], int(sys.argv[3])
pp = statistics.median(P / (json.loads(l)["ttft_ms"] / 1000)
                       for l in open(base + ".pp"))
runs = [json.loads(l) for l in open(base + ".tg")]
tg = statistics.median(r["tokens_per_s"] for r in runs)
torch = json.load(open(base + ".torch"))
ort = json.load(open(base + ".ort"))
try:
    cpp = json.load(open(base + ".cpp"))
except FileNotFoundError:
    cpp = None  # llama.cpp runs the LLaMA models only


def same(peer):
    """Greedy ids llmc and the peer agree on before the first difference
    (random weights leave near-ties)."""
    ours, theirs = runs[0]["output_ids"][:len(peer["ids"])], peer["ids"]
    return next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                min(len(ours), len(theirs)))


peers = [torch, ort] + ([cpp] if cpp else [])
best_pp = max(x["pp"] for x in peers)
best_tg = max(x["tg"] for x in peers)
dash = lambda fmt, x: fmt % x if cpp else "-"
print("%-11s %7.0f %7.0f %7.0f %7s %7.1f %7.1f %7.1f %7s %5.2fx %5.2fx %5d %5s"
      % (model, pp, torch["pp"], ort["pp"], dash("%.0f", cpp and cpp["pp"]),
         tg, torch["tg"], ort["tg"], dash("%.1f", cpp and cpp["tg"]),
         pp / best_pp, tg / best_tg, same(ort), dash("%d", cpp and same(cpp))))
PY
done
echo "(pp: tokens/s of one $P-token prefill, as time to the first token;" \
  "tg: tokens/s of $N decode steps at batch 1; medians of $runs runs;" \
  "x: llmc over the fastest peer; =ort, =cpp: greedy ids llmc and the peer" \
  "agree on before the first difference)"
echo
# The limit: the best read bandwidth of the probes around llmc's runs.
/usr/bin/python3 -c "import json, sys
print(json.dumps(max((json.loads(l) for l in open(sys.argv[1])),
                     key=lambda b: b['read_bytes_per_s'])))" \
  "$work/bandwidth.jsonl" > "$work/bandwidth.json"
printf '%-11s %8s %7s %8s %9s %8s  %s\n' "decode" "MB/step" "llmc tg" \
  "GB/s" "read GB/s" "of limit" "peers"
for model in $models; do
  /usr/bin/python3 "$here/bandwidth_table.py" "$here/$model.json" \
    "$work/$model.safetensors" "$work/$model" "$model" 16 $N \
    "$work/bandwidth.json"
done
echo "(MB/step: bytes a batch-1 decode step reads, weights and KV cache;" \
  "read GB/s: PyTorch's sum over 512 MiB, 2 threads, best of 10, the best" \
  "of the probes before and after each model's llmc runs)"
echo
printf '%-22s %9s %9s %7s %9s %9s %7s %7s %6s\n' "weights" "llmc pp" \
  "cpp Q8_0" "pp/ort" "llmc tg" "cpp Q8_0" "tg x" "/fp32" "=fp32"
for model in $models; do
  for kind in int8 bf16 mixed; do
    /usr/bin/python3 - "$work/$model" "$model" $P $kind <<'PY'
import json, statistics, sys
base, model, P, kind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
pp = statistics.median(P / (json.loads(l)["ttft_ms"] / 1000)
                       for l in open("%s-%s.pp" % (base, kind)))
runs = [json.loads(l) for l in open("%s-%s.tg" % (base, kind))]
tg = statistics.median(r["tokens_per_s"] for r in runs)
fp32 = [json.loads(l) for l in open(base + ".tg")]
tg32 = statistics.median(r["tokens_per_s"] for r in fp32)
ours, theirs = runs[0]["output_ids"], fp32[0]["output_ids"]
same = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
            len(ours))
try:
    cpp = json.load(open(base + "-q8.cpp")) if kind == "int8" else None
except FileNotFoundError:
    cpp = None  # llama.cpp runs the LLaMA models only
ort = json.load(open(base + ".ort"))
label = {"int8": "int8", "bf16": "bf16", "mixed": "bf16-mixed"}[kind]
print("%-22s %9.0f %9s %6.2fx %9.1f %9s %7s %6.2fx %6d"
      % (model + " " + label, pp, "%.0f" % cpp["pp"] if cpp else "-",
         pp / ort["pp"], tg, "%.1f" % cpp["tg"] if cpp else "-",
         "%.2fx" % (tg / cpp["tg"]) if cpp else "-", tg / tg32, same))
PY
  done
done
echo "(int8: GEMM weights quantized per output channel at load; bf16: GEMM" \
  "weights rounded to bf16 at load; bf16-mixed: --precision bf16-mixed," \
  "bf16 weights and each GEMM's activations rounded too; pp/ort: llmc's" \
  "prefill over onnxruntime's (fp32); tg x: llmc int8 over llama.cpp Q8_0;" \
  "/fp32: llmc decode over llmc fp32; =fp32: greedy ids and fp32's agree" \
  "on before the first difference)"
