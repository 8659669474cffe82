#!/usr/bin/env bash
# bench/onnx_import: a model imported from ONNX, llmc against onnxruntime
# (npm onnxruntime-node, CPU) on the same file, side by side:
#  - import: `llmc compile FOLDER --mode infer --weights-out` (load, check,
#    fold, recompose, recognise, compile the plan, write the weights) against
#    onnxruntime's session creation (load and graph optimisation);
#  - forward: one prefill of a 128-token prompt at batch 1 (llmc's time to
#    first token against one session.run), 2 threads each.
# The model: GPT-2 124M (bench/infer_cpu/gpt2-124m.json) exported by
# torch.onnx.export (opset 17) with its weights as external data. RUNS runs.
# A second row: the same GPT-2 with a ReLU MLP, which the recognizer
# refuses, compiled op by op (the general lowering: `llmc compile --emit=
# plan`, then `llmc run --runs RUNS` times its forward of all 128 positions,
# as session.run computes them) against onnxruntime on that file.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
runs=${RUNS:-5}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
config="$root/bench/infer_cpu/gpt2-124m.json"
P=128

mkdir -p "$work/onnx"
/usr/bin/python3 "$root/test/reference/make_init.py" --config "$config" \
  --out "$work/init.safetensors" --seed 1 >/dev/null
/usr/bin/python3 "$root/test/reference/export_onnx.py" --config "$config" \
  --init "$work/init.safetensors" --opset 17 --external-data \
  --out "$work/onnx/model.onnx" 2>/dev/null
/usr/bin/python3 -c "import json; print(json.dumps({'prompt_ids':
  [(i * 7919) % 8000 for i in range($P)]}))" > "$work/pp.jsonl"

import_ms=()
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  "$llmc" compile "$work/onnx" --mode infer --max-batch 1 --max-seq $P \
    -o "$work/pp.plan" --weights-out "$work/imported.safetensors" >/dev/null
  import_ms+=($(( ($(date +%s%N) - start) / 1000000 )))
  "$llmc" generate "$work/pp.plan" --weights "$work/imported.safetensors" \
    --prompts "$work/pp.jsonl" --max-new-tokens 1 --json >> "$work/llmc.pp"
done
node "$here/ort_bench.mjs" "$work/onnx/model.onnx" $P "$runs" > "$work/ort.json"
for i in $(seq $((runs - 1))); do
  node "$here/ort_bench.mjs" "$work/onnx/model.onnx" $P 1 >> "$work/ort.json"
done

# The ReLU variant, lowered op by op.
/usr/bin/python3 -c "import json; c = json.load(open('$config'));
c['activation_function'] = 'relu'; json.dump(c, open('$work/relu.json', 'w'))"
mkdir -p "$work/relu"
/usr/bin/python3 "$root/test/reference/export_onnx.py" --config "$work/relu.json" \
  --init "$work/init.safetensors" --opset 17 --external-data \
  --out "$work/relu/model.onnx" 2>/dev/null
start=$(date +%s%N)
"$llmc" compile "$work/relu" --emit=plan --micro-batch 1 --seq $P \
  -o "$work/relu.plan" --weights-out "$work/relu.safetensors" >/dev/null
general_import_ms=$(( ($(date +%s%N) - start) / 1000000 ))
/usr/bin/python3 -c "import numpy as np; np.save('$work/ids.npy',
  np.array([[(i * 7919) % 8000 for i in range($P)]], dtype=np.int64))"
"$llmc" run "$work/relu.plan" "input_ids=$work/ids.npy" \
  --weights "$work/relu.safetensors" -o "$work/relu-out" --runs "$runs" \
  > "$work/general.txt"
node "$here/ort_bench.mjs" "$work/relu/model.onnx" $P "$runs" > "$work/ort-relu.json"

/usr/bin/python3 - "$work" "${import_ms[*]}" "$general_import_ms" <<'PY'
import json, statistics, sys
work, imports = sys.argv[1], [float(x) for x in sys.argv[2].split()]
general_import = float(sys.argv[3])
llmc_fwd = statistics.median(json.loads(l)["ttft_ms"] for l in open(work + "/llmc.pp"))
ort = [json.loads(l) for l in open(work + "/ort.json")]
ort_load = statistics.median(o["load_ms"] for o in ort)
ort_fwd = ort[0]["forward_ms"]
print("%-28s %10s %12s %8s" % ("gpt2-124m, opset 17", "llmc", "onnxruntime", "ratio"))
print("%-28s %8.0f ms %9.0f ms %7.2fx" % ("import / session create",
      statistics.median(imports), ort_load, statistics.median(imports) / ort_load))
print("%-28s %8.0f ms %9.0f ms %7.2fx" % ("forward, 1 x 128 tokens",
      llmc_fwd, ort_fwd, llmc_fwd / ort_fwd))
general = float(open(work + "/general.txt").read().split()[1])
relu = json.loads(open(work + "/ort-relu.json").read())
print("%-28s %10s %12s %8s" % ("gpt2-124m relu, op by op", "llmc", "onnxruntime", "ratio"))
print("%-28s %8.0f ms %9.0f ms %7.2fx" % ("compile / session create",
      general_import, relu["load_ms"], general_import / relu["load_ms"]))
print("%-28s %8.0f ms %9.0f ms %7.2fx" % ("forward, 1 x 128 tokens",
      general, relu["forward_ms"], general / relu["forward_ms"]))
PY
