// Warp and block reductions of the CUDA kernels (llm.c's warpReduceSum and
// blockReduce): device code that nvcc compiles for the GPU and the host
// compiler for the SIMT emulator (runtime/cuda/simt/simt.h).
#pragma once

#include "runtime/cuda/device/spelling.cuh"

namespace llmc::cuda::device {

// Kernels that give each row to a warp launch blocks of `threads` (whole
// warps), threads / 32 rows a block.
constexpr int kWarpRowThreads = 256;
inline int warp_row_blocks(long long rows, int threads = kWarpRowThreads) {
  return int((rows + threads / 32 - 1) / (threads / 32));
}
// The row of this thread's warp, and its lane.
__device__ __forceinline__ long long warp_row() {
  return blockIdx.x * (long long)(blockDim.x / 32) + threadIdx.x / 32;
}
__device__ __forceinline__ int lane_id() { return threadIdx.x % 32; }

// The sum (max) of `v` over the 32 lanes of a full warp, in every lane.
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset /= 2)
    v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int offset = 16; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// The sum (or max) of `v` over a block of whole warps (at most 1024
// threads), in every thread; `scratch` holds 32 floats of shared memory.
// Ends with a barrier, so a second call may reuse `scratch`.
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v, float *scratch) {
  int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  int warps = blockDim.x / 32;
  v = kMax ? warp_max(v) : warp_sum(v);
  if (lane == 0)
    scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : (kMax ? -INFINITY : 0.0f);
  v = kMax ? warp_max(v) : warp_sum(v);
  __syncthreads();
  return v;
}

} // namespace llmc::cuda::device
