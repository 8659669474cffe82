// LayerNorm over the last dimension, as torch.nn.LayerNorm: biased variance,
// eps inside the square root.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// out = (inp - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps);
// saves mean and rstd per row for the backward. bias may be nullptr.
// out: (N, C)  mean: (N,)  rstd: (N,)  inp: (N, C)  weight: (C,)  bias: (C,)
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int64_t N,
                       int64_t C, float eps);

// Overwrites dinp, dweight and dbias (dbias may be nullptr); dinp may alias
// dout. The parameter gradients sum over rows in order, so they do not depend
// on the thread count.
// dinp: (N, C)  dweight: (C,)  dbias: (C,)  dout: (N, C)  inp: (N, C)
// weight: (C,)  mean: (N,)  rstd: (N,)
void layernorm_backward(float *dinp, float *dweight, float *dbias,
                        const float *dout, const float *inp,
                        const float *weight, const float *mean,
                        const float *rstd, int64_t N, int64_t C);

} // namespace llmc::cpu
