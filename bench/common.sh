# Sourced by the bench/*/run.sh scripts: where things are, a scratch
# directory removed on exit, a token file, and the settings for running
# several ranks on this machine under mpirun.
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/../.." && pwd)
llmc=${LLMC:-$root/build/bin/llmc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# $work/train.bin: COUNT random tokens of the 8192-token vocabulary.
make_tokens() {
  /usr/bin/python3 "$root/test/reference/make_tokens.py" \
    --out "$work/train.bin" --count "$1" --vocab 8192 --seed 1 >/dev/null
}

# Ranks share the cores over shared memory, one thread each; as root,
# OpenMPI needs its consent.
use_mpi_ranks() {
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_btl=self,vader OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
}
