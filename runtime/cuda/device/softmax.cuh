// Softmax over the last dimension on the GPU: a block per row, its max and
// sum by block reductions through shared memory (online over the row in
// strides of the block). Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

// The launch: a block of 256 threads per row.
constexpr int kSoftmaxThreads = 256;

// out, inp: (N, C); one block of whole warps per row.
__global__ void softmax_forward_kernel(float *__restrict__ out,
                                       const float *__restrict__ inp, int N,
                                       int C) {
  __shared__ float scratch[32];
  int row = blockIdx.x;
  if (row >= N)
    return; // the whole block: no barrier is left waiting for it
  const float *x = inp + (long long)row * C;
  float *y = out + (long long)row * C;
  float max = -INFINITY;
  for (int i = threadIdx.x; i < C; i += blockDim.x)
    max = fmaxf(max, x[i]);
  max = block_reduce<true>(max, scratch);
  float sum = 0.0f;
  for (int i = threadIdx.x; i < C; i += blockDim.x) {
    float e = expf(x[i] - max);
    y[i] = e;
    sum += e;
  }
  sum = block_reduce<false>(sum, scratch);
  float inv = 1.0f / sum;
  for (int i = threadIdx.x; i < C; i += blockDim.x)
    y[i] *= inv;
}

// dinp = out · (dout - Σ dout · out) per row, from the saved output; dinp
// may alias dout (each thread reads its elements before writing them).
// dinp, dout, out: (N, C); one block of whole warps per row.
__global__ void softmax_backward_kernel(float *dinp, const float *dout,
                                        const float *__restrict__ out, int N,
                                        int C) {
  __shared__ float scratch[32];
  int row = blockIdx.x;
  if (row >= N)
    return;
  const float *g = dout + (long long)row * C, *y = out + (long long)row * C;
  float *d = dinp + (long long)row * C;
  float dot = 0.0f;
  for (int i = threadIdx.x; i < C; i += blockDim.x)
    dot += g[i] * y[i];
  dot = block_reduce<false>(dot, scratch);
  for (int i = threadIdx.x; i < C; i += blockDim.x)
    d[i] = y[i] * (g[i] - dot);
}

} // namespace llmc::cuda::device
