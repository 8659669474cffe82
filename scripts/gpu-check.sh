#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU:
#  1. llmc-gpu-check (test/cuda/gpu_*.cu): every CUDA kernel of the kernel
#     table on the device against its CPU kernel, with its error and time;
#  2. --device cuda end to end: a micro GPT-2 and LLaMA trained 3 steps on
#     the GPU and on the CPU from the same weights, in fp32 and bf16-mixed,
#     the logs compared (test/cuda/Inputs/compare_logs.py, 1e-4 and 1e-3),
#     and greedy generation;
#  3. the collectives' conformance suite on NCCL (one rank per GPU), and
#     with two GPUs or more data- and pipeline-parallel training on them
#     against the CPU;
#  4. GPT-2 small (124M) trained 10 steps on one GPU, fp32 and bf16-mixed:
#     tokens/s and MFU (6·N·tokens + attention, PaLM's count, against the
#     card's published dense peak).
# CI builds all of it but cannot run it (no GPU there; the SIMT emulator
# runs the same kernel bodies and llmc-run-emulated-cuda the same device
# path). Writes its output to $OUT/gpu-check.txt too when OUT is set (the
# device tool's folder).
set -euo pipefail
cd "$(dirname "$0")/.."
report="${OUT:-/tmp}/gpu-check.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
if [ ! -x build/bin/llmc-gpu-check ] || [ ! -x build/bin/llmc-run ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  ninja -C build llmc-gpu-check llmc llmc-run llmc-comm-tests
fi
status=0
build/bin/llmc-gpu-check | tee "$report" || status=$?

work=$(mktemp -d)
bin=build/bin inputs=test/cuda/Inputs
python3 $inputs/tokens.py $work/tokens.bin 4096 512
for model in gpt2 llama; do
  $bin/llmc compile $inputs/$model-micro.json --mode train --micro-batch 2 \
    --seq 16 -o $work/$model.plan > /dev/null
  $bin/llmc-run init $work/$model.plan -o $work/$model.safetensors
  for device in cpu cuda; do
    $bin/llmc-run train $work/$model.plan --data $work/tokens.bin --steps 3 \
      --load $work/$model.safetensors --log $work/$model-$device.jsonl \
      --device $device --save $work/$model-$device-run 2>&1 | tail -1 |
      tee -a "$report"
  done
  python3 $inputs/compare_logs.py $work/$model-cpu.jsonl \
    $work/$model-cuda.jsonl 1e-4 | sed "s/^/$model --device cuda vs cpu: /" |
    tee -a "$report" || status=1
  $bin/llmc compile $inputs/$model-micro.json --mode train --micro-batch 2 \
    --seq 16 --precision bf16-mixed -o $work/$model-bf16.plan > /dev/null
  for device in cpu cuda; do
    $bin/llmc-run train $work/$model-bf16.plan --data $work/tokens.bin \
      --steps 3 --load $work/$model.safetensors --device $device \
      --log $work/$model-bf16-$device.jsonl > /dev/null
  done
  python3 $inputs/compare_logs.py $work/$model-bf16-cpu.jsonl \
    $work/$model-bf16-cuda.jsonl 1e-3 |
    sed "s/^/$model bf16-mixed --device cuda vs cpu: /" | tee -a "$report" ||
    status=1
  $bin/llmc compile $inputs/$model-micro.json --mode infer --max-batch 2 \
    --max-seq 32 -o $work/$model-infer.plan > /dev/null
  for device in cpu cuda; do
    $bin/llmc-run generate $work/$model-infer.plan \
      --weights $work/$model.safetensors --prompt-ids 5,6,7,300,2 \
      --max-new-tokens 8 --json --device $device > $work/$model-$device.json
  done
  python3 $inputs/compare_generations.py $work/$model-cpu.json \
    $work/$model-cuda.json | sed "s/^/$model generate: /" | tee -a "$report" ||
    status=1
done

# Collectives on NCCL: one rank per GPU (a single GPU runs the one-rank
# cases), then data and pipeline parallelism across two GPUs.
gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
ranks=$((gpus >= 2 ? 2 : 1))
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun --oversubscribe -np $ranks $bin/llmc-comm-tests --gtest_color=no 2>&1 |
  grep -E '^\[ +(PASSED|FAILED|SKIPPED) +\] [0-9]+ test' |
  sed "s/^/nccl conformance ($ranks ranks): /" | tee -a "$report" || status=1
if [ "$gpus" -ge 2 ]; then
  for mesh in dp=2 pp=2; do
    $bin/llmc compile $inputs/gpt2-micro.json --mode train --micro-batch 2 \
      --seq 16 --mesh $mesh --microbatches 2 -o $work/$mesh.plan > /dev/null
    for device in cpu cuda; do
      mpirun -np 2 $bin/llmc-run train $work/$mesh.plan --data $work/tokens.bin \
        --steps 3 --load $work/gpt2.safetensors --device $device \
        --log $work/$mesh-$device.jsonl > /dev/null
    done
    python3 $inputs/compare_logs.py $work/$mesh-cpu.jsonl \
      $work/$mesh-cuda.jsonl 1e-4 | sed "s/^/gpt2 --mesh $mesh on 2 GPUs: /" |
      tee -a "$report" || status=1
  done
fi

# GPT-2 small on one GPU: the median tokens/s of steps 3-10 and the MFU.
name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null |
  head -1 || true)
B=8 T=1024
python3 $inputs/tokens.py $work/small.bin 200000 50257
for precision in fp32 bf16-mixed; do
  $bin/llmc compile examples/configs/gpt2-small.json --mode train \
    --micro-batch $B --seq $T --precision $precision \
    -o $work/small-$precision.plan > /dev/null
  $bin/llmc-run train $work/small-$precision.plan --data $work/small.bin \
    --steps 10 --device cuda --log $work/small-$precision.jsonl > /dev/null ||
    status=1
  python3 - "$work/small-$precision.jsonl" "$name" $B $T $precision <<'PY' |
import json, statistics, sys
log, name, B, T, precision = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
steps = [json.loads(line) for line in open(log)]
tps = statistics.median(s["tokens_per_s"] for s in steps[2:])
N, L, d = 124_439_808, 12, 768
flops = (6 * N * B * T + 12 * L * d * T * T * B) * tps / (B * T)
# Published dense peaks (bf16 tensor cores; fp32 without them).
peaks = {"H200": (989e12, 67e12), "H100": (989e12, 67e12), "A100": (312e12, 19.5e12),
         "L40S": (362e12, 91.6e12), "L4": (121e12, 30.3e12)}
peak = next((v for k, v in peaks.items() if k in name), None)
mfu = "MFU %.1f%%" % (100 * flops / peak[0 if precision != "fp32" else 1]) if peak else "peak unknown"
print("gpt2-small %s on %s: %.0f tokens/s, %.1f TFLOP/s, %s" % (precision, name, tps, flops / 1e12, mfu))
PY
    tee -a "$report"
done
exit $status
