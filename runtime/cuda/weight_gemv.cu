// Launchers of the narrow-weight GEMMs; see weight_gemv.cuh.
#include "runtime/cuda/weight_gemv.cuh"

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/weight_gemv.cuh"
#include "runtime/cuda/launch.h"

namespace llmc::cuda {
namespace {

template <class Weight>
void weight_gemv(float *out, const float *a, const Weight *w,
                 const float *scale, const float *bias, int M, int N, int K,
                 cudaStream_t stream) {
  long long outputs = (long long)M * N;
  if (outputs == 0)
    return;
  LLMC_LAUNCH(device::weight_gemv_kernel<Weight>,
              device::warp_row_blocks(outputs, device::kWeightGemvThreads),
              device::kWeightGemvThreads, stream, out, a, w, scale, bias, M, N,
              K);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace

void matmul_i8w(float *out, const float *a, const int8_t *q, const float *scale,
                const float *bias, int M, int N, int K, cudaStream_t stream) {
  weight_gemv(out, a, q, scale, bias, M, N, K, stream);
}

void matmul_bf16w(float *out, const float *a, const uint16_t *q,
                  const float *bias, int M, int N, int K, cudaStream_t stream) {
  weight_gemv<uint16_t>(out, a, q, nullptr, bias, M, N, K, stream);
}

} // namespace llmc::cuda
