"""Checks Chrome traces of `llmc train --trace`: per file, the process is
named after its rank, every step has one complete event per kernel of the
plan (the kernel count comes from `llmc explain`), in order and not
overlapping; prints the steps, kernels and collectives seen.

usage: check_trace.py EXPLAIN.txt TRACE.json...
"""
import collections
import json
import re
import sys

explain = open(sys.argv[1]).read()
kernels = int(re.search(r"^kernels: (\d+)", explain, re.M).group(1))
for path in sys.argv[2:]:
    events = json.load(open(path))["traceEvents"]
    meta = [e for e in events if e["ph"] == "M"]
    runs = [e for e in events if e["ph"] == "X"]
    rank = meta[0]["pid"]
    assert meta[0]["args"]["name"] == "rank %d" % rank, meta
    by_step = collections.defaultdict(list)
    for e in runs:
        assert e["pid"] == rank and e["dur"] >= 0, e
        by_step[e["args"]["step"]].append(e)
    for step, evs in by_step.items():
        assert [e["args"]["kernel"] for e in evs] == list(range(kernels)), step
        for a, b in zip(evs, evs[1:]):
            assert a["ts"] + a["dur"] <= b["ts"] + 1e-3, (a, b)
    collectives = sorted({e["name"] for e in runs
                          if e["name"].startswith(("all_", "reduce_scatter"))})
    print("rank %d: %d steps of %d kernels, collectives %s"
          % (rank, len(by_step), kernels, ", ".join(collectives) or "none"))
