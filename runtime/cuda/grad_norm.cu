// Launchers of the sum-of-squares kernels; see grad_norm.cuh.
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/grad_norm.cuh"
#include "runtime/cuda/grad_norm.cuh"

namespace llmc::cuda {

void sum_squares(float *out, const float *const *tensors,
                 const long long *sizes, int count, bool root, float *partials,
                 cudaStream_t stream) {
  // A kernel per tensor, in order, onto the same partials: no pointer table
  // to copy to the device, and the sum is the same bits every run.
  if (count == 0)
    LLMC_CUDA_CHECK(cudaMemsetAsync(
        partials, 0, device::kSumSquaresBlocks * sizeof(float), stream));
  for (int i = 0; i < count; ++i)
    device::sum_squares_kernel<<<device::kSumSquaresBlocks,
                                 device::kSumSquaresThreads, 0, stream>>>(
        partials, tensors[i], sizes[i], i == 0);
  device::sum_partials_kernel<<<1, device::kSumSquaresBlocks, 0, stream>>>(
      out, partials, root);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
