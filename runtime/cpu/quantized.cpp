// INT8 weight-only GEMMs (see quantized.h).
#include "runtime/cpu/quantized.h"
#include "runtime/cpu/dequantized_gemm.h"
#include "runtime/cpu/vec_math.h"

#include <algorithm>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <cmath>
#include <cstring>
#include <vector>

namespace llmc::cpu {

void quantize_weights_i8(int8_t *q, float *scale, const float *w, int64_t N,
                         int64_t K, bool trans_b) {
  // Element (n, k) of the fp32 weight, wherever its layout keeps it.
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
      q[n * K + k] = int8_t(std::lrintf(w[at(n, k)] / s));
  }
}

// How far ahead of its loads a row prefetches its weights (and, near its
// end, the next rows'): with the hardware prefetcher alone, batch-1 INT8
// decode read 10-13 GB/s where fp32's GEMV (which prefetches the same way,
// gemv.cpp) read 27, measured on an Intel Xeon.
constexpr int64_t kAheadBytes = 8192;

// Rows below this multiply the int8 weights directly: each weight is read
// once for all of them. Above it, sgemm on dequantized blocks is faster.
static constexpr int64_t kDirectRows = 8;

// dots[r] = x_r · w for R rows x_r (a stride of K floats apart) and one
// int8 w of length K: each 8 weights are converted once for all R rows.
template <int R>
static void dots_i8(float *dots, const float *x, const int8_t *w, int64_t K) {
  int64_t k = 0;
  for (int r = 0; r < R; ++r)
    dots[r] = 0.0f;
#ifdef __AVX2__
  __m256 acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = _mm256_setzero_ps();
  for (; k + 8 <= K; k += 8) {
    if (k % 64 == 0) // once a cache line
      _mm_prefetch(reinterpret_cast<const char *>(w + k) + kAheadBytes,
                   _MM_HINT_T0);
    __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(w + k));
    __m256 wk = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    for (int r = 0; r < R; ++r)
      acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + r * K + k), wk, acc[r]);
  }
  for (int r = 0; r < R; ++r)
    dots[r] = vec::sum8(acc[r]);
#endif
  for (; k < K; ++k)
    for (int r = 0; r < R; ++r)
      dots[r] += x[r * K + k] * float(w[k]);
}

// x · w for one row: 16 weights a step, two accumulators in flight.
static float dot_i8(const float *x, const int8_t *w, int64_t K) {
  int64_t k = 0;
  float sum = 0.0f;
#ifdef __AVX2__
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; k + 16 <= K; k += 16) {
    if (k % 64 == 0) // once a cache line
      _mm_prefetch(reinterpret_cast<const char *>(w + k) + kAheadBytes,
                   _MM_HINT_T0);
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(w + k));
    __m256 w0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    __m256 w1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), w0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), w1, acc1);
  }
  sum = vec::sum8(_mm256_add_ps(acc0, acc1));
#endif
  for (; k < K; ++k)
    sum += x[k] * float(w[k]);
  return sum;
}

// out[m, n] for every row m and channel n of a (N, K) weight: the channel's
// weights read once, for four rows at a time.
static void rows_direct(float *out, const float *a, const int8_t *q,
                        const float *scale, const float *bias, int64_t M,
                        int64_t N, int64_t K, int64_t n) {
  const int8_t *row = q + n * K;
  float b = bias ? bias[n] : 0.0f, dots[4];
  int64_t m = 0;
  for (; m + 4 <= M; m += 4) {
    dots_i8<4>(dots, a + m * K, row, K);
    for (int r = 0; r < 4; ++r)
      out[(m + r) * N + n] = dots[r] * scale[n] + b;
  }
  for (; m < M; ++m)
    out[m * N + n] = dot_i8(a + m * K, row, K) * scale[n] + b;
}

void matmul_i8w_forward(float *out, const float *a, const int8_t *q,
                        const float *scale, const float *bias, int64_t M,
                        int64_t N, int64_t K) {
  if (M <= 0 || N <= 0)
    return;
  if (M <= kDirectRows) {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; ++n)
      rows_direct(out, a, q, scale, bias, M, N, K, n);
    return;
  }
  gemm_widened_blocks(out, a, bias, M, N, K, [&](int64_t n, float *dst) {
    const int8_t *src = q + n * K;
    const float s = scale[n];
    for (int64_t k = 0; k < K; ++k)
      dst[k] = float(src[k]) * s;
  });
}

} // namespace llmc::cpu
