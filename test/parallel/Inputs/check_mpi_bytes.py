#!/usr/bin/env python3
"""Compares the bytes Open MPI sent per step with the runtime's accounting.

usage: check_mpi_bytes.py WORK NAME (equal|at-least)

WORK/NAME.1.*.prof and WORK/NAME.3.*.prof are Open MPI's monitoring files of
runs of 1 and 3 steps (bench/mpi_bytes/mpi_bytes.py reads them); their
difference over 2 steps is what each rank sent per step, without start-up.
WORK/NAME.jsonl is the 3-step run's --log, whose comm_bytes_sent is the
runtime's accounted figure (each collective's ring formula).
  equal     every rank sent the accounted bytes, give or take 16 (collectives
            Open MPI runs as rings, or with two ranks, where every
            algorithm moves the ring's bytes; a few bytes of a rounding)
  at-least  the ranks together sent at least the accounted total: a ring is
            the least any all-reduce or reduce-scatter can send in all
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../../bench/mpi_bytes"))
import mpi_bytes  # noqa: E402

work, name, mode = sys.argv[1:]
short = mpi_bytes.bytes_by_rank("%s/%s.1" % (work, name))
long = mpi_bytes.bytes_by_rank("%s/%s.3" % (work, name))
measured = [(b - a) // 2 for a, b in zip(short, long)]
accounted = [json.loads(line)["comm_bytes_sent"]
             for line in open("%s/%s.jsonl" % (work, name))
             if "comm_bytes_sent" in line][-1]
print("%s: accounted %d bytes per rank per step, measured %s"
      % (name, accounted, measured))
assert accounted > 0 and all(m > 0 for m in measured), "nothing was sent"
if mode == "equal":
    assert all(abs(m - accounted) <= 16 for m in measured), "not equal"
else:
    assert sum(measured) >= len(measured) * accounted - 16, "below the ring"
