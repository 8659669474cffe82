// LayerNorm and RMSNorm backward on the GPU, as runtime/cpu/layernorm.h and
// rmsnorm.h: the weight (and bias) gradients first, a thread per column
// walking the rows in order (the CPU's order: the same sums, and the same
// bits every run), then the input gradient, a warp per row, so that it may
// overwrite dout. Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

constexpr int kNormBackwardThreads = 256;
inline int norm_column_blocks(int C) {
  return (C + kNormBackwardThreads - 1) / kNormBackwardThreads;
}

// dweight[c] = Σ_n dout[n, c] · xhat[n, c], dbias[c] = Σ_n dout[n, c]
// (dbias may be null); xhat = (x - mean) · rstd, or x · rstd when mean is
// null (RMSNorm). A thread per column.
__global__ void norm_weight_grad_kernel(float *__restrict__ dweight,
                                        float *__restrict__ dbias,
                                        const float *__restrict__ dout,
                                        const float *__restrict__ inp,
                                        const float *__restrict__ mean,
                                        const float *__restrict__ rstd, int N,
                                        int C) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C)
    return;
  float dw = 0.0f, db = 0.0f;
  for (int n = 0; n < N; ++n) {
    float g = dout[(long long)n * C + c], x = inp[(long long)n * C + c];
    dw += g * ((x - (mean ? mean[n] : 0.0f)) * rstd[n]);
    db += g;
  }
  dweight[c] = dw;
  if (dbias)
    dbias[c] = db;
}

// LayerNorm's dinp, a warp per row; dinp may alias dout.
__global__ void layernorm_input_grad_kernel(float *dinp, const float *dout,
                                            const float *__restrict__ inp,
                                            const float *__restrict__ weight,
                                            const float *__restrict__ mean,
                                            const float *__restrict__ rstd,
                                            int N, int C) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= N)
    return; // a whole warp
  const float *g = dout + (long long)row * C, *x = inp + (long long)row * C;
  float *dx = dinp + (long long)row * C;
  float m = mean[row], s = rstd[row];
  float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
  for (int i = lane; i < C; i += 32) {
    float dnorm = weight[i] * g[i];
    dnorm_mean += dnorm;
    dnorm_norm_mean += dnorm * (x[i] - m) * s;
  }
  dnorm_mean = warp_sum(dnorm_mean) / C;
  dnorm_norm_mean = warp_sum(dnorm_norm_mean) / C;
  for (int i = lane; i < C; i += 32) {
    float xhat = (x[i] - m) * s;
    dx[i] = (weight[i] * g[i] - dnorm_mean - xhat * dnorm_norm_mean) * s;
  }
}

// RMSNorm's dinp, a warp per row; dinp may alias dout.
__global__ void rmsnorm_input_grad_kernel(float *dinp, const float *dout,
                                          const float *__restrict__ inp,
                                          const float *__restrict__ weight,
                                          const float *__restrict__ rstd, int N,
                                          int C) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= N)
    return; // a whole warp
  const float *g = dout + (long long)row * C, *x = inp + (long long)row * C;
  float *dx = dinp + (long long)row * C;
  float s = rstd[row], dot = 0.0f;
  for (int i = lane; i < C; i += 32)
    dot += weight[i] * g[i] * x[i];
  float k = s * s * warp_sum(dot) / C;
  for (int i = lane; i < C; i += 32)
    dx[i] = s * (weight[i] * g[i] - x[i] * k);
}

} // namespace llmc::cuda::device
