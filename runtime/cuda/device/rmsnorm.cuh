// RMSNorm forward on the GPU (LLaMA): a warp per row, the mean square by
// warp shuffles; and its fusion with the residual add before it. Device
// code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

// One row by the 32 lanes of a warp: o = weight · x · rstd,
// rstd = 1 / sqrt(mean(x²) + eps); each lane reads only its own elements.
__device__ __forceinline__ void rmsnorm_row(float *o, float *rstd,
                                            const float *x, const float *weight,
                                            int C, float eps, int lane) {
  float squares = 0.0f;
  for (int i = lane; i < C; i += 32)
    squares += x[i] * x[i];
  float s = rsqrtf(warp_sum(squares) / C + eps);
  for (int i = lane; i < C; i += 32)
    o[i] = weight[i] * (x[i] * s);
  if (lane == 0)
    *rstd = s;
}

// out: (N, C)  rstd: (N,)  inp: (N, C)  weight: (C,)
__global__ void rmsnorm_forward_kernel(float *__restrict__ out,
                                       float *__restrict__ rstd,
                                       const float *__restrict__ inp,
                                       const float *__restrict__ weight, int N,
                                       int C, float eps) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= N)
    return; // a whole warp
  long long at = (long long)row * C;
  rmsnorm_row(out + at, rstd + row, inp + at, weight, C, eps, lane);
}

// sum = a + b (kept: the residual stream), out = rmsnorm(sum).
__global__ void add_rmsnorm_forward_kernel(float *sum, float *__restrict__ out,
                                           float *__restrict__ rstd,
                                           const float *a, const float *b,
                                           const float *__restrict__ weight,
                                           int N, int C, float eps) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= N)
    return; // a whole warp
  long long at = (long long)row * C;
  for (int i = lane; i < C; i += 32)
    sum[at + i] = a[at + i] + b[at + i];
  rmsnorm_row(out + at, rstd + row, sum + at, weight, C, eps, lane);
}

} // namespace llmc::cuda::device
