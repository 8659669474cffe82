#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU: builds llmc-gpu-check
# (test/cuda/gpu_kernels_check.cu) and runs every CUDA kernel of the kernel
# table on the device against its CPU kernel, printing each one's error and
# time. CI builds it but cannot run it (no GPU there; the SIMT emulator runs
# the same kernel bodies in llmc-simt-tests). Writes its output to
# $OUT/gpu-check.txt too when OUT is set (the device tool's folder).
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
if [ ! -x build/bin/llmc-gpu-check ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
  ninja -C build llmc-gpu-check
fi
build/bin/llmc-gpu-check | tee "${OUT:-/tmp}/gpu-check.txt"
