// Launcher of the attention forward kernel; see attention.cuh.
#include "runtime/cuda/attention.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/attention.cuh"

#include <cstdio>
#include <cstdlib>

namespace llmc::cuda {

void attention_forward(float *out, float *lse, const float *q, const float *k,
                       const float *v, int B, int Hq, int Hkv, int Tq, int Tk,
                       int D, int Dv, float scale, bool causal,
                       cudaStream_t stream) {
  long long rows = (long long)B * Hq * Tq;
  if (rows == 0)
    return;
  if (Dv > device::kAttentionMaxDv || Hkv <= 0 || Hq % Hkv != 0) {
    std::fprintf(stderr,
                 "llmc: attention_forward on the GPU takes Dv <= %d and kv "
                 "heads dividing the query heads (Dv %d, Hq %d, Hkv %d)\n",
                 device::kAttentionMaxDv, Dv, Hq, Hkv);
    std::exit(EXIT_FAILURE);
  }
  device::attention_forward_kernel<<<device::warp_row_blocks(
                                         rows, device::kAttentionThreads),
                                     device::kAttentionThreads, 0, stream>>>(
      out, lse, q, k, v, B, Hq, Hkv, Tq, Tk, D, Dv, scale, causal);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
