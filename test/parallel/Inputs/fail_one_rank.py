"""Runs an mpirun job in which one rank is given a failure, and checks that
the whole job ends.

usage: fail_one_rank.py NP 'GOOD ARGS' 'FAILING ARGS'
Launches `llmc` with GOOD ARGS on ranks 0..NP-2 and with FAILING ARGS on the
last rank (mpirun's MPMD form). The job must end within 60 s with a non-zero
exit code; a hang fails the test. Prints the ranks' output, then
"exit code N after T s".
"""
import os
import shlex
import subprocess
import sys
import time

np, good, bad = int(sys.argv[1]), sys.argv[2], sys.argv[3]
llmc = os.path.join(os.environ["LLMC_TOOLS_DIR"], "llmc")
mpirun = ["env", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "mpirun",
          "--oversubscribe"]
cmd = mpirun + ["-np", str(np - 1), llmc] + shlex.split(good) + \
    [":", "-np", "1", llmc] + shlex.split(bad)
start = time.time()
# Its own session, so a hang can be killed with every rank it started.
job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, start_new_session=True)
try:
    out, _ = job.communicate(timeout=60)
except subprocess.TimeoutExpired:
    os.killpg(job.pid, 9)
    sys.exit("the job did not end within 60 s after one rank failed: a hang")
print(out)
print("exit code %d after %.1f s" % (job.returncode, time.time() - start))
if job.returncode == 0:
    sys.exit("the job exited 0 although one rank failed")
