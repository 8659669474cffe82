// LayerNorm forward on the GPU, llm.c's layernorm_forward_kernel3: one warp
// per row, the mean and variance by warp shuffles, the row read through
// the cache three times; and its fusion with the residual add before it.
// Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

// One row of C by the 32 lanes of a warp; bias may be null. Each lane reads
// only the elements it also writes in the fused kernel, so `x` may be the
// row the warp has just written.
__device__ __forceinline__ void layernorm_row(float *o, float *mean,
                                              float *rstd, const float *x,
                                              const float *weight,
                                              const float *bias, int C,
                                              float eps, int lane) {
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
  for (int i = lane; i < C; i += 32)
    o[i] = (x[i] - m) * s * weight[i] + (bias ? bias[i] : 0.0f);
  if (lane == 0) {
    *mean = m;
    *rstd = s;
  }
}

// out: (N, C)  mean, rstd: (N,)  inp: (N, C)  weight, bias: (C,); a warp a
// row (warp_row_blocks).
__global__ void layernorm_forward_kernel(
    float *__restrict__ out, float *__restrict__ mean, float *__restrict__ rstd,
    const float *__restrict__ inp, const float *__restrict__ weight,
    const float *__restrict__ bias, int N, int C, float eps) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= N)
    return; // a whole warp: no shuffle is left waiting for it
  long long at = (long long)row * C;
  layernorm_row(out + at, mean + row, rstd + row, inp + at, weight, bias, C,
                eps, lane);
}

// sum = a + b (kept: the residual stream), out = layernorm(sum).
__global__ void add_layernorm_forward_kernel(
    float *sum, float *__restrict__ out, float *__restrict__ mean,
    float *__restrict__ rstd, const float *a, const float *b,
    const float *__restrict__ weight, const float *__restrict__ bias, int N,
    int C, float eps) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= N)
    return; // a whole warp
  long long at = (long long)row * C;
  for (int i = lane; i < C; i += 32)
    sum[at + i] = a[at + i] + b[at + i];
  layernorm_row(out + at, mean + row, rstd + row, sum + at, weight, bias, C,
                eps, lane);
}

} // namespace llmc::cuda::device
