#include "runtime/cpu/gemv.h"
#include "runtime/cpu/vec_math.h"

#include <algorithm>
#include <cstring>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace llmc::cpu {
namespace {

// x · w over K, four accumulators in flight so the FMAs never wait.
float dot(const float *x, const float *w, int64_t K) {
  int64_t k = 0;
  float sum = 0.0f;
#ifdef __AVX2__
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (; k + 32 <= K; k += 32)
    for (int j = 0; j < 4; j++)
      acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8 * j),
                               _mm256_loadu_ps(w + k + 8 * j), acc[j]);
  for (; k + 8 <= K; k += 8)
    acc[0] =
        _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(w + k), acc[0]);
  sum = vec::sum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]),
                                _mm256_add_ps(acc[2], acc[3])));
#endif
  for (; k < K; k++)
    sum += x[k] * w[k];
  return sum;
}

} // namespace

void gemv_forward(float *out, const float *x, const float *w, const float *bias,
                  int64_t N, int64_t K, bool trans_w) {
  if (trans_w) {
    // Rows of w are outputs: each thread streams its own run of rows.
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < N; n++)
      out[n] = dot(x, w + n * K, K) + (bias ? bias[n] : 0.0f);
    return;
  }
  // Columns of w are outputs: each thread owns a run of columns (whole
  // cache lines) and adds x[k] times that part of every row, in k order.
  const int64_t kLine = 16, lines = (N + kLine - 1) / kLine;
#pragma omp parallel
  {
#ifdef _OPENMP
    const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
#else
    const int64_t threads = 1, t = 0;
#endif
    const int64_t c0 = std::min(N, lines * t / threads * kLine);
    const int64_t c1 = std::min(N, lines * (t + 1) / threads * kLine);
    float *__restrict y = out + c0;
    const int64_t width = c1 - c0;
    if (bias)
      std::memcpy(y, bias + c0, size_t(width) * sizeof(float));
    else
      std::fill(y, y + width, 0.0f);
    // Four rows a pass over y: a quarter of the loads and stores of y,
    // the same sums in the same order as one row at a time.
    int64_t k = 0;
    for (; k + 4 <= K; k += 4) {
      const float x0 = x[k], x1 = x[k + 1], x2 = x[k + 2], x3 = x[k + 3];
      const float *__restrict r0 = w + k * N + c0;
      const float *__restrict r1 = r0 + N, *__restrict r2 = r1 + N,
                              *__restrict r3 = r2 + N;
      for (int64_t c = 0; c < width; c++)
        y[c] = y[c] + x0 * r0[c] + x1 * r1[c] + x2 * r2[c] + x3 * r3[c];
    }
    for (; k < K; k++) {
      const float xk = x[k], *__restrict row = w + k * N + c0;
      for (int64_t c = 0; c < width; c++)
        y[c] += xk * row[c];
    }
  }
}

} // namespace llmc::cpu
