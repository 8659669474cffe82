#!/usr/bin/env bash
# bench/zero_bytes: the bytes ZeRO moves per step and rank, as the runtime
# accounts them (bench/mpi_bytes measures what MPI sent), against Rajbhandari et al. 2020 §7: data parallelism and ZeRO-1/2
# move 2Ψ per step (a reduce-scatter and an all-gather of the Ψ parameters'
# worth of elements), ZeRO-3 3Ψ (parameters gathered again for the backward
# pass); a ring over p ranks sends (p-1)/p of that, 4 bytes per element.
# Runs the bench/train_cpu model (d 512, 8 layers) with dp=2, micro-batch 2,
# seq 256, at stages 0-3, 2 steps each.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
use_mpi_ranks

make_tokens 200000
for z in 0 1 2 3; do
  "$llmc" compile "$here/../train_cpu/config.json" --mode train \
    --micro-batch 2 --seq 256 --mesh dp=2 --zero "$z" -o "$work/z$z.plan"
  "$llmc" explain "$work/z$z.plan" > "$work/z$z.txt"
  mpirun --oversubscribe -np 2 "$llmc" train "$work/z$z.plan" \
    --data "$work/train.bin" --steps 2 --log "$work/z$z.jsonl"
done

/usr/bin/python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
p = 2
for z in range(4):
    text = open("%s/z%d.txt" % (work, z)).read()
    if z == 0:
        # Ψ from the data-parallel all-reduce of every gradient.
        psi = int(re.search(r"dp all_reduce: \d+ calls, (\d+) elements", text).group(1))
    predicted = int(re.search(r"total: (\d+) bytes", text).group(1))
    accounted = [json.loads(l)["comm_bytes_sent"] for l in open("%s/z%d.jsonl" % (work, z))]
    assert all(m == predicted for m in accounted), (z, accounted, predicted)
    factor = 3 if z == 3 else 2
    paper = factor * psi * 4 * (p - 1) // p
    peak = re.search(r"peak live memory per rank: (\S+ \S+)", text).group(1)
    print("zero %d: %11d bytes/step (= llmc explain), paper %dPsi = %11d, ratio %.3f; peak memory %s"
          % (z, accounted[-1], factor, paper, accounted[-1] / paper, peak))
PY
