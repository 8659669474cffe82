#!/usr/bin/env bash
# make_corpus.sh BUILD_DIR: rewrites the fuzzers' seed corpus under
# test/fuzz/corpus/ from tiny models, so every fuzzer starts from inputs that
# get deep into its reader: plans (train, tp, pipeline stage, infer) of a
# 2-layer GPT-2 and a 1-layer LLaMA, their initial weights plus a safetensors file of
# every dtype, token files, the example configs, and torch.onnx.export graphs
# of both families next to the hand-made bad models of make_bad_onnx.py.
# Rerun it when the plan format or the exporters change.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
llmc=$(cd "$1" && pwd)/bin/llmc
corpus=$here/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/gpt2.json" <<'JSON'
{"model_type": "gpt2", "vocab_size": 32, "n_embd": 16, "n_head": 2,
 "n_layer": 2, "n_positions": 16, "layer_norm_epsilon": 1e-5}
JSON
cat >"$work/llama.json" <<'JSON'
{"model_type": "llama", "vocab_size": 32, "hidden_size": 16,
 "intermediate_size": 32, "num_attention_heads": 4, "num_key_value_heads": 2,
 "num_hidden_layers": 1, "max_position_embeddings": 16, "rms_norm_eps": 1e-6,
 "rope_theta": 10000.0}
JSON

rm -rf "$corpus"
mkdir -p "$corpus"/{plan-file,safetensors,token-file,model-config,onnx-import}

# model-config: the example configs and the two tiny ones.
cp "$root"/examples/configs/*.json "$work/gpt2.json" "$work/llama.json" \
  "$corpus/model-config/"
# An escaped quote once ended a string for the nesting-depth scan, which let
# this nesting reach the JSON parser's recursion (kept as a regression seed).
{ printf '{"model_type": "gpt2", "note": "\\"", "x": '
  printf '[%.0s' $(seq 100000); } >"$corpus/model-config/escaped-quote-nesting.json"

# plan-file: each plan as a payload (first byte 0) and one as a whole file
# (first byte 1); see PlanFileFuzzer.cpp.
plan() { # NAME CONFIG ARGS...
  local name=$1 config=$2
  shift 2
  "$llmc" compile "$work/$config.json" "$@" -o "$work/$name.plan" >/dev/null
  /usr/bin/python3 - "$work/$name.plan" "$corpus/plan-file/$name" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(b"\0" + data[20:-4])
PY
}
plan gpt2-train gpt2 --mode train --micro-batch 1 --seq 8
plan llama-tp2 llama --mode train --micro-batch 1 --seq 8 --mesh tp=2 --sequence-parallel
plan gpt2-pp2 gpt2 --mode train --micro-batch 1 --seq 8 --mesh pp=2 --microbatches 2
plan llama-infer llama --mode infer --max-batch 2 --max-seq 16 --kv-block-tokens 4 --kv-blocks 8
printf '\1' | cat - "$work/gpt2-train.plan" >"$corpus/plan-file/gpt2-train-file"

# safetensors: initial weights, and one tensor of every dtype the reader takes.
"$llmc" init "$work/gpt2-train.plan" --seed 1 -o "$corpus/safetensors/gpt2.safetensors"
/usr/bin/python3 - "$corpus/safetensors/dtypes.safetensors" <<'PY'
import json, struct, sys
import numpy as np
tensors = {"f32": np.arange(6, dtype=np.float32).reshape(2, 3),
           "f16": np.arange(4, dtype=np.float16),
           "bf16": (np.arange(4, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16),
           "i64": np.arange(3, dtype=np.int64),
           "i32": np.arange(2, dtype=np.int32)}
dtypes = {"f32": "F32", "f16": "F16", "bf16": "BF16", "i64": "I64", "i32": "I32"}
header, blob = {"__metadata__": {"format": "pt"}}, b""
for name, a in tensors.items():
    header[name] = {"dtype": dtypes[name], "shape": list(a.shape),
                    "data_offsets": [len(blob), len(blob) + a.nbytes]}
    blob += a.tobytes()
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + blob)
PY

# token-file: 4 bytes of options (vocab size - 1 as uint16, T, B), then ids.
/usr/bin/python3 - "$corpus/token-file" <<'PY'
import struct, sys
out = sys.argv[1]
open(out + "/small", "wb").write(struct.pack("<HBB", 31, 7, 1) + struct.pack("<40H", *[i % 32 for i in range(40)]))
open(out + "/exact", "wb").write(struct.pack("<HBB", 31, 3, 0) + struct.pack("<4H", 1, 2, 3, 4))
open(out + "/bad-id", "wb").write(struct.pack("<HBB", 3, 2, 2) + struct.pack("<8H", 0, 1, 2, 3, 4, 5, 6, 7))
open(out + "/odd", "wb").write(struct.pack("<HBB", 31, 2, 1) + b"\1\0\2")
PY

# onnx-import: exports of both families (opsets 14 and 17), and bad models.
/usr/bin/python3 "$root/test/reference/export_onnx.py" --config "$work/gpt2.json" \
  --out "$corpus/onnx-import/gpt2-opset17.onnx" --opset 17 --batch 1 --seq 4 2>/dev/null
/usr/bin/python3 "$root/test/reference/export_onnx.py" --config "$work/llama.json" \
  --out "$corpus/onnx-import/llama-opset14.onnx" --opset 14 --batch 1 --seq 4 2>/dev/null
/usr/bin/python3 "$root/test/reference/make_bad_onnx.py" --out "$work/bad"
for name in opset12 unsupported norecognise checker; do
  cp "$work/bad/$name.onnx" "$corpus/onnx-import/$name.onnx"
done
# Graphs of the general lowering: a cached export, ONNX backend node tests
# of its ops, and a graph with constants.
/usr/bin/python3 "$root/test/reference/export_onnx.py" --config "$work/llama.json" \
  --out "$corpus/onnx-import/llama-past-opset17.onnx" --opset 17 --batch 1 --seq 4 \
  --past 2>/dev/null
node=/usr/share/libonnx-testdata/data/node
for t in softmax_example_expanded reduce_sum_square_keepdims_example \
    matmul_3d concat_2d_axis_negative_1 split_variable_parts_2d pow_bcast_array \
    transpose_all_permutations_3 unsqueeze_two_axes; do
  cp "$node/test_$t/model.onnx" "$corpus/onnx-import/node-$t.onnx"
done
/usr/bin/python3 "$root/test/tools/Inputs/make_general_onnx.py" "$work"
cp "$work/scale.onnx" "$corpus/onnx-import/general-scale.onnx"
du -sh "$corpus"/*
