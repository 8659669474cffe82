// AdamW on the GPU: one fused kernel updates params, m and v of a tensor.
#pragma once

#include "runtime/kernels/adamw.h"

#include <cstddef>
#include <cuda_runtime.h>

namespace llmc::cuda {

// params, m, v: (n,) updated in place; grads: (n,). With grad_norm (a
// device scalar), gradients are clipped to clip_grad_norm by it on the
// device (hyper.grad_scale is then ignored).
void adamw_update(float *params, float *m, float *v, const float *grads,
                  size_t n, const AdamWHyper &hyper, cudaStream_t stream,
                  const float *grad_norm = nullptr,
                  float clip_grad_norm = 0.0f);

} // namespace llmc::cuda
