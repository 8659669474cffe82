// Launcher of AdamW on the GPU; see adamw.cuh. The kernel's body is
// runtime/cuda/device/adamw.cuh.
#include "runtime/cuda/adamw.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/adamw.cuh"
#include "runtime/cuda/launch.h"

namespace llmc::cuda {

void adamw_update(float *params, float *m, float *v, const float *grads,
                  size_t n, const AdamWHyper &hyper, cudaStream_t stream,
                  const float *grad_norm, float clip_grad_norm) {
  if (n == 0)
    return;
  LLMC_LAUNCH(device::adamw_kernel, device::adamw_blocks(n),
              device::kAdamWThreads, stream, params, m, v, grads, n, hyper,
              grad_norm, clip_grad_norm);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
