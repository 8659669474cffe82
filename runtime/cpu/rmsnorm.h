// RMSNorm over the last dimension, as Hugging Face LlamaRMSNorm in fp32:
// out = weight * (x * rsqrt(mean(x^2) + eps)).
#pragma once

#include <cstdint>

namespace llmc::cpu {

// Saves rstd = 1 / sqrt(mean(x^2) + eps) per row for the backward.
// out: (N, C)  rstd: (N,)  inp: (N, C)  weight: (C,)
void rmsnorm_forward(float *out, float *rstd, const float *inp,
                     const float *weight, int64_t N, int64_t C, float eps);

// Overwrites dinp and dweight (dweight sums rows in order: deterministic);
// dinp may alias dout.
// dinp: (N, C)  dweight: (C,)  dout: (N, C)  inp: (N, C)  weight: (C,)
// rstd: (N,)
void rmsnorm_backward(float *dinp, float *dweight, const float *dout,
                      const float *inp, const float *weight, const float *rstd,
                      int64_t N, int64_t C);

} // namespace llmc::cpu
