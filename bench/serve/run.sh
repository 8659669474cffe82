#!/usr/bin/env bash
# bench/serve: llmc serve under load, measured as vLLM's benchmark_serving.py
# does (client.mjs): N streaming requests of mixed prompt (16..128 tokens)
# and output (16..128 tokens) lengths, arriving at a Poisson RATE and all at
# once; request throughput, output tokens/s, TTFT, TPOT and inter-token
# latency (p50, p99). The same requests go to three servers of one model
# (MODEL, default llama-134m from bench/infer_cpu with the tokenizer's
# vocabulary of 8192, random weights):
#   continuous  a plan of --max-batch 8 --prefill-tokens 32 --prefill-rows 1
#               (BATCH, PREFILL_TOKENS, PREFILL_ROWS), continuous batching
#               (2 threads), serve --prefill-budget PREFILL_BUDGET (0: none)
#   one-at-a-time  a plan of --max-batch 1 --prefill-tokens 64: one request
#               runs at a time (64-token chunks prefilled this workload's
#               prompts fastest of 32, 64, 128 and the default 256, whose
#               padding doubled the prefill time)
#   tp2         the continuous plan with --mesh tp=2 under mpirun -np 2 (1
#               thread per rank)
# and the ratios of continuous to one-at-a-time are printed.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
n=${N:-24} rate=${RATE:-0.5} model=${MODEL:-llama-134m} batch=${BATCH:-8}
chunk=${PREFILL_TOKENS:-32} rows=${PREFILL_ROWS:-1} budget=${PREFILL_BUDGET:-0}
# The model's vocabulary set to the tokenizer's 8192 pieces: ids past the
# tokenizer would decode to no text, and get no chunk, so ITL would measure
# gaps between chunks with text, not between tokens.
config="$work/$model.json"
/usr/bin/python3 -c "import json, sys; c = json.load(open(sys.argv[1]))
c['vocab_size'] = 8192; json.dump(c, open(sys.argv[2], 'w'))" \
  "$root/bench/infer_cpu/$model.json" "$config"
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp

/usr/bin/python3 "$root/test/reference/make_init.py" --config "$config" \
  --out "$work/w.safetensors" --seed 1 >/dev/null
bible "gen1:1-rev22:21" > "$work/kjv.txt"
"$llmc" tokenize "$work/kjv.txt" --vocab-size 8192 --model-prefix \
  "$work/tok" --train-out "$work/train.bin" --val-out "$work/val.bin" >/dev/null
"$llmc" compile "$config" --mode infer --max-batch "$batch" --max-seq 256 \
  --prefill-tokens "$chunk" --prefill-rows "$rows" -o "$work/batch.plan" > /dev/null
"$llmc" compile "$config" --mode infer --max-batch 1 --max-seq 256 \
  --prefill-tokens 64 -o "$work/batch1.plan" > /dev/null
"$llmc" compile "$config" --mode infer --max-batch "$batch" --max-seq 256 \
  --prefill-tokens "$chunk" --prefill-rows "$rows" --mesh tp=2 \
  -o "$work/tp2.plan" > /dev/null

# Starts a server (command in "$@"), runs the client at each rate, stops it.
measure() {
  local name=$1; shift
  "$@" --weights "$work/w.safetensors" --tokenizer "$work/tok.model" \
    --port 0 --max-queue 1000 > "$work/$name.log" 2>&1 &
  local pid=$!
  local url=""
  for _ in $(seq 600); do
    url=$(grep -o 'http://[0-9.:]*' "$work/$name.log" || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$work/$name.log"; exit 1; }
  for r in "$rate" 0; do
    printf '%s %s ' "$name" "$r"
    node "$here/client.mjs" "$url" "$n" "$r" 1
  done >> "$work/results"
  # SIGTERM to rank 0 (under mpirun, its child) drains every rank.
  local target=$pid child
  for child in $(pgrep -P "$pid" || true); do
    grep -qa OMPI_COMM_WORLD_RANK=0 "/proc/$child/environ" && target=$child
  done
  kill -TERM "$target"
  wait "$pid" || true
}

OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
  measure continuous "$llmc" serve "$work/batch.plan" --prefill-budget "$budget"
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
  measure one-at-a-time "$llmc" serve "$work/batch1.plan"
use_mpi_ranks
measure tp2 mpirun --oversubscribe -np 2 "$llmc" serve "$work/tp2.plan" \
  --prefill-budget "$budget"

/usr/bin/python3 - "$work/results" "$n" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, figures = line.split(" ", 2)
    rows[(name, float(rate))] = json.loads(figures)
print("%-14s %6s %8s %9s %15s %15s %13s" % (
    "server", "rate", "req/s", "out tok/s", "TTFT p50/p99 ms",
    "TPOT p50/p99 ms", "ITL p50/p99"))
for (name, rate), f in rows.items():
    print("%-14s %6s %8.2f %9.1f %7.0f/%-7.0f %7.1f/%-7.1f %6.1f/%-6.1f" % (
        name, "burst" if rate == 0 else "%g/s" % rate,
        f["request_throughput"], f["output_tokens_per_s"],
        f["ttft_ms"]["p50"], f["ttft_ms"]["p99"], f["tpot_ms"]["p50"],
        f["tpot_ms"]["p99"], f["itl_ms"]["p50"], f["itl_ms"]["p99"]))
for rate in sorted({r for _, r in rows}):
    c, o = rows[("continuous", rate)], rows[("one-at-a-time", rate)]
    print("continuous / one-at-a-time at %s: %.2fx output tokens/s, TTFT p50 "
          "%.2fx lower" % ("burst" if rate == 0 else "%g/s" % rate,
                           c["output_tokens_per_s"] / o["output_tokens_per_s"],
                           o["ttft_ms"]["p50"] / c["ttft_ms"]["p50"]))
print("(%s requests per run; prompts 16..128 tokens, outputs 16..128)"
      % sys.argv[2])
PY
