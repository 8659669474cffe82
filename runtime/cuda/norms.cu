// Launchers of the norm and softmax kernels; see norms.cuh.
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/layernorm.cuh"
#include "runtime/cuda/device/softmax.cuh"
#include "runtime/cuda/norms.cuh"

namespace llmc::cuda {

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int N, int C,
                       float eps, cudaStream_t stream) {
  if (N == 0)
    return;
  device::layernorm_forward_kernel<<<device::layernorm_blocks(N),
                                     device::kLayerNormThreads, 0, stream>>>(
      out, mean, rstd, inp, weight, bias, N, C, eps);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void softmax_forward(float *out, const float *inp, int N, int C,
                     cudaStream_t stream) {
  if (N == 0)
    return;
  device::softmax_forward_kernel<<<N, device::kSoftmaxThreads, 0, stream>>>(
      out, inp, N, C);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
