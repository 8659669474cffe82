// LayerNorm forward on the GPU, llm.c's layernorm_forward_kernel3: one warp
// per row, the mean and variance by warp shuffles, the row read through
// the cache three times. Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

// The launch: blocks of 256 threads, 8 rows (warps) a block.
constexpr int kLayerNormThreads = 256;
inline int layernorm_blocks(int N) {
  return (N + kLayerNormThreads / 32 - 1) / (kLayerNormThreads / 32);
}

// out: (N, C)  mean, rstd: (N,)  inp: (N, C)  weight, bias: (C,); blocks of
// whole warps, a warp a row.
__global__ void layernorm_forward_kernel(
    float *__restrict__ out, float *__restrict__ mean, float *__restrict__ rstd,
    const float *__restrict__ inp, const float *__restrict__ weight,
    const float *__restrict__ bias, int N, int C, float eps) {
  int lane = threadIdx.x % 32;
  int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= N)
    return; // a whole warp: no shuffle is left waiting for it
  const float *x = inp + (long long)row * C;
  float sum = 0.0f;
  for (int i = lane; i < C; i += 32)
    sum += x[i];
  float m = warp_sum(sum) / C;
  float squares = 0.0f;
  for (int i = lane; i < C; i += 32) {
    float d = x[i] - m;
    squares += d * d;
  }
  float s = rsqrtf(warp_sum(squares) / C + eps);
  float *o = out + (long long)row * C;
  for (int i = lane; i < C; i += 32)
    o[i] = (x[i] - m) * s * weight[i] + bias[i];
  if (lane == 0) {
    mean[row] = m;
    rstd[row] = s;
  }
}

} // namespace llmc::cuda::device
