"""Checks that two `llmc train --log` files hold the same per-step losses.

usage: compare_losses.py A.jsonl B.jsonl RTOL STEPS
Prints each step and exits non-zero when any step differs by more than RTOL
relative or either log does not have STEPS steps.
"""
import json
import sys

a_path, b_path, rtol, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
a = [json.loads(line)["loss"] for line in open(a_path)]
b = [json.loads(line)["loss"] for line in open(b_path)]
worst = 0.0
for step, (x, y) in enumerate(zip(a, b)):
    rel = abs(x - y) / abs(x)
    worst = max(worst, rel)
    print("step %2d  %.8f  %.8f  rel %.2e" % (step, x, y, rel))
if len(a) != steps or len(b) != steps:
    sys.exit("expected %d steps, got %d and %d" % (steps, len(a), len(b)))
if worst > rtol:
    sys.exit("losses differ by %.2e relative (bound %.0e)" % (worst, rtol))
print("same losses: worst relative difference %.2e over %d steps" % (worst, steps))
