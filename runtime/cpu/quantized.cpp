// INT8 weight-only GEMMs (see quantized.h).
#include "runtime/cpu/quantized.h"

#include <algorithm>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <cblas.h>
#include <cmath>
#include <cstring>
#include <vector>

namespace llmc::cpu {

void quantize_weights_i8(int8_t *q, float *scale, const float *w, int64_t N,
                         int64_t K, bool trans_b) {
  // Element (n, k) of the weight, wherever its layout keeps it.
  auto at = [&](int64_t n, int64_t k) {
    return trans_b ? n * K + k : k * N + n;
  };
#pragma omp parallel for
  for (int64_t n = 0; n < N; ++n) {
    float max = 0.0f;
    for (int64_t k = 0; k < K; ++k)
      max = std::max(max, std::fabs(w[at(n, k)]));
    float s = max > 0.0f ? max / 127.0f : 1.0f;
    scale[n] = s;
    for (int64_t k = 0; k < K; ++k)
      q[at(n, k)] = int8_t(std::lrintf(w[at(n, k)] / s));
  }
}

// Rows below this multiply the int8 weights directly: each weight is read
// once for all of them. Above it, sgemm on dequantized blocks is faster.
static constexpr int64_t kDirectRows = 8;

// x · w for fp32 x and int8 w of length K.
static float dot_i8(const float *x, const int8_t *w, int64_t K) {
  int64_t k = 0;
  float sum = 0.0f;
#ifdef __AVX2__
  // 16 weights a step: sign-extended to int32, converted, two FMAs.
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; k + 16 <= K; k += 16) {
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(w + k));
    __m256 w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    __m256 w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), w0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), w1, acc1);
  }
  __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 half =
      _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  sum = _mm_cvtss_f32(half);
#endif
  for (; k < K; ++k)
    sum += x[k] * float(w[k]);
  return sum;
}

// out[m, n] of a (N, K) weight's channel n: one int8 dot product per row,
// the weight's row read from cache after the first.
static void rows_direct(float *out, const float *a, const int8_t *q,
                        const float *scale, const float *bias, int64_t M,
                        int64_t N, int64_t K, int64_t n) {
  const int8_t *row = q + n * K;
  for (int64_t m = 0; m < M; ++m)
    out[m * N + n] =
        dot_i8(a + m * K, row, K) * scale[n] + (bias ? bias[n] : 0.0f);
}

void matmul_i8w_forward(float *out, const float *a, const int8_t *q,
                        const float *scale, const float *bias, int64_t M,
                        int64_t N, int64_t K, bool trans_b) {
  if (M <= 0 || N <= 0)
    return;
  if (M <= kDirectRows && trans_b) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n)
      rows_direct(out, a, q, scale, bias, M, N, K, n);
    return;
  }
  // Channel blocks: dequantized into fp32 (each thread its own), then one
  // sgemm writes those columns of out.
  const int64_t block = 256;
  const int64_t blocks = (N + block - 1) / block;
  if (M <= kDirectRows) {
    // (K, N) weight, few rows: accumulate whole rows of q into each output
    // row, a block of channels per thread, so q is read once.
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      int64_t n0 = b * block, n1 = std::min(N, n0 + block), nb = n1 - n0;
      for (int64_t m = 0; m < M; ++m) {
        float acc[256] = {};
        const float *x = a + m * K;
        for (int64_t k = 0; k < K; ++k) {
          const int8_t *row = q + k * N + n0;
          float xk = x[k];
#pragma omp simd
          for (int64_t j = 0; j < nb; ++j)
            acc[j] += xk * float(row[j]);
        }
        for (int64_t j = 0; j < nb; ++j)
          out[m * N + n0 + j] =
              acc[j] * scale[n0 + j] + (bias ? bias[n0 + j] : 0.0f);
      }
    }
    return;
  }
#pragma omp parallel
  {
    std::vector<float> w(size_t(block * K));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      int64_t n0 = b * block, n1 = std::min(N, n0 + block), nb = n1 - n0;
      // The block in its stored layout: (nb, K) rows or (K, nb) columns.
      if (trans_b) {
        for (int64_t j = 0; j < nb; ++j) {
          const int8_t *src = q + (n0 + j) * K;
          float s = scale[n0 + j], *dst = w.data() + j * K;
          for (int64_t k = 0; k < K; ++k)
            dst[k] = float(src[k]) * s;
        }
      } else {
        for (int64_t k = 0; k < K; ++k) {
          const int8_t *src = q + k * N + n0;
          float *dst = w.data() + k * nb;
          for (int64_t j = 0; j < nb; ++j)
            dst[j] = float(src[j]) * scale[n0 + j];
        }
      }
      float beta = 0.0f;
      if (bias) {
        for (int64_t m = 0; m < M; ++m)
          std::memcpy(out + m * N + n0, bias + n0, size_t(nb) * sizeof(float));
        beta = 1.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans,
                  trans_b ? CblasTrans : CblasNoTrans, blasint(M), blasint(nb),
                  blasint(K), 1.0f, a, blasint(K), w.data(),
                  blasint(trans_b ? K : nb), beta, out + n0, blasint(N));
    }
  }
}

} // namespace llmc::cpu
