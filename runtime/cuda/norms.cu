// Launchers of the norm, softmax and embedding kernels; see norms.cuh.
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/embedding.cuh"
#include "runtime/cuda/device/layernorm.cuh"
#include "runtime/cuda/device/norm_backward.cuh"
#include "runtime/cuda/device/rmsnorm.cuh"
#include "runtime/cuda/device/rope.cuh"
#include "runtime/cuda/device/softmax.cuh"
#include "runtime/cuda/launch.h"
#include "runtime/cuda/norms.cuh"

namespace llmc::cuda {

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int N, int C,
                       float eps, cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::layernorm_forward_kernel, device::warp_row_blocks(N),
              device::kWarpRowThreads, stream, out, mean, rstd, inp, weight,
              bias, N, C, eps);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void rmsnorm_forward(float *out, float *rstd, const float *inp,
                     const float *weight, int N, int C, float eps,
                     cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::rmsnorm_forward_kernel, device::warp_row_blocks(N),
              device::kWarpRowThreads, stream, out, rstd, inp, weight, N, C,
              eps);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void embedding_forward(float *out, const float *table, const int *ids, int N,
                       int V, int C, int first, cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::embedding_forward_kernel,
              device::embedding_blocks((long long)N * C),
              device::kEmbeddingThreads, stream, out, table, ids, N, V, C,
              first);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void softmax_forward(float *out, const float *inp, int N, int C,
                     cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::softmax_forward_kernel, N, device::kSoftmaxThreads,
              stream, out, inp, N, C);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void softmax_backward(float *dinp, const float *dout, const float *out, int N,
                      int C, cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::softmax_backward_kernel, N, device::kSoftmaxThreads,
              stream, dinp, dout, out, N, C);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

// The weight gradients first (a thread per column), then the input
// gradient (a warp per row), which may overwrite dout.
void layernorm_backward(float *dinp, float *dweight, float *dbias,
                        const float *dout, const float *inp,
                        const float *weight, const float *mean,
                        const float *rstd, int N, int C, cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::norm_weight_grad_kernel, device::norm_column_blocks(C),
              device::kNormBackwardThreads, stream, dweight, dbias, dout, inp,
              mean, rstd, N, C);
  LLMC_LAUNCH(device::layernorm_input_grad_kernel, device::warp_row_blocks(N),
              device::kWarpRowThreads, stream, dinp, dout, inp, weight, mean,
              rstd, N, C);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void rmsnorm_backward(float *dinp, float *dweight, const float *dout,
                      const float *inp, const float *weight, const float *rstd,
                      int N, int C, cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::norm_weight_grad_kernel, device::norm_column_blocks(C),
              device::kNormBackwardThreads, stream, dweight, nullptr, dout, inp,
              nullptr, rstd, N, C);
  LLMC_LAUNCH(device::rmsnorm_input_grad_kernel, device::warp_row_blocks(N),
              device::kWarpRowThreads, stream, dinp, dout, inp, weight, rstd, N,
              C);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void embedding_backward(float *dtable, const float *dout, const int *ids, int N,
                        int V, int C, int first, cudaStream_t stream) {
  LLMC_LAUNCH(device::embedding_backward_kernel,
              device::embedding_backward_blocks(C), device::kEmbeddingThreads,
              stream, dtable, dout, ids, N, V, C, first);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void rope(float *out, const float *inp, int B, int H, int T, int D, float theta,
          long long position_offset, bool inverse, cudaStream_t stream) {
  long long rows = (long long)B * H * T;
  if (rows == 0 || D < 2)
    return;
  LLMC_LAUNCH(device::rope_kernel, device::rope_blocks(rows * (D / 2)),
              device::kRopeThreads, stream, out, inp, rows, T, D, theta,
              position_offset, inverse ? -1.0f : 1.0f);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void rope_at(float *out, const float *inp, const int32_t *positions, int B,
             int H, int T, int D, float theta, cudaStream_t stream) {
  long long rows = (long long)B * H * T;
  if (rows == 0 || D < 2)
    return;
  LLMC_LAUNCH(device::rope_kernel, device::rope_blocks(rows * (D / 2)),
              device::kRopeThreads, stream, out, inp, rows, T, D, theta, 0,
              1.0f, positions, H);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void add_layernorm_forward(float *sum, float *out, float *mean, float *rstd,
                           const float *a, const float *b, const float *weight,
                           const float *bias, int N, int C, float eps,
                           cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::add_layernorm_forward_kernel, device::warp_row_blocks(N),
              device::kWarpRowThreads, stream, sum, out, mean, rstd, a, b,
              weight, bias, N, C, eps);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

void add_rmsnorm_forward(float *sum, float *out, float *rstd, const float *a,
                         const float *b, const float *weight, int N, int C,
                         float eps, cudaStream_t stream) {
  if (N == 0)
    return;
  LLMC_LAUNCH(device::add_rmsnorm_forward_kernel, device::warp_row_blocks(N),
              device::kWarpRowThreads, stream, sum, out, rstd, a, b, weight, N,
              C, eps);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
