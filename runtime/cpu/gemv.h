// One row times a weight matrix (a decode step at batch 1), read once at
// the memory's pace: the weight is the only large operand, so the product
// is bound by how fast its bytes stream in, on every thread.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// out = x . op(w) + bias: x (K,), op(w) (K, N): w is (N, K) if trans_w, else
// (K, N); bias (N,) or nullptr; out (N,). Each output is summed by one
// thread in a fixed order, so the result does not depend on the threads.
void gemv_forward(float *out, const float *x, const float *w, const float *bias,
                  int64_t N, int64_t K, bool trans_w);

} // namespace llmc::cpu
