#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU:
#  1. llmc-gpu-check (test/cuda/gpu_*.cu): every CUDA kernel of the kernel
#     table on the device against its CPU kernel, with its error and time;
#  2. --device cuda end to end: a micro GPT-2 and LLaMA trained 3 steps on
#     the GPU and on the CPU from the same weights, the logs compared
#     (test/cuda/Inputs/compare_logs.py, 1e-4), and greedy generation.
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
  ninja -C build llmc-gpu-check llmc llmc-run
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
exit $status
