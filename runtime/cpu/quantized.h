// INT8 weight-only GEMMs: weights quantized per output channel, symmetric,
// w ≈ scale[n] · q (q in -127..127), activations and results fp32. Decoding
// reads each weight once per token, so a quarter of the bytes is most of a
// quarter of the time.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// Quantizes w per output channel n: scale[n] = max|w[n, :]| / 127 and
// q[n, :] = round(w[n, :] / scale[n]). w is (N, K), a row per channel, when
// trans_b (LLaMA's Linear), else (K, N), a column per channel (GPT-2's
// Conv1D); q is always (N, K), so each channel's K weights are contiguous.
void quantize_weights_i8(int8_t *q, float *scale, const float *w, int64_t N,
                         int64_t K, bool trans_b);

// out (M, N) = a (M, K) · (scale · q)ᵀ + bias (N or null), with q (N, K) and
// scale as quantize_weights_i8 wrote them. A few rows (decode) multiply the
// int8 weights directly; more rows (prefill) dequantize a block of channels
// at a time into fp32 and run sgemm on it.
void matmul_i8w_forward(float *out, const float *a, const int8_t *q,
                        const float *scale, const float *bias, int64_t M,
                        int64_t N, int64_t K);

} // namespace llmc::cpu
