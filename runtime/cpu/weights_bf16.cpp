// bf16 weight-only GEMMs (see weights_bf16.h).
#include "runtime/cpu/weights_bf16.h"

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/dequantized_gemm.h"
#include "runtime/cpu/gemm_library.h"
#include "runtime/cpu/gemv.h"
#include "runtime/cpu/onednn_matmul.h"

#include <vector>

namespace llmc::cpu {

void pack_weights_bf16(uint16_t *q, const float *w, int64_t N, int64_t K,
                       bool trans_b) {
  if (trans_b) {
    round_to_bf16(q, w, N * K);
    return;
  }
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      q[n * K + k] = to_bf16(w[k * N + n]);
}

void matmul_bf16w_forward(float *out, const float *a, const uint16_t *q,
                          const float *bias, int64_t M, int64_t N, int64_t K,
                          GemmMath math) {
  if (M <= 0 || N <= 0)
    return;
  if (math == GemmMath::BF16) {
    if (M > kGemvMaxRows && gemm_library() == GemmLibrary::OneDnn &&
        onednn_matmul(out, a, nullptr, bias, 1, M, N, K, false, true, false,
                      true, {{}, {q, nullptr}}))
      return;
    // The rows rounded, then the fp32 path on their exact bf16 values.
    thread_local std::vector<float> rounded;
    rounded.resize(size_t(M * K));
    round_through_bf16(rounded.data(), a, M * K);
    return matmul_bf16w_forward(out, rounded.data(), q, bias, M, N, K);
  }
  if (M <= kGemvMaxRows) {
    gemv_bf16w_forward(out, a, q, bias, M, N, K);
    return;
  }
  gemm_widened_blocks(out, a, bias, M, N, K, [&](int64_t n, float *dst) {
    const uint16_t *src = q + n * K;
    for (int64_t k = 0; k < K; ++k)
      dst[k] = from_bf16(src[k]);
  });
}

} // namespace llmc::cpu
