# slurm_jobs.sh TMP INPUTS: the jobs of slurm.test, run inside
# slurm_cluster.py. Each section prints a header, the job's output and, where
# the job must fail, its exit status.
t=$1 inputs=$2
export PATH=$LLMC_TOOLS_DIR:$PATH OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
cd "$t"

echo "== srun --mpi=pmix"
srun --mpi=pmix -n 4 llmc train dp2tp2.plan --data train.bin --steps 6 \
  --log srun.jsonl 2>&1 || exit 1

echo "== sbatch example"
export DATA=$t/train.bin CONFIG=$inputs/../../Frontends/Inputs/gpt2-mini.json
export MICRO_BATCH=2 SEQ=8 STEPS=6 SAVE_EVERY=3 RUN=$t/example
sbatch --wait --output=example.%j.out "$inputs/../../../examples/slurm/train.sbatch" \
  > /dev/null || { cat example.*.out; exit 1; }
cat example.*.out
echo "== sbatch example again"
rm example.*.out
sbatch --wait --output=example.%j.out "$inputs/../../../examples/slurm/train.sbatch" \
  > /dev/null || { cat example.*.out; exit 1; }
cat example.*.out

echo "== fault on the last task"
# srun's --multi-prog gives the last task its own command line.
printf '0-2 llmc train dp2tp2.plan --data train.bin --steps 100\n3 llmc train dp2tp2.plan --data train.bin --steps 100 --inject-fault step:2\n' > fault.conf
srun --mpi=pmix -n 4 --multi-prog fault.conf 2>&1
echo "exit status $?"

echo "== srun --mpi=none"
srun --mpi=none -n 2 llmc train dp2tp2.plan --data train.bin --steps 1 2>&1 | sort -u
echo "== one-device plan"
srun --mpi=pmix -n 2 llmc train one.plan --data train.bin --steps 1 2>&1 | sort -u
exit 0
