"""slurm_cluster.py SCRATCH COMMAND [ARG...]: runs COMMAND on a one-node
Slurm cluster of its own, then takes the cluster down.

munged, slurmctld and slurmd run in the foreground on loopback, with every
file (munge socket, slurm.conf, state, logs) under SCRATCH and free ports, so
nothing on the machine is touched and two runs cannot meet. COMMAND sees
SLURM_CONF, so srun, sbatch and squeue reach this cluster. The node offers 8
CPUs whatever the machine has (SlurmdParameters=config_overrides), so tests
can start more tasks than there are cores. Exits with COMMAND's status; if the
node is not idle within 60 s, prints the daemons' logs and exits 1.
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time


_taken = set()


def free_port():
    """A free port below Linux's ephemeral range (32768-60999): a port the
    kernel hands out for bind(0) could be taken by another test's process
    between this check and slurmctld's bind ('Address already in use' was
    seen under ctest -j2)."""
    rng = random.Random(os.getpid())
    for _ in range(500):
        port = rng.randint(20000, 30000)
        if port in _taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    sys.exit("slurm_cluster.py: no free port in 20000-30000")


def write_config(scratch, node):
    conf = os.path.join(scratch, "slurm.conf")
    for sub in ("state", "spool"):
        os.makedirs(os.path.join(scratch, sub), exist_ok=True)
    with open(conf, "w") as f:
        f.write(f"""ClusterName=llmc-test
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SrunPortRange=60001-63000
AuthType=auth/munge
AuthInfo=socket={scratch}/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={scratch}/state
SlurmdSpoolDir={scratch}/spool
SlurmctldPidFile={scratch}/slurmctld.pid
SlurmdPidFile={scratch}/slurmd.pid
SlurmctldLogFile={scratch}/slurmctld.log
SlurmdLogFile={scratch}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmdParameters=config_overrides
NodeName={node} NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
    return conf


def logs(scratch):
    for name in ("munged.log", "slurmctld.log", "slurmd.log"):
        path = os.path.join(scratch, name)
        if os.path.exists(path):
            sys.stderr.write(f"--- {name}\n" + open(path).read()[-3000:])


def main():
    scratch, command = os.path.abspath(sys.argv[1]), sys.argv[2:]
    os.makedirs(scratch, exist_ok=True)
    # munged insists that only its owner can reach the key and the socket's
    # folder, and that others can only traverse it.
    os.chmod(scratch, 0o711)
    key = os.path.join(scratch, "munge.key")
    with open(key, "wb") as f:
        f.write(os.urandom(128))
    os.chmod(key, 0o600)
    node = socket.gethostname().split(".")[0]
    conf = write_config(scratch, node)
    env = dict(os.environ, SLURM_CONF=conf)
    daemons = []
    try:
        daemons.append(subprocess.Popen(
            ["munged", "--foreground", "--force", f"--key-file={key}",
             f"--socket={scratch}/munge.socket",
             f"--pid-file={scratch}/munged.pid",
             f"--log-file={scratch}/munged.log",
             f"--seed-file={scratch}/munged.seed"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(100):
            if os.path.exists(f"{scratch}/munge.socket"):
                break
            time.sleep(0.1)
        # In the foreground they log to stderr too: only their files keep it.
        quiet = dict(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        daemons.append(subprocess.Popen(["slurmctld", "-D", "-i"], **quiet))
        daemons.append(subprocess.Popen(["slurmd", "-D", "-N", node], **quiet))
        deadline = time.time() + 60
        while True:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env,
                                   capture_output=True, text=True).stdout
            if state.strip() == "idle":
                break
            if time.time() > deadline:
                sys.stderr.write(f"slurm_cluster.py: node not idle ({state.strip()!r})\n")
                logs(scratch)
                return 1
            time.sleep(0.5)
        return subprocess.run(command, env=env).returncode
    finally:
        # slurmd first, munged last: each still needs the ones started before.
        for d in reversed(daemons):
            d.send_signal(signal.SIGTERM)
            try:
                d.wait(timeout=20)
            except subprocess.TimeoutExpired:
                d.kill()


if __name__ == "__main__":
    sys.exit(main())
