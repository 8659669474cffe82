#!/usr/bin/env python3
"""The bytes each rank of an MPI job sent, as Open MPI itself counted them.

    mpi_bytes.py PREFIX            # prints one JSON list: bytes sent per rank

Open MPI's monitoring components (pml, coll, osc "monitoring") count every
message the PML sends, collectives included after the collective component
has broken them into point-to-point messages, so the figures are what MPI
moved, not what llmc asked for. Enable them for a job with

    OMPI_MCA_pml_monitoring_enable=2 OMPI_MCA_pml_monitoring_enable_output=3 \\
    OMPI_MCA_pml_monitoring_filename=PREFIX mpirun ...

and each rank writes PREFIX.RANK.prof at MPI_Finalize. Its "# POINT TO
POINT" section has a line per peer: E (messages the program sent) or I
(messages MPI sent internally, e.g. for a collective), rank, peer, "N bytes".
Both count here. Per-step figures come from two runs of different lengths:
(bytes(long) - bytes(short)) / (steps(long) - steps(short)) leaves out what
start-up and shut-down send.
"""
import glob
import json
import re
import sys


def bytes_by_rank(prefix):
    files = glob.glob(prefix + ".*.prof")
    if not files:
        sys.exit("mpi_bytes.py: no %s.*.prof (was monitoring enabled?)" % prefix)
    sent = {}
    for path in files:
        rank = int(path[len(prefix) + 1:-len(".prof")])
        total, section = 0, None
        for line in open(path):
            if line.startswith("#"):
                section = line.strip()
                continue
            if section == "# POINT TO POINT":
                m = re.match(r"[EI]\t\d+\t\d+\t(\d+) bytes", line)
                if m:
                    total += int(m.group(1))
        sent[rank] = total
    return [sent[r] for r in sorted(sent)]


if __name__ == "__main__":
    print(json.dumps(bytes_by_rank(sys.argv[1])))
