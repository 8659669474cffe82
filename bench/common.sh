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

# $work/pp.jsonl: one prompt of COUNT random ids below 8000 (a prefill);
# $work/tg.jsonl: one of 16 (the start of a decode run).
make_prompts() {
  /usr/bin/python3 -c "import json, random; r = random.Random(1);
print(json.dumps({'prompt_ids': [r.randrange(8000) for _ in range($1)]}))" \
    > "$work/pp.jsonl"
  /usr/bin/python3 -c "import json, random; r = random.Random(2);
print(json.dumps({'prompt_ids': [r.randrange(8000) for _ in range(16)]}))" \
    > "$work/tg.jsonl"
}

# Ranks share the cores over shared memory, one thread each; as root,
# OpenMPI needs its consent.
use_mpi_ranks() {
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_btl=self,vader OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
}
