# Compares two `llmc train --log` JSON-lines files step by step: the loss
# and the gradient norm of every step within a relative tolerance. Prints
# one line and exits 1 on a mismatch.
import json
import sys

a_path, b_path, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
a = [json.loads(line) for line in open(a_path)]
b = [json.loads(line) for line in open(b_path)]
if len(a) != len(b) or not a:
    sys.exit(f"steps differ: {len(a)} in {a_path}, {len(b)} in {b_path}")
worst = 0.0
for x, y in zip(a, b):
    for key in ("loss", "grad_norm"):
        error = abs(x[key] - y[key]) / (1 + abs(x[key]))
        worst = max(worst, error)
        if error > tol:
            sys.exit(f"step {x['step']}: {key} {x[key]} vs {y[key]}")
print(f"logs match: {len(a)} steps, worst relative difference {worst:.1e}")
