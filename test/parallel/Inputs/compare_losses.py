"""Checks that two `llmc train --log` files hold the same per-step losses.

usage: compare_losses.py A.jsonl B.jsonl RTOL STEPS
Compares the steps both logs hold (a resumed run's log starts later) and
exits non-zero when any differs by more than RTOL relative or there are not
exactly STEPS of them.
"""
import json
import sys

a_path, b_path, rtol, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])


def losses(path):
    return {r["step"]: r["loss"] for r in map(json.loads, open(path))}


a, b = losses(a_path), losses(b_path)
common = sorted(set(a) & set(b))
worst = 0.0
for step in common:
    x, y = a[step], b[step]
    rel = abs(x - y) / abs(x)
    worst = max(worst, rel)
    print("step %2d  %.8f  %.8f  rel %.2e" % (step, x, y, rel))
if len(common) != steps:
    sys.exit("expected %d common steps, got %d (logs hold %d and %d)"
             % (steps, len(common), len(a), len(b)))
if worst > rtol:
    sys.exit("losses differ by %.2e relative (bound %.0e)" % (worst, rtol))
print("same losses: worst relative difference %.2e over %d steps" % (worst, steps))
