// AdamW on the GPU. The per-element math is runtime/kernels/adamw.h, shared
// with the CPU kernel.
#include "runtime/cuda/adamw.cuh"
#include "runtime/cuda/cuda_check.h"

namespace llmc::cuda {

// ----------------------------------------------------------------------------
// kernels

__global__ void adamw_kernel(float *params, float *m, float *v,
                             const float *grads, size_t n, AdamWHyper hyper) {
  // Grid-stride loop: any grid size covers any n.
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x)
    adamw_step(&params[i], &m[i], &v[i], grads[i], hyper);
}

// ----------------------------------------------------------------------------
// launchers

void adamw_update(float *params, float *m, float *v, const float *grads,
                  size_t n, const AdamWHyper &hyper, cudaStream_t stream) {
  if (n == 0)
    return;
  const int block_size = 512;
  const size_t blocks = (n + block_size - 1) / block_size;
  const int grid_size = int(blocks < 65535 ? blocks : 65535);
  adamw_kernel<<<grid_size, block_size, 0, stream>>>(params, m, v, grads, n,
                                                     hyper);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
