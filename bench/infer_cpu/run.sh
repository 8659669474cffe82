#!/usr/bin/env bash
# bench/infer_cpu: llmc generation against PyTorch eager generation with a
# KV cache, side by side, on the same model, weights and threads (2, the
# same OpenMP OpenBLAS). As llama-bench reports them: prompt processing
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

printf '%-12s %10s %10s %10s %10s %8s %8s\n' model "llmc pp" "torch pp" \
  "llmc tg" "torch tg" "pp x" "tg x"
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
  /usr/bin/python3 - "$work/$model" "$model" $P <<'PY'
import json, statistics, sys
base, model, P = sys.argv[1], sys.argv[2], int(sys.argv[3])
pp = statistics.median(P / (json.loads(l)["ttft_ms"] / 1000)
                       for l in open(base + ".pp"))
tg = statistics.median(json.loads(l)["tokens_per_s"] for l in open(base + ".tg"))
torch = json.load(open(base + ".torch"))
print("%-12s %10.0f %10.0f %10.1f %10.1f %7.2fx %7.2fx"
      % (model, pp, torch["pp"], tg, torch["tg"], pp / torch["pp"],
         tg / torch["tg"]))
PY
done
echo "(pp: tokens/s of one $P-token prefill, as time to the first token;" \
  "tg: tokens/s of $N decode steps at batch 1; medians of $runs runs)"
