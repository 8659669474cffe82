// Launchers of the cross-entropy kernels; see cross_entropy.cuh.
#include "runtime/cuda/cross_entropy.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/cross_entropy.cuh"

namespace llmc::cuda {

void cross_entropy_forward(float *loss, float *losses, const float *logits,
                           const int *targets, int N, int V,
                           cudaStream_t stream) {
  if (N == 0)
    return;
  device::
      cross_entropy_rows_kernel<<<N, device::kCrossEntropyThreads, 0, stream>>>(
          losses, logits, targets, N, V);
  device::mean_kernel<<<1, 1024, 0, stream>>>(loss, losses, N);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void cross_entropy_backward(float *dlogits, const float *dloss,
                            const float *logits, const int *targets, int N,
                            int V, cudaStream_t stream) {
  if (N == 0)
    return;
  device::cross_entropy_backward_kernel<<<N, device::kCrossEntropyThreads, 0,
                                          stream>>>(dlogits, dloss, logits,
                                                    targets, N, V);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
