// AdamW over one tensor, plus the two reductions global grad-norm clipping
// needs. The per-element formula is runtime/kernels/adamw.h, shared with CUDA.
#pragma once

// runtime/kernels/adamw.h calls sqrtf without including its declaration.
#include <math.h>

#include "runtime/kernels/adamw.h"

#include <cstdint>

namespace llmc::cpu {

// One torch.optim.AdamW step: params, m and v updated in place from grads.
// params, m, v, grads: (n,)
void adamw_update(float *params, float *m, float *v, const float *grads,
                  int64_t n, const AdamWHyper &hyper);

// sum of x[i]^2 in double. Summed in fixed blocks combined in order, so the
// result is identical for any thread count.
// x: (n,)
double sum_squares(const float *x, int64_t n);

// x[i] *= s
// x: (n,)
void scale_inplace(float *x, int64_t n, float s);

} // namespace llmc::cpu
