"""Checks that every step of a `llmc train --log` sent the bytes that
`llmc explain` predicts per step (its `total:` line).

usage: check_comm_bytes.py EXPLAIN.txt LOG.jsonl STEPS
"""
import json
import re
import sys

explain, log, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
want = int(re.search(r"total: (\d+) bytes sent per rank per step",
                     open(explain).read()).group(1))
got = [json.loads(line)["comm_bytes_sent"] for line in open(log)]
if want <= 0 or got != [want] * steps:
    sys.exit("measured %s, predicted %d per step" % (got, want))
print("measured", got, "predicted", want)
