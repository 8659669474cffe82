// Launchers of the cross-entropy kernels; see cross_entropy.cuh.
#include "runtime/cuda/cross_entropy.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/cross_entropy.cuh"
#include "runtime/cuda/launch.h"

namespace llmc::cuda {

void cross_entropy_forward(float *loss, float *losses, const float *logits,
                           const int *targets, int N, int V,
                           cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::cross_entropy_rows_kernel, N,
              device::kCrossEntropyThreads, stream, losses, logits, targets, N,
              V);
  LLMC_LAUNCH(device::mean_kernel, 1, 1024, stream, loss, losses, N);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void cross_entropy_backward(float *dlogits, const float *dloss,
                            const float *logits, const int *targets, int N,
                            int V, cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::cross_entropy_backward_kernel, N,
              device::kCrossEntropyThreads, stream, dlogits, dloss, logits,
              targets, N, V);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void cross_entropy_vp_partial(float *stats, const float *logits,
                              const int *targets, int N, int V, int first,
                              cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::cross_entropy_vp_partial_kernel, N,
              device::kCrossEntropyThreads, stream, stats, logits, targets, N,
              V, first);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void cross_entropy_vp_finish(float *loss, float *lse, const float *gathered,
                             int N, int P, cudaStream_t stream) {
  LLMC_LAUNCH(device::cross_entropy_vp_finish_kernel, 1, 1024, stream, loss,
              lse, gathered, N, P);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void cross_entropy_vp_backward(float *dlogits, const float *dloss,
                               const float *logits, const int *targets,
                               const float *lse, int N, int V, int first,
                               cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::cross_entropy_vp_backward_kernel, N,
              device::kCrossEntropyThreads, stream, dlogits, dloss, logits,
              targets, lse, N, V, first);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
