#!/usr/bin/env bash
# bench/train_cpu: llmc against PyTorch on one CPU training run, side by side.
# Model: GPT-2 style, vocab 8192, d 512, 8 layers, 8 heads, seq 256, batch 8,
# fp32, AdamW. Both sides get 2 threads of the same OpenMP OpenBLAS; llmc
# runs twice, with its GEMMs on oneDNN (the default) and on OpenBLAS
# (LLMC_GEMM=openblas). Prints tokens/s and peak RSS of each, their ratios,
# and the GFLOP/s llmc reaches as a fraction of this machine's measured
# sgemm rate. Then bf16 mixed precision: llmc --precision bf16-mixed
# against PyTorch under torch.autocast("cpu", dtype=torch.bfloat16).
set -euo pipefail
source "$(dirname "$0")/../common.sh"
steps=${STEPS:-6}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
B=8 T=256

make_tokens 200000
"$llmc" compile "$here/config.json" --mode train --micro-batch $B --seq $T \
  -o "$work/model.plan"
"$llmc" compile "$here/config.json" --mode train --micro-batch $B --seq $T \
  --precision bf16-mixed -o "$work/bf16.plan"

for run in onednn:model openblas:model bf16:bf16; do
  name=${run%%:*} plan=${run#*:}
  gemm=$([ "$name" = openblas ] && echo openblas || echo onednn)
  LLMC_GEMM=$gemm /usr/bin/time -f "%M" -o "$work/llmc-$name.rss" \
    "$llmc" train "$work/$plan.plan" --data "$work/train.bin" \
    --steps "$steps" --log "$work/llmc-$name.jsonl" \
    --lr 3e-4 --weight-decay 0.1 --clip-grad-norm 1.0 2>/dev/null
done
/usr/bin/time -f "%M" -o "$work/torch.rss" /usr/bin/python3 \
  "$here/torch_bench.py" "$here/config.json" "$work/train.bin" $B $T "$steps" \
  > "$work/torch.json"
/usr/bin/time -f "%M" -o "$work/torch-bf16.rss" /usr/bin/python3 \
  "$here/torch_bench.py" "$here/config.json" "$work/train.bin" $B $T "$steps" \
  bf16 > "$work/torch-bf16.json"

/usr/bin/python3 - "$work" "$B" "$T" <<'PY'
import json, statistics, sys
work, B, T = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def llmc(gemm):
    steps = [json.loads(l) for l in open("%s/llmc-%s.jsonl" % (work, gemm))]
    rss = int(open("%s/llmc-%s.rss" % (work, gemm)).read().split()[-1]) / 1024
    return statistics.median(s["tokens_per_s"] for s in steps[1:]), rss
llmc_tps, llmc_rss = llmc("onednn")
blas_tps, blas_rss = llmc("openblas")
torch = json.load(open(work + "/torch.json"))
torch_rss = int(open(work + "/torch.rss").read().split()[-1]) / 1024
L, d, N = 8, 512, torch["params"]
flops_per_step = 6 * N * B * T + 12 * L * d * T * T * B
gflops = flops_per_step * llmc_tps / (B * T) / 1e9
print("model: %d params, batch %d x seq %d, fp32, 2 threads" % (N, B, T))
print("%-16s %12s %14s" % ("", "tokens/s", "peak RSS MiB"))
print("%-16s %12.0f %14.0f" % ("llmc (oneDNN)", llmc_tps, llmc_rss))
print("%-16s %12.0f %14.0f" % ("llmc (OpenBLAS)", blas_tps, blas_rss))
print("%-16s %12.0f %14.0f" % ("pytorch", torch["tokens_per_s"], torch_rss))
print("tokens/s ratio llmc/pytorch: %.2fx" % (llmc_tps / torch["tokens_per_s"]))
print("tokens/s ratio oneDNN/OpenBLAS: %.2fx" % (llmc_tps / blas_tps))
print("peak RSS ratio llmc/pytorch: %.2fx" % (llmc_rss / torch_rss))
print("llmc: %.0f GFLOP/s = %.0f%% of measured sgemm %.0f GFLOP/s"
      % (gflops, 100 * gflops / torch["sgemm_gflops"], torch["sgemm_gflops"]))
bf16_tps, bf16_rss = llmc("bf16")
autocast = json.load(open(work + "/torch-bf16.json"))
autocast_rss = int(open(work + "/torch-bf16.rss").read().split()[-1]) / 1024
print("bf16 mixed precision:")
print("%-16s %12.0f %14.0f" % ("llmc bf16-mixed", bf16_tps, bf16_rss))
print("%-16s %12.0f %14.0f" % ("torch autocast", autocast["tokens_per_s"],
                               autocast_rss))
print("tokens/s ratio llmc/pytorch (bf16): %.2fx"
      % (bf16_tps / autocast["tokens_per_s"]))
print("llmc bf16-mixed over llmc fp32: %.2fx" % (bf16_tps / llmc_tps))
bf16_gflops = flops_per_step * bf16_tps / (B * T) / 1e9
print("llmc bf16-mixed: %.0f GFLOP/s = %.0f%% of measured bf16 GEMM %.0f GFLOP/s"
      % (bf16_gflops, 100 * bf16_gflops / autocast["bf16_gemm_gflops"],
         autocast["bf16_gemm_gflops"]))
PY
