// AdamW on the GPU: one fused kernel updates params, m and v of a tensor,
// the per-element math shared with the CPU (runtime/kernels/adamw.h).
// Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/kernels/adamw.h"

#include <cstddef>

namespace llmc::cuda::device {

constexpr int kAdamWThreads = 512;
inline int adamw_blocks(size_t n) {
  size_t blocks = (n + kAdamWThreads - 1) / kAdamWThreads;
  return int(blocks < 65535 ? blocks : 65535);
}

// Grid-stride loop: any grid size covers any n. With grad_norm (device
// memory), hyper.grad_scale is the clipping factor of that norm, read here
// so the host never waits for the norm.
__global__ void adamw_kernel(float *params, float *m, float *v,
                             const float *grads, size_t n, AdamWHyper hyper,
                             const float *grad_norm = nullptr,
                             float clip_grad_norm = 0.0f) {
  if (grad_norm)
    hyper.grad_scale = clip_scale(*grad_norm, clip_grad_norm);
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x)
    adamw_step(&params[i], &m[i], &v[i], grads[i], hyper);
}

} // namespace llmc::cuda::device
