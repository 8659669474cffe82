// One row of LayerNorm / RMSNorm forward, shared by the plain kernels and the
// fused residual-add + norm kernels so both give bit-identical results.
#pragma once

#include "runtime/cpu/vec_math.h"

#include <cmath>
#include <cstdint>

namespace llmc::cpu::rows {

// o = (x - mean) * rstd * weight + bias over one row of C; returns via
// mean/rstd. Two passes (mean, then centred squares) rather than
// E[x^2] - E[x]^2, which cancels badly when |mean| >> std; both sums over 8
// lanes (vec::sum_of).
inline void layernorm(float *o, float *mean, float *rstd, const float *x,
                      const float *weight, const float *bias, int64_t C,
                      float eps) {
  const float m = vec::sum(x, C) / float(C);
  const float sq = vec::sum_of(C, [=](int64_t c) {
    const float d = x[c] - m;
    return d * d;
  });
  const float s = 1.0f / std::sqrt(sq / float(C) + eps);
  for (int64_t c = 0; c < C; c++) {
    float y = (x[c] - m) * s * weight[c];
    o[c] = bias ? y + bias[c] : y;
  }
  *mean = m;
  *rstd = s;
}

// o = weight * (x * rstd), rstd = 1/sqrt(mean(x^2) + eps); HF rounds x * rstd
// first, then multiplies by the weight.
inline void rmsnorm(float *o, float *rstd, const float *x, const float *weight,
                    int64_t C, float eps) {
  const float s = 1.0f / std::sqrt(vec::dot(x, x, C) / float(C) + eps);
  for (int64_t c = 0; c < C; c++)
    o[c] = weight[c] * (x[c] * s);
  *rstd = s;
}

} // namespace llmc::cpu::rows
