"""torchrun_job.py NPROC [--last-rank ARG...] -- TOOL ARG...: runs llmc's TOOL
(from LLMC_TOOLS_DIR) on NPROC processes started by PyTorch's torchrun, on a
free port, and exits with torchrun's status; fails after 120 s rather than
hang. The arguments after --last-rank are added to the last rank's command
only (to inject a fault there).

Debian's torchrun (torch 1.13 on Python 3.11) cannot parse its own default
--redirects/--tee of 0 (Python 3.11 no longer lists the flag value 0 among
an IntFlag's members), so stderr is teed (2), which it can parse.
"""
import os
import socket
import subprocess
import sys

if len(sys.argv) > 1 and sys.argv[1] == "--rank-exec":
    # Inside torchrun: become the tool, with the extra arguments on the last
    # rank.
    count = int(sys.argv[2])
    extra, command = sys.argv[3:3 + count], sys.argv[3 + count:]
    if int(os.environ["RANK"]) == int(os.environ["WORLD_SIZE"]) - 1:
        command += extra
    os.execv(command[0], command)

nproc = sys.argv[1]
split = sys.argv.index("--")
extra = sys.argv[3:split] if sys.argv[2:3] == ["--last-rank"] else []
tool = os.path.join(os.environ["LLMC_TOOLS_DIR"], sys.argv[split + 1])
def free_pair():
    """A port P with P + 1 free too: torchrun's store listens on P, llmc's
    rendezvous on P + 1 (runtime/comm/torchrun_world.h)."""
    while True:
        with socket.socket() as s, socket.socket() as t:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            try:
                t.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port


port = free_pair()
logs = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"torchrun-{port}")
env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
# Separate MPI jobs reach each other over TCP only: shared memory (vader,
# which lit's configuration picks for mpirun) does not span jobs.
env["OMPI_MCA_btl"] = "self,tcp"
try:
    sys.exit(subprocess.run(
        ["torchrun", "--nproc_per_node", nproc, "--master_addr", "127.0.0.1",
         "--master_port", str(port), "--redirects", "2", "--tee", "2",
         "--log_dir", logs, __file__, "--rank-exec", str(len(extra)), *extra,
         tool, *sys.argv[split + 2:]], env=env, timeout=120).returncode)
except subprocess.TimeoutExpired:
    sys.exit("torchrun_job.py: still running after 120 s")
