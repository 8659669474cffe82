#!/usr/bin/env bash
# bench/dp_overlap: how much of data-parallel gradient communication hides
# behind the backward pass. Two ranks train the bench/train_cpu model
# (d 512, 8 layers, seq 256) with micro-batch 2 each, twice:
#  - as planned: each gradient bucket's non-blocking all-reduce starts when
#    the backward pass completes it, and is waited for before the norm;
#  - LLMC_DP_BLOCKING=1: the same all-reduces, blocking, where they start.
# Exposed communication = time in the waits (planned run); total = time in
# the blocking all-reduces; hidden fraction = 1 - exposed / total.
# Also prints the bytes each rank sends per step against the analytical
# minimum of a ring all-reduce of every gradient, 2(p-1)/p · 4 · params.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
steps=${STEPS:-4}
use_mpi_ranks

make_tokens 200000
"$llmc" compile "$root/bench/train_cpu/config.json" --mode train \
  --micro-batch 2 --seq 256 --mesh dp=2 -o "$work/dp2.plan"
"$llmc" explain "$work/dp2.plan" | grep "dp all_reduce" > "$work/predicted.txt"

run() { # env-prefix log profile
  env $1 mpirun --oversubscribe -np 2 "$llmc" train "$work/dp2.plan" \
    --data "$work/train.bin" --steps "$steps" --log "$work/$2" --profile \
    2> "$work/$3"
}
run "" async.jsonl async.profile
run "LLMC_DP_BLOCKING=1" blocking.jsonl blocking.profile

/usr/bin/python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
def ms(profile, kernel):
    for line in open(f"{work}/{profile}"):
        f = line.split()
        if f and f[0] == kernel:
            return float(f[1])
    return 0.0
exposed = ms("async.profile", "all_reduce_mean_wait") + ms("async.profile", "all_reduce_mean_start")
total = ms("blocking.profile", "all_reduce_mean_start") + ms("blocking.profile", "all_reduce_mean_wait")
step_async = [json.loads(l)["tokens_per_s"] for l in open(f"{work}/async.jsonl")][1:]
step_block = [json.loads(l)["tokens_per_s"] for l in open(f"{work}/blocking.jsonl")][1:]
sent = [json.loads(l)["comm_bytes_sent"] for l in open(f"{work}/async.jsonl")]
pred = open(f"{work}/predicted.txt").read().strip()
n = int(re.search(r"(\d+) elements", pred).group(1))
minimum = 2 * (2 - 1) / 2 * 4 * n
print("dp=2, %d gradient elements" % n)
print("bytes sent per rank per step: measured %d, ring minimum %d (ratio %.2f)"
      % (sent[-1], minimum, sent[-1] / minimum))
print("DP communication per step: blocking %.1f ms, exposed when overlapped %.1f ms"
      % (total, exposed))
print("hidden behind backward: %.0f%%" % (100 * (1 - exposed / total) if total else 0))
print("tokens/s: overlapped %.0f, blocking %.0f"
      % (sorted(step_async)[len(step_async)//2], sorted(step_block)[len(step_block)//2]))
PY
