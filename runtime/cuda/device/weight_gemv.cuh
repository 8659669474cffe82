// GEMMs with int8 or bf16 weights on the GPU, as runtime/cpu/quantized.h
// and weights_bf16.h (inference plans of --weights-dtype int8|bf16): out
// (M, N) = a (M, K) · wᵀ + bias with w (N, K) stored narrow, a channel's K
// weights in a row. A warp per output (m, n): the lanes read the channel's
// weights coalesced and widen them in registers, so the weights cross
// memory in their narrow form, as decoding wants. Device code for nvcc and
// the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/reduce.cuh"

#include <cstdint>
#include <cstring>

namespace llmc::cuda::device {

constexpr int kWeightGemvThreads = 256;

__device__ __forceinline__ float widen(int8_t q) { return float(q); }
__device__ __forceinline__ float widen(uint16_t bf16) {
  uint32_t bits = uint32_t(bf16) << 16;
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

// out[m, n] = scale[n] · sum_k a[m, k] w[n, k] + bias[n]; scale and bias
// may be null (bf16 weights have no scale).
template <class Weight>
__global__ void
weight_gemv_kernel(float *__restrict__ out, const float *__restrict__ a,
                   const Weight *__restrict__ w,
                   const float *__restrict__ scale,
                   const float *__restrict__ bias, int M, int N, int K) {
  long long row = warp_row();
  if (row >= (long long)M * N)
    return;
  int m = int(row / N), n = int(row % N), lane = lane_id();
  const float *ar = a + (long long)m * K;
  const Weight *wr = w + (long long)n * K;
  float sum = 0.0f;
  for (int k = lane; k < K; k += 32)
    sum += ar[k] * widen(wr[k]);
  sum = warp_sum(sum);
  if (lane == 0)
    out[row] = (scale ? sum * scale[n] : sum) + (bias ? bias[n] : 0.0f);
}

} // namespace llmc::cuda::device
