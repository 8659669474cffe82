// A few rows times a weight matrix (decode steps: one row per running
// sequence), read once at the memory's pace. The weight is the only large
// operand, so the product is bound by how fast its bytes stream in; every
// row is multiplied while a tile of the weight sits in registers.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// The most rows gemv_forward takes: a decode batch. Past it a GEMM library
// reuses each weight tile from cache as well.
constexpr int64_t kGemvMaxRows = 8;

// out = x . op(w) + bias: x (M, K) with 1 <= M <= kGemvMaxRows, op(w)
// (K, N): w is (N, K) if trans_w, else (K, N); bias (N,) or nullptr; out
// (M, N). Each output is summed by one thread in one fixed order, the same
// whatever M, the number of threads and the vector ISA (runtime/cpu/
// vector_isa.h): a sequence's logits do not depend on its batch-mates.
void gemv_forward(float *out, const float *x, const float *w, const float *bias,
                  int64_t M, int64_t N, int64_t K, bool trans_w);

// The same with a bf16 weight w (N, K), its bits in uint16_t: each weight
// widened to fp32 exactly, the products and sums fp32, in the same order.
void gemv_bf16w_forward(float *out, const float *x, const uint16_t *w,
                        const float *bias, int64_t M, int64_t N, int64_t K);

} // namespace llmc::cpu
