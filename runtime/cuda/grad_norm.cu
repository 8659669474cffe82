// Launchers of the sum-of-squares kernels; see grad_norm.cuh.
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/grad_norm.cuh"
#include "runtime/cuda/grad_norm.cuh"
#include "runtime/cuda/launch.h"

namespace llmc::cuda {

void sum_squares(float *out, const float *const *tensors,
                 const long long *sizes, int count, bool root, float *partials,
                 cudaStream_t stream) {
  // A kernel per tensor, in order, onto the same partials: no pointer table
  // to copy to the device, and the sum is the same bits every run.
  LLMC_CUDA_CHECK(cudaMemsetAsync(
      partials, 0, device::kSumSquaresBlocks * sizeof(float), stream));
  for (int i = 0; i < count; ++i)
    LLMC_LAUNCH(
        device::sum_squares_kernel, device::sum_squares_blocks(sizes[i]),
        device::kSumSquaresThreads, stream, partials, tensors[i], sizes[i]);
  LLMC_LAUNCH(device::sum_partials_kernel, 1, device::kSumSquaresBlocks, stream,
              out, partials, root);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
