"""Trains one model with llmc and with the PyTorch reference, then compares.

Both start from the same initial safetensors (written by `llmc init`) and read
the same token file in the same order with the same AdamW settings. Checks:
  - per-step losses agree within --loss-rtol relative;
  - every parameter's step-0 gradient agrees within --grad-rtol relative L2.
Exits non-zero, printing the worst offenders, when either check fails.

With --onnx OPSET, llmc compiles the model from its ONNX export instead
(export_onnx.py, torch.onnx.export of the reference with the initial
weights) and trains from the weights the import writes (--weights-out).

usage: parity.py --llmc BIN --config CONFIG --workdir DIR [--steps 20]
                 [--micro-batch 4] [--seq 64] [--onnx OPSET] [--init-config C]
"""
import argparse
import json
import math
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_PYTHON = "/usr/bin/python3"


# One thread each: lit runs tests side by side on small machines, and
# OpenMP teams that spin on shared cores slow each other down many times over.
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
           LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp")


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=ENV)


def rel_l2(a, b):
    num = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    den = math.sqrt(sum(y * y for y in b))
    return num / den if den > 0 else num


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--llmc", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--micro-batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--loss-rtol", type=float, default=1e-4)
    p.add_argument("--grad-rtol", type=float, default=1e-4)
    p.add_argument("--onnx", type=int, default=0)
    # A config llmc builds with the same parameters, to draw the initial
    # weights from (a model llmc trains only from its ONNX export, such as
    # GPT-2 with a ReLU MLP, which llmc lowers op by op).
    p.add_argument("--init-config")
    a = p.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    w = lambda name: os.path.join(a.workdir, name)  # noqa: E731

    vocab = json.load(open(a.config))["vocab_size"]
    hyper = {"lr": "1e-3", "min-lr": "1e-4", "warmup-steps": "5",
             "schedule": "cosine", "weight-decay": "0.1", "beta1": "0.9",
             "beta2": "0.95", "eps": "1e-8", "clip-grad-norm": "1.0"}
    flags = [x for k, v in hyper.items() for x in ("--" + k, v)]

    run([TORCH_PYTHON, os.path.join(HERE, "make_tokens.py"), "--out",
         w("train.bin"), "--count", "50000", "--vocab", str(vocab),
         "--seed", "3"])
    run([a.llmc, "compile", a.init_config or a.config, "--mode", "train",
         "--micro-batch",
         str(a.micro_batch), "--seq", str(a.seq), "-o", w("model.plan")])
    run([a.llmc, "init", w("model.plan"), "--seed", "5", "-o",
         w("init.safetensors")])
    start = w("init.safetensors")
    if a.onnx:
        run([TORCH_PYTHON, os.path.join(HERE, "export_onnx.py"), "--config",
             a.config, "--init", start, "--opset", str(a.onnx), "--out",
             w("model.onnx")])
        start = w("imported.safetensors")
        run([a.llmc, "compile", w("model.onnx"), "--mode", "train",
             "--micro-batch", str(a.micro_batch), "--seq", str(a.seq), "-o",
             w("model.plan"), "--weights-out", start])
    run([a.llmc, "train", w("model.plan"), "--data", w("train.bin"),
         "--steps", str(a.steps), "--load", start, "--log",
         w("llmc.jsonl"), "--dump-grads", w("llmc-grads.safetensors")] + flags)

    run([TORCH_PYTHON, os.path.join(HERE, "train_ref.py"), "--config",
         a.config, "--init", w("init.safetensors"), "--data", w("train.bin"),
         "--steps", str(a.steps), "--micro-batch", str(a.micro_batch),
         "--seq", str(a.seq), "--out-losses", w("torch.json"), "--out-grads",
         w("torch-grads.safetensors")] + flags)

    ours = [json.loads(line)["loss"] for line in open(w("llmc.jsonl"))]
    theirs = json.load(open(w("torch.json")))["losses"]
    failures = []
    for step, (x, y) in enumerate(zip(ours, theirs)):
        rel = abs(x - y) / abs(y)
        print("step %2d  llmc %.7f  torch %.7f  rel %.2e" % (step, x, y, rel))
        if rel > a.loss_rtol:
            failures.append("step %d loss differs by %.2e relative" % (step, rel))
    if len(ours) != a.steps or len(theirs) != a.steps:
        failures.append("expected %d losses, got %d and %d"
                        % (a.steps, len(ours), len(theirs)))

    g_ours, _ = safetensors_io.read(w("llmc-grads.safetensors"))
    g_theirs, _ = safetensors_io.read(w("torch-grads.safetensors"))
    if sorted(g_ours) != sorted(g_theirs):
        failures.append("gradient names differ: %s vs %s"
                        % (sorted(g_ours), sorted(g_theirs)))
    worst = []
    for name in sorted(set(g_ours) & set(g_theirs)):
        rel = rel_l2(g_ours[name].values, g_theirs[name].values)
        worst.append((rel, name))
        if rel > a.grad_rtol:
            failures.append("gradient of %s differs by %.2e relative L2"
                            % (name, rel))
    worst.sort(reverse=True)
    for rel, name in worst[:5]:
        print("grad  %-50s rel L2 %.2e" % (name, rel))
    if failures:
        print("PARITY FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("parity OK: %d steps, %d gradients" % (len(ours), len(worst)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
