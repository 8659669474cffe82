// bf16 weight-only GEMMs: weights rounded to bf16 (nearest, ties to even)
// when a plan is loaded, activations, products and sums fp32. Decoding
// reads each weight once per token, so half the bytes is most of half the
// time, and the rounding is the only change: a product of an fp32 row and
// a bf16 weight is what PyTorch computes with the rounded weights in fp32.
#pragma once

#include "runtime/cpu/matmul.h"

#include <cstdint>

namespace llmc::cpu {

// q (N, K) = to_bf16(w): w is (N, K) when trans_b (LLaMA's Linear), else
// (K, N) (GPT-2's Conv1D), transposed so each channel's K weights are
// contiguous.
void pack_weights_bf16(uint16_t *q, const float *w, int64_t N, int64_t K,
                       bool trans_b);

// out (M, N) = a (M, K) · qᵀ + bias (N or null), q as pack_weights_bf16
// wrote it. A decode step's rows (up to kGemvMaxRows) widen the weights in
// registers (gemv_bf16w_forward); more rows widen blocks of channels into
// fp32 for an sgemm. With GemmMath::BF16 a is rounded to bf16 first (the
// products of two bf16 values are exact in fp32, summed in fp32), and more
// rows than a decode step's run on oneDNN's bf16 kernels where oneDNN runs
// the GEMMs.
void matmul_bf16w_forward(float *out, const float *a, const uint16_t *q,
                          const float *bias, int64_t M, int64_t N, int64_t K,
                          GemmMath math = GemmMath::FP32);

} // namespace llmc::cpu
