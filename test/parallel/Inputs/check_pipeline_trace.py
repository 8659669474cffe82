"""Checks the Chrome traces of a pipelined `llmc train --trace`: on every
rank and step, the microbatch programs (F3, B3) run in the order that
`llmc explain --schedule` draws for the rank's stage, each receive and send
of the stage is traced, and the kernels of the step fall inside the
programs or the optimizer after them.

usage: check_pipeline_trace.py SCHEDULE.txt TRACE.rank0.json ...
(rank r runs stage r: one rank per stage)
"""
import collections
import json
import re
import sys

rows = re.findall(r"stage (\d+) \| (.*)", open(sys.argv[1]).read())
order = {int(s): re.findall(r"[FB]\d+", row) for s, row in rows}
for path in sys.argv[2:]:
    events = [e for e in json.load(open(path))["traceEvents"] if e["ph"] == "X"]
    rank = events[0]["pid"]
    by_step = collections.defaultdict(list)
    for e in events:
        by_step[e["args"]["step"]].append(e)
    for step, evs in by_step.items():
        programs = [e["name"] for e in evs if e["cat"] == "microbatch"]
        assert programs == order[rank], (rank, step, programs, order[rank])
        p2p = collections.Counter(e["name"].split()[0] for e in evs
                                  if e["cat"] == "p2p")
        m = len(programs) // 2
        expected = {}
        if rank > 0:
            expected.update({"recv-act": m, "send-grad": m})
        if rank + 1 < len(order):
            expected.update({"send-act": m, "recv-grad": m})
        assert p2p == expected, (rank, step, p2p, expected)
        kernels = [e for e in evs if e["cat"] not in ("microbatch", "p2p")]
        first = min(e["ts"] for e in evs if e["cat"] == "microbatch")
        assert all(k["ts"] >= first for k in kernels), (rank, step)
    print("rank %d: %d steps, programs %s, p2p %s" % (
        rank, len(by_step), " ".join(order[rank]),
        ", ".join("%s x%d" % kv for kv in sorted(p2p.items()))))
