// The sum of squares of many tensors on the GPU (kernel table: grad_norm's
// local part; the runtime sums it over mesh axes). Body in
// runtime/cuda/device/grad_norm.cuh.
#pragma once

#include <cuda_runtime.h>

namespace llmc::cuda {

// *out = sum over tensors i of sum of tensors[i][j]^2 (its square root with
// `root`); `partials` is device scratch of kSumSquaresBlocks (256) floats.
void sum_squares(float *out, const float *const *tensors,
                 const long long *sizes, int count, bool root, float *partials,
                 cudaStream_t stream);

} // namespace llmc::cuda
