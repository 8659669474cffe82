"""Trains one model in bf16 mixed precision with llmc, on one device and on
other meshes, and checks the loss curves against fp32 and PyTorch's autocast.

Every run starts from the same initial safetensors (`llmc init`) and reads
the same tokens: a Markov chain over ACTIVE token ids with 4 successors per
token, so the loss falls from ln(vocab) toward ln(4) and a curve that drifts
shows. Runs, STEPS steps each, global batch 4 x SEQ:
  - llmc fp32 and llmc --precision bf16-mixed, one device;
  - llmc bf16-mixed on each --mesh given (e.g. "4 --mesh dp=2,tp=2
    --micro-batch 2"; the first word is the number of ranks);
  - PyTorch, train_ref.py --autocast-bf16 (torch.autocast on the CPU).
Checks, on the mean loss of each window of 10 steps (one step's loss
depends on its batch; the windows follow the weights), printing the worst
window of each:
  - every bf16 curve within --rtol relative of llmc's fp32 curve, of
    PyTorch's autocast curve and of llmc's one-device bf16 curve;
  - the bf16 curve is not the fp32 one (the GEMMs really rounded) and the
    loss fell by at least a third (the curves say something).
Why 1.5%: bf16 rounding turns differences of one fp32 ulp (a sum in
another order, as on another mesh) into whole bf16 steps of 2^-8, so
equally right bf16 runs drift apart where the same fp32 runs agree to 1e-5.
At lr 5e-4 over 200 steps the windows measured here differ by at most 0.75%
(gpt2-tiny, bf16 against fp32; PyTorch's autocast against fp32: 0.44%) and
0.59% (llama-tiny); the bound is twice that.

usage: bf16_curve.py --llmc BIN --config CONFIG --workdir DIR [--steps 200]
                     [--mesh "RANKS FLAGS..."]...
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from parity import ENV as PARITY_ENV, TORCH_PYTHON  # noqa: E402

# parity.py's one thread a process, and mpirun as root (lit sets the same)
# over shared memory.
ENV = dict(PARITY_ENV, OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_btl="self,vader")


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=ENV, stdout=subprocess.DEVNULL)


def markov_tokens(path, count, active, seed):
    rng = np.random.default_rng(seed)
    successors = rng.integers(0, active, size=(active, 4))
    choice = rng.integers(0, 4, size=count)
    tokens = np.empty(count, dtype="<u2")
    t = 0
    for i in range(count):
        tokens[i] = t
        t = successors[t, choice[i]]
    tokens.tofile(path)


def losses(path):
    return [json.loads(line)["loss"] for line in open(path)]


def windows(curve, k=10):
    return [sum(curve[i:i + k]) / len(curve[i:i + k])
            for i in range(0, len(curve), k)]


def worst(a, b):
    """The largest relative difference of two curves' window means, and
    the first step of its window."""
    rel = [abs(x - y) / abs(y) for x, y in zip(windows(a), windows(b))]
    i = max(range(len(rel)), key=rel.__getitem__)
    return rel[i], 10 * i


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--llmc", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--active", type=int, default=512)
    p.add_argument("--rtol", type=float, default=0.015)
    # At 1e-3, llama-tiny's loss spikes near step 40 in bf16 (PyTorch's
    # autocast too) and not in fp32: a real instability, but not a rounding
    # difference the curves can be compared through.
    p.add_argument("--lr", default="5e-4")
    p.add_argument("--mesh", action="append", default=[])
    a = p.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    w = lambda name: os.path.join(a.workdir, name)  # noqa: E731

    hyper = {"lr": a.lr, "min-lr": "1e-4", "warmup-steps": "10",
             "schedule": "cosine", "weight-decay": "0.1", "beta1": "0.9",
             "beta2": "0.95", "eps": "1e-8", "clip-grad-norm": "1.0"}
    flags = [x for k, v in hyper.items() for x in ("--" + k, v)]
    markov_tokens(w("train.bin"), 4 * a.seq * a.steps + a.seq + 2,
                  a.active, seed=7)

    def compile_plan(name, extra):
        run([a.llmc, "compile", a.config, "--mode", "train", "--seq",
             str(a.seq), "-o", w(name)] + extra)

    def train(plan, log, ranks=1):
        launch = ["mpirun", "--oversubscribe", "-np", str(ranks)] \
            if ranks > 1 else []
        run(launch + [a.llmc, "train", w(plan), "--data", w("train.bin"),
                      "--steps", str(a.steps), "--load",
                      w("init.safetensors"), "--log", w(log),
                      "--progress=never"] + flags)

    compile_plan("fp32.plan", ["--micro-batch", "4"])
    compile_plan("bf16.plan", ["--micro-batch", "4", "--precision",
                               "bf16-mixed"])
    run([a.llmc, "init", w("fp32.plan"), "--seed", "5", "-o",
         w("init.safetensors")])
    train("fp32.plan", "fp32.jsonl")
    train("bf16.plan", "bf16.jsonl")
    run([TORCH_PYTHON, os.path.join(HERE, "train_ref.py"), "--config",
         a.config, "--init", w("init.safetensors"), "--data",
         w("train.bin"), "--steps", str(a.steps), "--micro-batch", "4",
         "--seq", str(a.seq), "--autocast-bf16", "--out-losses",
         w("autocast.json")] + flags)

    fp32, bf16 = losses(w("fp32.jsonl")), losses(w("bf16.jsonl"))
    autocast = json.load(open(w("autocast.json")))["losses"]
    curves = {"bf16": bf16}
    for i, mesh in enumerate(a.mesh):
        ranks, *extra = shlex.split(mesh)
        compile_plan("mesh%d.plan" % i, extra + ["--precision", "bf16-mixed"])
        train("mesh%d.plan" % i, "mesh%d.jsonl" % i, int(ranks))
        curves["bf16 " + " ".join(extra)] = losses(w("mesh%d.jsonl" % i))

    failures = []
    print("step   fp32      bf16      autocast")
    for s in range(0, a.steps, max(1, a.steps // 10)):
        print("%4d  %.5f  %.5f  %.5f" % (s, fp32[s], bf16[s], autocast[s]))
    for name, curve in curves.items():
        if len(curve) != a.steps:
            failures.append("%s: %d losses, expected %d"
                            % (name, len(curve), a.steps))
            continue
        for ref_name, ref in (("llmc fp32", fp32),
                              ("torch autocast", autocast),
                              ("llmc bf16 one device", bf16)):
            if curve is ref:
                continue
            rel, step = worst(curve, ref)
            print("%s vs %s: worst window %.2e at steps %d.. (bound %.1e)"
                  % (name, ref_name, rel, step, a.rtol))
            if rel > a.rtol:
                failures.append("%s differs from %s by %.2e at steps %d.."
                                % (name, ref_name, rel, step))
    if max(abs(x - y) for x, y in zip(bf16, fp32)) < 1e-6:
        failures.append("bf16-mixed trained exactly as fp32: no rounding")
    if fp32[-1] > fp32[0] * 2 / 3:
        failures.append("the loss fell only from %.3f to %.3f"
                        % (fp32[0], fp32[-1]))
    if failures:
        print("BF16 CURVE FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("bf16 curves OK: %d steps, %d llmc runs" % (a.steps, len(curves)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
