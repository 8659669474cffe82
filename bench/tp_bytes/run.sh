#!/usr/bin/env bash
# bench/tp_bytes: the bytes tensor parallelism moves per step, as the runtime
# accounts them (bench/mpi_bytes measures what MPI sent), against Megatron's analytical minimum (Korthikanti et al. 2022,
# §4.2.2): per transformer layer per step, 4 all-reduces of b·s·h elements
# without sequence parallelism (2 forward, 2 backward), and with it the same
# bytes as 4 all-gathers + 4 reduce-scatters. A ring all-reduce of n elements
# sends 2(p-1)/p·4n bytes per rank. The remainder is what lies outside the
# layers: the vocab-parallel embedding and LM head, the cross-entropy's
# 3 floats per token, the gradients of replicated parameters under SP, and
# the gradient norm.
# Runs the bench/train_cpu model (d 512, 8 layers) with micro-batch 2, seq
# 256, on tp=2 and tp=2 + SP, 2 steps each.
set -euo pipefail
source "$(dirname "$0")/../common.sh"
use_mpi_ranks
b=2 s=256 tp=2

make_tokens 200000
for variant in tp sp; do
  flags=(--mesh "tp=$tp")
  if [ "$variant" = sp ]; then flags+=(--sequence-parallel); fi
  "$llmc" compile "$here/../train_cpu/config.json" --mode train \
    --micro-batch "$b" --seq "$s" "${flags[@]}" -o "$work/$variant.plan"
  "$llmc" explain "$work/$variant.plan" > "$work/$variant.txt"
  mpirun --oversubscribe -np "$tp" "$llmc" train "$work/$variant.plan" \
    --data "$work/train.bin" --steps 2 --log "$work/$variant.jsonl"
done

/usr/bin/python3 - "$work" "$here/../train_cpu/config.json" "$b" "$s" "$tp" <<'PY'
import json, re, sys
work, config, b, s, p = sys.argv[1], json.load(open(sys.argv[2])), *map(int, sys.argv[3:])
h, layers = config["n_embd"], config["n_layer"]
all_reduce = lambda n: 2 * (p - 1) * n * 4 // p
minimum = layers * 4 * all_reduce(b * s * h)
print("tp=%d, b=%d s=%d h=%d, %d layers: Megatron minimum %d bytes per rank "
      "per step (4 all-reduces of b*s*h per layer)" % (p, b, s, h, layers, minimum))
for variant, name in (("tp", "TP"), ("sp", "TP+SP")):
    text = open("%s/%s.txt" % (work, variant)).read()
    predicted = int(re.search(r"total: (\d+) bytes", text).group(1))
    accounted = [json.loads(l)["comm_bytes_sent"] for l in open("%s/%s.jsonl" % (work, variant))]
    assert all(m == predicted for m in accounted), (accounted, predicted)
    print("%-6s accounted %d bytes/step (= llmc explain), %.3fx the minimum; "
          "outside the layers %d bytes (%.1f%%)"
          % (name, accounted[-1], accounted[-1] / minimum, accounted[-1] - minimum,
             100.0 * (accounted[-1] - minimum) / accounted[-1]))
PY
