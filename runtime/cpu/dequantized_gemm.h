// The prefill path of the weight-only GEMMs (INT8, bf16): more rows than a
// decode step, so the weight's channels are widened to fp32 a block at a
// time (each thread its own block, in cache) and an sgemm writes those
// columns of the output.
#pragma once

#include <algorithm>
#include <cblas.h>
#include <cstdint>
#include <cstring>
#include <vector>

namespace llmc::cpu {

// out (M, N) = a (M, K) · Wᵀ + bias (N or null), W (N, K) as widen(n, dst)
// writes its channel n (K floats) into dst.
template <typename Widen>
void gemm_widened_blocks(float *out, const float *a, const float *bias,
                         int64_t M, int64_t N, int64_t K, Widen widen) {
  const int64_t block = 256;
  const int64_t blocks = (N + block - 1) / block;
#pragma omp parallel
  {
    std::vector<float> w(size_t(block * K));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      int64_t n0 = b * block, nb = std::min(N, n0 + block) - n0;
      for (int64_t j = 0; j < nb; ++j)
        widen(n0 + j, w.data() + j * K);
      float beta = 0.0f;
      if (bias) {
        for (int64_t m = 0; m < M; ++m)
          std::memcpy(out + m * N + n0, bias + n0, size_t(nb) * sizeof(float));
        beta = 1.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(M),
                  blasint(nb), blasint(K), 1.0f, a, blasint(K), w.data(),
                  blasint(K), beta, out + n0, blasint(N));
    }
  }
}

} // namespace llmc::cpu
