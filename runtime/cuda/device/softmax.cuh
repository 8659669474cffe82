// Softmax over the last dimension on the GPU: a block per row, its max and
// sum by block reductions through shared memory (online over the row in
// strides of the block). Device code for nvcc and the SIMT emulator.
#pragma once

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

} // namespace llmc::cuda::device
