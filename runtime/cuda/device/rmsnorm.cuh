// RMSNorm forward on the GPU (LLaMA): a warp per row, the mean square by
// warp shuffles. Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

constexpr int kRmsNormThreads = 256;
inline int rmsnorm_blocks(int N) {
  return (N + kRmsNormThreads / 32 - 1) / (kRmsNormThreads / 32);
}

// out = weight · x · rstd, rstd = 1 / sqrt(mean(x²) + eps)
// out: (N, C)  rstd: (N,)  inp: (N, C)  weight: (C,)
__global__ void rmsnorm_forward_kernel(float *__restrict__ out,
                                       float *__restrict__ rstd,
                                       const float *__restrict__ inp,
                                       const float *__restrict__ weight, int N,
                                       int C, float eps) {
  int lane = threadIdx.x % 32;
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= N)
    return; // a whole warp
  const float *x = inp + (long long)row * C;
  float squares = 0.0f;
  for (int i = lane; i < C; i += 32)
    squares += x[i] * x[i];
  float s = rsqrtf(warp_sum(squares) / C + eps);
  float *o = out + (long long)row * C;
  for (int i = lane; i < C; i += 32)
    o[i] = weight[i] * (x[i] * s);
  if (lane == 0)
    rstd[row] = s;
}

} // namespace llmc::cuda::device
