#!/usr/bin/env bash
# Configures (once) and builds llmc into build/, tools into build/bin/.
# Uses clang (faster on MLIR headers), lld and ccache; gcc stays nvcc's host
# compiler. Set LLMC_BUILD_DIR to build elsewhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LLMC_BUILD_DIR:-$root/build}

if [ ! -f "$build/build.ninja" ]; then
  cxx=clang++; cc=clang
  command -v clang++ >/dev/null || { cxx=g++; cc=gcc; }
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache \
    -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit
fi
cmake --build "$build" -j "$(nproc)"
