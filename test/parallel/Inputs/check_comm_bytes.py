"""Checks that every step of a `llmc train --log` sent the bytes that
`llmc explain` predicts per step: in all (its `total:` line) and per kind of
collective (its per-axis lines, summed over the axes).

usage: check_comm_bytes.py EXPLAIN.txt LOG.jsonl STEPS
"""
import collections
import json
import re
import sys

explain, log, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(explain).read()
want = int(re.search(r"total: (\d+) bytes sent per rank per step", text).group(1))
want_kinds = collections.Counter()
for kind, n in re.findall(r"^  \w+ (\w+): \d+ calls, \d+ elements, (\d+) bytes",
                          text, re.M):
    if int(n):
        want_kinds[kind] += int(n)
records = [json.loads(line) for line in open(log)]
got = [r["comm_bytes_sent"] for r in records]
if want <= 0 or got != [want] * steps:
    sys.exit("measured %s, predicted %d per step" % (got, want))
for r in records:
    if dict(want_kinds) != r["comm_bytes_by_kind"]:
        sys.exit("step %d by kind: measured %s, predicted %s"
                 % (r["step"], r["comm_bytes_by_kind"], dict(want_kinds)))
print("measured", got, "predicted", want, "by kind", dict(sorted(want_kinds.items())))
