// The global L2 norm of the gradients on the GPU (kernel table: grad_norm's
// local part; the sums over mesh axes are the communicator's): each tensor
// adds its squares into (at most) kSumSquaresBlocks per-block partial sums,
// zeroed first, a block each, in launch order, then one block adds the
// partials up. No atomics,
// so the norm is the same bits on every run. Device code for nvcc and the
// SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

constexpr int kSumSquaresBlocks = 256;
constexpr int kSumSquaresThreads = 256;

// partials[block] += sum of x[i]^2 over the block's grid-stride share of
// x. Launch sum_squares_blocks(n) blocks of kSumSquaresThreads.
inline int sum_squares_blocks(long long n) {
  long long blocks = (n + kSumSquaresThreads - 1) / kSumSquaresThreads;
  return int(blocks < 1                   ? 1
             : blocks < kSumSquaresBlocks ? blocks
                                          : kSumSquaresBlocks);
}
__global__ void sum_squares_kernel(float *__restrict__ partials,
                                   const float *__restrict__ x, long long n) {
  __shared__ float scratch[32];
  float sum = 0.0f;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x)
    sum += x[i] * x[i];
  sum = block_reduce<false>(sum, scratch);
  if (threadIdx.x == 0)
    partials[blockIdx.x] += sum;
}

// *out = the sum of the kSumSquaresBlocks partials, or its square root.
// One block of kSumSquaresBlocks threads.
__global__ void sum_partials_kernel(float *__restrict__ out,
                                    const float *__restrict__ partials,
                                    bool root) {
  __shared__ float scratch[32];
  float sum = block_reduce<false>(partials[threadIdx.x], scratch);
  if (threadIdx.x == 0)
    *out = root ? sqrtf(sum) : sum;
}

} // namespace llmc::cuda::device
