#!/usr/bin/env bash
# bench/dp_overlap: how much of data-parallel gradient communication hides
# behind the backward pass. Two ranks train the bench/train_cpu model
# (d 512, 8 layers) with micro-batch MB and seq SEQ each (default 1 x 32, so
# that the 118 MB of gradients weigh against the compute), in three modes, in
# ROUNDS interleaved rounds (so drifts of the shared machine hit all three):
#  - overlap: as planned, each gradient bucket's non-blocking all-reduce
#    starts when the backward pass completes it, and is waited for before
#    the norm (the executor advances in-flight buckets between kernels);
#  - blocking (a plan compiled with --dp-comm blocking): the same
#    all-reduces, all after the backward pass, so nothing hides them;
#  - none (--dp-comm none): the same compute without the all-reduces.
# Per mode, the step time is the median over steps 2..STEPS and rounds.
# Communication cost = blocking - none; exposed = overlap - none;
# hidden fraction = 1 - exposed / cost. Step times include the ranks
# waiting for each other (skew), which synchronous data parallelism pays
# in both communicating modes and not in `none`.
# Also prints the bytes each rank sends per step against the analytical
# minimum of a ring all-reduce of every gradient, 2(p-1)/p · 4 · params.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
steps=${STEPS:-16}
mb=${MB:-1} seq=${SEQ:-32}
rounds=${ROUNDS:-3}
use_mpi_ranks

make_tokens 400000
for mode in overlap blocking none; do
  "$llmc" compile "$root/bench/train_cpu/config.json" --mode train \
    --micro-batch "$mb" --seq "$seq" --mesh dp=2 --dp-comm "$mode" \
    -o "$work/$mode.plan"
done
"$llmc" explain "$work/overlap.plan" | grep "dp all_reduce" > "$work/predicted.txt"

run() { # mode round
  mpirun --oversubscribe -np 2 "$llmc" train "$work/$1.plan" \
    --data "$work/train.bin" --steps "$steps" --log "$work/$1.$2.jsonl" \
    --progress never
}
for r in $(seq "$rounds"); do
  run overlap "$r"
  run blocking "$r"
  run none "$r"
done

/usr/bin/python3 - "$work" "$rounds" "$mb" "$seq" <<'PY'
import glob, json, re, statistics, sys
work, rounds, mb, seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def records(mode):
    out = []
    for path in sorted(glob.glob(f"{work}/{mode}.*.jsonl")):
        out += [json.loads(l) for l in open(path)][1:]  # step 1 warms up
    return out
def step_ms(mode):
    # tokens_per_s is per step; every step trains the same tokens.
    r = records(mode)
    tokens = 2 * mb * seq  # ranks x micro-batch x seq
    return statistics.median(1e3 * tokens / x["tokens_per_s"] for x in r)
t = {m: step_ms(m) for m in ("overlap", "blocking", "none")}
sent = records("overlap")[-1]["comm_bytes_sent"]
pred = open(f"{work}/predicted.txt").read().strip()
n = int(re.search(r"(\d+) elements", pred).group(1))
minimum = 2 * (2 - 1) / 2 * 4 * n
print("dp=2, %d gradient elements, micro-batch %d x seq %d per rank" % (n, mb, seq))
print("bytes sent per rank per step: accounted %d, ring minimum %d (ratio %.2f)"
      % (sent, minimum, sent / minimum))
print("median step (%d rounds): overlap %.1f ms, blocking %.1f ms, no communication %.1f ms"
      % (rounds, t["overlap"], t["blocking"], t["none"]))
cost, exposed = t["blocking"] - t["none"], t["overlap"] - t["none"]
print("DP communication per step: %.1f ms when blocking, %.1f ms exposed when overlapped"
      % (cost, exposed))
print("hidden behind backward: %.0f%%" % (100 * (1 - exposed / cost) if cost > 0 else 0))
PY
