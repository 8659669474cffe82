"""Checks ZeRO's per-rank memory from `llmc explain` of stages 0-3: stage 1
halves (for dp=2) the optimizer state, stage 3 the parameters, and the arena
shrinks from stage 0 to 1 and from 2 to 3 (llmc's stages 1 and 2 coincide:
each full gradient lives only until its reduce-scatter).

usage: check_zero_memory.py Z0.txt Z1.txt Z2.txt Z3.txt
"""
import re
import sys

UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}


def size(text, label):
    """Bytes of a `label SIZE UNIT` line (explain rounds to 0.01 of UNIT)."""
    m = re.search(r"^\s*%s\s+([0-9.]+) (B|KiB|MiB|GiB)" % label, text, re.M)
    return float(m.group(1)) * UNITS[m.group(2)], m.group(1) + " " + m.group(2)


def halved(full, half):
    return abs(2 * half[0] - full[0]) <= 0.002 * full[0]


texts = [open(path).read() for path in sys.argv[1:5]]
state = [size(t, "optimizer state") for t in texts]
params = [size(t, "params") for t in texts]
arena = [size(t, "arena:") for t in texts]
assert halved(state[0], state[1]), state
assert halved(params[0], params[3]), params
assert arena[0][0] > arena[1][0] >= arena[2][0] > arena[3][0], arena
print("optimizer state per rank: %s -> %s (stage 1)" % (state[0][1], state[1][1]))
print("params per rank: %s -> %s (stage 3)" % (params[0][1], params[3][1]))
print("arena: %s > %s >= %s > %s (stages 0-3)" % tuple(a[1] for a in arena))
