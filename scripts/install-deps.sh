#!/usr/bin/env bash
# Installs, from Debian's packages, whatever llmc needs to build and test that
# is not on this machine yet. Safe to run again: it only installs what is missing.
set -euo pipefail

packages=(
  # Compiler: MLIR/LLVM 22 (lit and FileCheck live in llvm-22-tools).
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  # Build tools.
  cmake ninja-build lld ccache g++ clang
  # scripts/check-format.sh (ctest's `format`).
  clang-format
  # libFuzzer and the sanitizers of the fuzz targets (test/fuzz).
  libclang-rt-14-dev
  # Plan files and the ONNX importer.
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  # GPT-2's byte-level BPE (its pre-tokenizer needs Unicode properties).
  libpcre2-dev pkg-config
  # Runtime: BLAS (OpenMP build) and MPI collectives.
  libopenblas-openmp-dev libopenblas0-openmp libopenmpi-dev openmpi-bin
  # Runtime: oneDNN, the GEMMs that pick their kernels from the processor,
  # and LLVM's OpenMP runtime, which clang's OpenMP code needs.
  libdnnl-dev libomp-dev
  # A one-node Slurm cluster for the launch tests (test/parallel/slurm.test).
  slurm-wlm munge
  # Config parsing and unit tests; zlib for checkpoint checksums.
  nlohmann-json3-dev libgtest-dev zlib1g-dev
  # The PyTorch reference of the parity tests (run with /usr/bin/python3)
  # and its ONNX exports (torch.onnx.export needs python3-onnx),
  # and psutil, which lit's per-test timeout needs.
  python3-torch python3-numpy python3-psutil python3-onnx
  # llmc serve's HTTP server (a header and a shared library), and the
  # headless browser that tests its web page.
  libcpp-httplib-dev chromium chromium-driver python3-selenium
  # The demo corpus and its tokenizer.
  bible-kjv sentencepiece libsentencepiece-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "llmc: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The official OpenAI client for Node, which test/serve runs against
# `llmc serve` (from the npm registry, pinned in test/serve/package.json).
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$root/test/serve/node_modules/openai" ]; then
  echo "llmc: installing the npm packages of test/serve"
  (cd "$root/test/serve" && npm install --no-audit --no-fund --silent)
fi

# onnxruntime, the reference for the logits of models imported from ONNX
# (test/parity/onnx-generate.test), and gpt-3-encoder, the reference for
# GPT-2's BPE (test/tools/gpt2-bpe.test). onnxruntime's post-install would
# download a CUDA provider; the CPU build is all the tests need.
if [ ! -d "$root/test/reference/node/node_modules/onnxruntime-node" ] ||
  [ ! -d "$root/test/reference/node/node_modules/gpt-3-encoder" ]; then
  echo "llmc: installing the npm packages of test/reference/node"
  (cd "$root/test/reference/node" &&
    ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent)
fi
