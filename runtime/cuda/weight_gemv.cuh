// GEMMs with narrow weights on the GPU (kernel table: matmul_i8w,
// matmul_bf16w), as runtime/cpu/quantized.h and weights_bf16.h. Body in
// runtime/cuda/device/weight_gemv.cuh.
#pragma once

#include <cstdint>
#include <cuda_runtime.h>

namespace llmc::cuda {

// out (M, N) = a (M, K) · (scale · q)ᵀ + bias (N or null); q (N, K) int8.
void matmul_i8w(float *out, const float *a, const int8_t *q, const float *scale,
                const float *bias, int M, int N, int K, cudaStream_t stream);
// out (M, N) = a (M, K) · qᵀ + bias (N or null); q (N, K) bf16 bits.
void matmul_bf16w(float *out, const float *a, const uint16_t *q,
                  const float *bias, int M, int N, int K, cudaStream_t stream);

} // namespace llmc::cuda
