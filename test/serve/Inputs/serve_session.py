"""Starts `llmc serve` on a free port, runs a client against it, stops it.

usage: serve_session.py [--np N] 'SERVE ARGS' -- CLIENT COMMAND (with {url})
The server's "serving ... on http://HOST:PORT" line gives the URL. After
the client, SIGTERM must stop the server with exit code 0 within 20 s.
Prints the client's output, then the server's exit; exits 1 if either
failed (or the server never listened), killing anything left behind.
With --np N (a tensor-parallel plan) the server runs under mpirun -np N,
and SIGTERM goes to rank 0, which drains and stops the other ranks (mpirun
itself would end the job on SIGTERM with exit code 1, by its own policy).
Prints the server's last line too.
"""
import os
import re
import shlex
import signal
import subprocess
import sys
import time

args = sys.argv[1:]
launch = []
if args[0] == "--np":
    launch = ["env", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "mpirun",
              "--oversubscribe", "-np", args[1]]
    args = args[2:]
sep = args.index("--")
serve_args, client = shlex.split(args[0]), args[sep + 1:]
llmc = os.path.join(os.environ["LLMC_TOOLS_DIR"], "llmc")
server = subprocess.Popen(launch + [llmc, "serve"] + serve_args +
                          ["--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True)


def rank0(session):
    """The pid of MPI rank 0 among the processes of `session`."""
    for pid in os.listdir("/proc"):
        try:
            if not pid.isdigit() or os.getsid(int(pid)) != session:
                continue
            env = open("/proc/%s/environ" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK=0" in env:
            return int(pid)
    sys.exit("no rank 0 among the server's processes")


try:
    url, start = None, time.time()
    while url is None and time.time() - start < 60:
        line = server.stdout.readline()
        if not line:
            break
        print(line.rstrip(), flush=True)
        m = re.search(r"serving .* on (http://\S+)", line)
        url = m.group(1) if m else None
    if url is None:
        sys.exit("the server did not start listening")
    result = subprocess.run([a.replace("{url}", url) for a in client],
                            timeout=300)
    os.kill(rank0(server.pid) if launch else server.pid, signal.SIGTERM)
    out, _ = server.communicate(timeout=20)
    code = server.returncode
    for line in out.splitlines():
        print(line.rstrip(), flush=True)
    print("server exited with %d after SIGTERM" % code)
    if result.returncode != 0 or code != 0:
        sys.exit(1)
finally:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
