#!/usr/bin/env python3
"""A language model the recognizer refuses still runs forward, op by op.

    onnx_general_parity.py --llmc BIN --config CONFIG.json --workdir DIR
        [--opset 17] [--seq 12]

Exports the PyTorch reference of CONFIG (export_onnx.py) and compiles it
with `llmc compile --emit=plan` (the general lowering: embeddings as
llm.embedding, LayerNorm nodes, Gemm/MatMul, the Where mask, Softmax and
every elementwise op as general llm ops), runs the plan on a batch of one
sequence of --seq random ids with `llmc run`, and compares every row of
logits with onnxruntime's on the same file (npm onnxruntime-node,
test/reference/node/onnx_logits.mjs): max |a - b| / max |b| per row must
be at most 1e-5. Prints the difference and "general parity OK"; exit 1
otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--seq", type=int, default=12)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    w = lambda name: os.path.join(a.workdir, name)  # noqa: E731
    vocab = json.load(open(a.config))["vocab_size"]
    run([sys.executable, os.path.join(HERE, "make_init.py"), "--config",
         a.config, "--out", w("init.safetensors"), "--seed", "3", "--std",
         "0.2"])
    run([sys.executable, os.path.join(HERE, "export_onnx.py"), "--config",
         a.config, "--init", w("init.safetensors"), "--opset", str(a.opset),
         "--out", w("model.onnx")])
    run([a.llmc, "compile", w("model.onnx"), "--emit=plan", "--micro-batch",
         "1", "--seq", str(a.seq), "-o", w("model.plan"), "--weights-out",
         w("constants.safetensors")])
    ids = np.random.default_rng(5).integers(0, vocab, (1, a.seq))
    np.save(w("ids.npy"), ids.astype(np.int64))
    run([a.llmc, "run", w("model.plan"), "input_ids=" + w("ids.npy"),
         "--weights", w("constants.safetensors"), "-o", w("out")])
    mine = np.load(w("out/logits.npy")).reshape(a.seq, -1)
    with open(w("sequences.json"), "w") as f:
        json.dump([[int(t) for t in ids[0]]], f)
    run(["node", os.path.join(HERE, "node", "onnx_logits.mjs"), w("model.onnx"),
         w("sequences.json"), w("ort.f32")])
    theirs = np.fromfile(w("ort.f32"), dtype=np.float32).reshape(a.seq, -1)
    diff = float((np.abs(mine - theirs).max(axis=1) /
                  np.abs(theirs).max(axis=1)).max())
    print("onnxruntime: %d positions, max relative logit difference %.2e"
          % (a.seq, diff))
    if diff > 1e-5:
        sys.exit("general parity FAILED")
    print("general parity OK")


if __name__ == "__main__":
    main()
