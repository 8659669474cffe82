// AdamW on the GPU: one fused kernel updates params, m and v of a tensor.
#pragma once

#include "runtime/kernels/adamw.h"

#include <cstddef>
#include <cuda_runtime.h>

namespace llmc::cuda {

// params, m, v: (n,) updated in place; grads: (n,)
void adamw_update(float *params, float *m, float *v, const float *grads,
                  size_t n, const AdamWHyper &hyper, cudaStream_t stream);

} // namespace llmc::cuda
