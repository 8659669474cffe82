"""Checks that two `llmc train --log` files hold the same per-step losses,
and the same gradient norm at the first step they share. The norm catches
gradient errors that AdamW, nearly invariant to a gradient's scale, hides
from the losses; later norms are not compared, since near a flat loss they
amplify rounding differences of 1e-7 in the weights to 1e-4.

usage: compare_losses.py A.jsonl B.jsonl RTOL STEPS
Compares the steps both logs hold (a resumed run's log starts later) and
exits non-zero when a loss (or the first norm) differs by more than RTOL
relative or there are not exactly STEPS of them.
"""
import json
import sys

a_path, b_path, rtol, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])


def records(path):
    return {r["step"]: r for r in map(json.loads, open(path))}


a, b = records(a_path), records(b_path)
common = sorted(set(a) & set(b))
worst = 0.0
first = common[0] if common else None
worst_norm = (abs(a[first]["grad_norm"] - b[first]["grad_norm"]) /
              abs(a[first]["grad_norm"])) if common else 0.0
for step in common:
    x, y = a[step]["loss"], b[step]["loss"]
    rel = abs(x - y) / abs(x)
    worst = max(worst, rel)
    print("step %2d  %.8f  %.8f  rel %.2e" % (step, x, y, rel))
if len(common) != steps:
    sys.exit("expected %d common steps, got %d (logs hold %d and %d)"
             % (steps, len(common), len(a), len(b)))
if worst > rtol:
    sys.exit("losses differ by %.2e relative (bound %.0e)" % (worst, rtol))
if worst_norm > rtol:
    sys.exit("the first gradient norms differ by %.2e relative (bound %.0e)"
             % (worst_norm, rtol))
print("same losses: worst relative difference %.2e over %d steps (first "
      "gradient norm %.2e)" % (worst, steps, worst_norm))
