"""Generates with llmc and with the PyTorch reference, then compares.

Both read the same weights (make_init.py with a large --std, so that logits
are peaked and greedy choices are far from ties) and the same prompts of
different lengths. llmc runs them through one inference plan with
continuous batching (and, with --kv-blocks, a pool small enough to force
preemption); the reference decodes each prompt alone with a KV cache
(generate_ref.py). Checks: the greedy ids are equal, and every row of
logits a token was chosen from agrees within --rtol (max |a - b| / max |b|).
With --unbatched, llmc also runs each prompt alone (a plan of --max-batch 1)
and must give the same ids and logits as batched. With --tp T, the plans are
compiled with --mesh tp=T and generate runs under mpirun -np T. With
--onnx OPSET, llmc compiles the model from its ONNX export
(export_onnx.py, torch.onnx.export of the reference with these weights) and
generates from the weights the import writes (--weights-out); onnxruntime
(npm onnxruntime-node, test/reference/node) then runs the exported file on
each prompt and llmc's outputs, and every logit row llmc chose a token from
must agree with onnxruntime's: the prompts' last rows (a forward pass)
within --ort-rtol, the decoded tokens' rows within --rtol. With
--onnx-past, the export is the cached form Optimum writes (past_key_values
inputs, present outputs: export_onnx.py --past), and onnxruntime prefills
each prompt, then decodes llmc's tokens on the graph's own cache. With
--weights-dtype int8, the plan's GEMM weights are INT8: greedy ids may part
from the fp32 reference's, so the agreement is reported (tokens equal, and
equal before each prompt's first difference), and the logit rows computed
from the same tokens (up to that difference) must agree within --rtol.
With --weights-dtype bf16, the reference rounds the same GEMM weights to
bf16 (generate_ref.py --bf16-gemm-weights) and every check above holds.
With --precision bf16-mixed, the reference also rounds every GEMM's input
to bf16 (--bf16-gemm-activations); the two sides' fp32 sums, in different
orders, can put an activation on either side of a bf16 rounding step, so
greedy ids may part: the agreement is reported, and the median difference
of the rows from the same tokens must be under half of what rounding
the activations changes in the reference itself.

usage: generate_parity.py --llmc BIN --config CONFIG --workdir DIR
           [--lengths 1,5,17,33] [--max-new-tokens 64] [--max-batch 4]
           [--kv-blocks N] [--std 0.3] [--unbatched]
           [--batching continuous|static|bucket] [--prefill-tokens P]
           [--tp T] [--prefill-rows R] [--prefill-budget C] [--onnx OPSET]
           [--onnx-past]
           [--weights-dtype int8|bf16] [--precision bf16-mixed]
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_PYTHON = "/usr/bin/python3"
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
           LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp")


def run(cmd, out=None):
    print("+", " ".join(cmd), flush=True)
    with open(out, "w") if out else open(os.devnull, "w") as f:
        subprocess.run(cmd, check=True, env=ENV, stdout=f if out else None)


def llmc_generate(a, w, plan, prompts, tag):
    """llmc's outputs (one dict per prompt) and logits [prompts, N, V]."""
    launch = [] if a.tp == 1 else ["mpirun", "--oversubscribe", "-np",
                                   str(a.tp)]
    run(launch + [a.llmc, "generate", plan, "--weights", a.weights,
         "--prompts", prompts, "--max-new-tokens", str(a.max_new_tokens),
         "--batching", a.batching, "--prefill-budget", str(a.prefill_budget),
         "--json", "--dump-logits", w(tag + ".logits")],
        out=w(tag + ".jsonl"))
    results = [json.loads(line) for line in open(w(tag + ".jsonl"))]
    logits = np.fromfile(w(tag + ".logits"), dtype=np.float32)
    return results, logits


def rel(a, b):
    """max |a - b| / max |b| per row, the worst row."""
    a = a.reshape(-1, b.shape[-1])
    b = b.reshape(-1, b.shape[-1])
    return float((np.abs(a - b).max(axis=1) / np.abs(b).max(axis=1)).max())


def onnxruntime_agrees(a, w, prompts, results, logits):
    """onnxruntime's logits of each prompt + llmc's tokens vs llmc's rows."""
    sequences = [ids + r["output_ids"][:-1] for ids, r in zip(prompts, results)]
    with open(w("ort-sequences.json"), "w") as f:
        # A cached export prefills each prompt, then decodes llmc's tokens
        # one at a time on its own presents.
        json.dump([{"ids": seq, "prefill": len(ids)}
                   for ids, seq in zip(prompts, sequences)]
                  if a.onnx_past else sequences, f)
    run(["node", os.path.join(HERE, "node", "onnx_logits.mjs"),
         w("onnx/model.onnx"), w("ort-sequences.json"), w("ort.f32")])
    vocab = logits.size // (len(prompts) * a.max_new_tokens)
    ort = np.fromfile(w("ort.f32"), dtype=np.float32)
    rows, offset = [], 0
    for ids, seq in zip(prompts, sequences):
        mine = ort[offset:offset + len(seq) * vocab].reshape(len(seq), vocab)
        rows.append(mine[len(ids) - 1:])
        offset += len(seq) * vocab
    theirs = np.stack(rows)
    mine = logits.reshape(theirs.shape)
    prefill = rel(mine[:, :1], theirs[:, :1])
    decode = rel(mine[:, 1:], theirs[:, 1:])
    print("onnxruntime: %d prompts, max relative logit difference %.2e at "
          "the prompts' last positions, %.2e over %d decoded tokens"
          % (len(prompts), prefill, decode, a.max_new_tokens - 1))
    return prefill <= a.ort_rtol and decode <= a.rtol


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--llmc", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--lengths", default="1,5,17,33")
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--max-batch", type=int, default=4)
    p.add_argument("--kv-blocks", type=int, default=0)
    p.add_argument("--kv-block-tokens", type=int, default=16)
    p.add_argument("--std", type=float, default=0.3)
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--unbatched", action="store_true")
    p.add_argument("--batching", default="continuous")
    p.add_argument("--prefill-tokens", type=int, default=0)
    p.add_argument("--tp", type=int, default=1)
    p.add_argument("--prefill-rows", type=int, default=0)
    p.add_argument("--prefill-budget", type=int, default=0)
    p.add_argument("--onnx", type=int, default=0)
    p.add_argument("--onnx-past", action="store_true")
    p.add_argument("--ort-rtol", type=float, default=1e-5)
    p.add_argument("--weights-dtype", default="fp32")
    p.add_argument("--precision", default="fp32")
    a = p.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    w = lambda name: os.path.join(a.workdir, name)  # noqa: E731

    vocab = json.load(open(a.config))["vocab_size"]
    lengths = [int(n) for n in a.lengths.split(",")]
    rng = np.random.default_rng(7)
    prompts = [[int(t) for t in rng.integers(0, vocab, n)] for n in lengths]
    with open(w("prompts.json"), "w") as f:
        json.dump(prompts, f)
    with open(w("prompts.jsonl"), "w") as f:
        for ids in prompts:
            f.write(json.dumps({"prompt_ids": ids}) + "\n")
    run([TORCH_PYTHON, os.path.join(HERE, "make_init.py"), "--config",
         a.config, "--out", w("weights.safetensors"), "--seed", "3", "--std",
         str(a.std)])
    def reference(tag, flags):
        run([TORCH_PYTHON, os.path.join(HERE, "generate_ref.py"), "--config",
             a.config, "--weights", w("weights.safetensors"), "--prompts",
             w("prompts.json"), "--max-new-tokens", str(a.max_new_tokens),
             "--mode", "cache", "--out", w(tag + ".json"), "--logits-out",
             w(tag + ".npy"), "--no-logits"] + flags)
        return json.load(open(w(tag + ".json"))), np.load(w(tag + ".npy"))
    mixed = a.precision == "bf16-mixed"
    ref, ref_logits = reference(
        "ref", (["--bf16-gemm-weights"] if a.weights_dtype == "bf16" or mixed
                else []) + (["--bf16-gemm-activations"] if mixed else []))

    max_seq = max(lengths) + a.max_new_tokens
    model, a.weights = a.config, w("weights.safetensors")
    if a.onnx:
        # A folder with model.onnx and its weights as external data, as
        # exports of large models are laid out.
        os.makedirs(w("onnx"), exist_ok=True)
        run([TORCH_PYTHON, os.path.join(HERE, "export_onnx.py"), "--config",
             a.config, "--init", a.weights, "--opset", str(a.onnx), "--out",
             w("onnx/model.onnx"), "--external-data"] +
            (["--past"] if a.onnx_past else []))
        model, a.weights = w("onnx"), w("imported.safetensors")
    compile_cmd = [a.llmc, "compile", model, "--mode", "infer",
                   "--max-seq", str(max_seq), "--kv-block-tokens",
                   str(a.kv_block_tokens)]
    if a.kv_blocks:
        compile_cmd += ["--kv-blocks", str(a.kv_blocks)]
    if a.prefill_tokens:
        compile_cmd += ["--prefill-tokens", str(a.prefill_tokens)]
    if a.tp > 1:
        compile_cmd += ["--mesh", "tp=%d" % a.tp]
    if a.prefill_rows:
        compile_cmd += ["--prefill-rows", str(a.prefill_rows)]
    if a.onnx:
        compile_cmd += ["--weights-out", a.weights]
    if a.weights_dtype != "fp32":
        compile_cmd += ["--weights-dtype", a.weights_dtype]
    if a.precision != "fp32":
        compile_cmd += ["--precision", a.precision]
    run(compile_cmd + ["--max-batch", str(a.max_batch), "-o",
                       w("batched.plan")])
    results, logits = llmc_generate(a, w, w("batched.plan"),
                                    w("prompts.jsonl"), "batched")

    failed = False
    n = a.max_new_tokens

    def same_token_rows(ids_a, rows_a, ids_b, rows_b):
        """The logit rows both sides chose from the same tokens: up to each
        prompt's first difference. Returns them, the equal tokens and those
        before the first differences."""
        rows_a = rows_a.reshape(len(prompts), n, -1)
        rows_b = rows_b.reshape(rows_a.shape)
        pairs, equal, before = [], 0, 0
        for i, (x, y) in enumerate(zip(ids_a, ids_b)):
            first = next((k for k, (s, t) in enumerate(zip(x, y)) if s != t), n)
            equal += sum(s == t for s, t in zip(x, y))
            before += first
            pairs.append((rows_a[i, :min(first + 1, n)],
                          rows_b[i, :min(first + 1, n)]))
        return pairs, equal, before

    def row_differences(pairs):
        return np.array([rel(x[k], y[k]) for x, y in pairs
                         for k in range(len(x))])

    mine_ids = [r["output_ids"] for r in results]
    if mixed:
        # Activations rounded to bf16 make a forward chaotic at bf16's step:
        # fp32 sums in another order put an element on the other side of a
        # rounding now and then, which moves the logits by ~1e-3. So the
        # rounding is checked as a whole: llmc's rows must be far closer to
        # the reference that rounds the activations than that reference is
        # to the one that does not (weights rounded on both).
        unrounded, unrounded_logits = reference("ref-weights",
                                                ["--bf16-gemm-weights"])
        pairs, equal, before = same_token_rows(mine_ids, logits,
                                               ref["outputs"], ref_logits)
        mine_diff = float(np.median(row_differences(pairs)))
        rounding = float(np.median(row_differences(same_token_rows(
            unrounded["outputs"], unrounded_logits, ref["outputs"],
            ref_logits)[0])))
        print("bf16-mixed: %d of %d greedy tokens equal to the reference's "
              "(%d before the first difference of each prompt); median "
              "relative logit difference from the same tokens %.2e, against "
              "%.2e that the activations' rounding makes in the reference"
              % (equal, n * len(prompts), before, mine_diff, rounding))
        if not mine_diff < 0.5 * rounding:
            sys.exit("generate parity FAILED")
        print("generate parity OK")
        return
    if a.weights_dtype == "int8":
        # Rows from the same tokens: up to each prompt's first difference.
        same_rows, equal, before = same_token_rows(mine_ids, logits,
                                                   ref["outputs"], ref_logits)
        worst = max(rel(x, y) for x, y in same_rows)
        print("%s weights: %d of %d greedy tokens equal to fp32's (%d before "
              "the first difference of each prompt), max relative logit "
              "difference from the same tokens %.2e"
              % (a.weights_dtype, equal, n * len(prompts), before, worst))
        if worst > a.rtol:
            sys.exit("generate parity FAILED")
        print("generate parity OK")
        return
    for i, (mine, theirs) in enumerate(zip(results, ref["outputs"])):
        if mine["output_ids"] != theirs:
            first = next(k for k, (x, y) in enumerate(
                zip(mine["output_ids"], theirs)) if x != y)
            print("prompt %d: ids differ from token %d: llmc %s, reference %s"
                  % (i, first, mine["output_ids"][first:first + 4],
                     theirs[first:first + 4]))
            failed = True
    worst = rel(logits, ref_logits)
    preemptions = sum(r["preemptions"] for r in results)
    print("batched (%s%s): %d prompts x %d tokens, max relative logit "
          "difference %.2e, %d preemptions"
          % (a.batching, ", tp=%d" % a.tp if a.tp > 1 else "", len(prompts),
             a.max_new_tokens, worst, preemptions))
    failed |= worst > a.rtol
    if a.onnx:
        failed |= not onnxruntime_agrees(a, w, prompts, results, logits)

    if a.unbatched:
        run(compile_cmd + ["--max-batch", "1", "-o", w("alone.plan")])
        alone_ids, alone_logits = [], []
        for i, ids in enumerate(prompts):
            with open(w("alone%d.prompts.jsonl" % i), "w") as f:
                f.write(json.dumps({"prompt_ids": ids}) + "\n")
            r, l = llmc_generate(a, w, w("alone.plan"),
                                 w("alone%d.prompts.jsonl" % i), "alone%d" % i)
            alone_ids.append(r[0]["output_ids"])
            alone_logits.append(l)
        same = alone_ids == [r["output_ids"] for r in results]
        diff = rel(logits, np.concatenate(alone_logits).reshape(logits.shape))
        print("unbatched: ids %s, max relative logit difference to batched "
              "%.2e" % ("equal" if same else "DIFFER", diff))
        failed |= not same or diff > a.rtol
    if failed:
        sys.exit("generate parity FAILED")
    print("generate parity OK")


if __name__ == "__main__":
    main()
