// Float helpers for the kernels' inner loops, written so the compiler
// vectorises them at the baseline ISA without -ffast-math: exp without a
// libm call, and max / sum reductions over 8 independent lanes (a fixed
// order, so results stay deterministic). Internal to runtime/cpu.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace llmc::cpu::vec {

constexpr int kLanes = 8;

// exp(x) within ~2 ulp for x in [-87, 88] (Cephes expf: exp(x) = 2^n e^r,
// r = x - n ln2 in [-ln2/2, ln2/2], degree-6 polynomial for e^r). Below -87
// it returns ~1e-38 instead of a denormal or 0; callers only exponentiate
// x <= 0 differences where that is harmless. NaN stays NaN.
inline float exp_approx(float in) {
  // Clamp (NaN to -87 as well, so the integer conversion below is defined);
  // the NaN is put back at the end.
  float x = in >= -87.0f ? in : -87.0f;
  x = x > 88.0f ? 88.0f : x;
  // Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick.
  const float magic = 12582912.0f;
  const float n = (x * 1.44269504088896341f + magic) - magic;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (int32_t(n) + 127) * (int32_t(1) << 23);
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return in == in ? p * scale : in;
}

// tanh through exp_approx, so loops over it vectorise (libm's tanhf does
// not); absolute error about 1e-7.
inline float tanh_approx(float x) {
  return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
}

// y[i] = exp(x[i] - shift). y may alias x.
inline void exp_shifted(float *y, const float *x, float shift, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    y[i] = exp_approx(x[i] - shift);
}

// max of x[0..n), -inf for n == 0.
inline float max(const float *x, int64_t n) {
  float m[kLanes];
  for (int l = 0; l < kLanes; l++)
    m[l] = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; l++)
      m[l] = x[i + l] > m[l] ? x[i + l] : m[l];
  for (; i < n; i++)
    m[0] = x[i] > m[0] ? x[i] : m[0];
  float r = m[0];
  for (int l = 1; l < kLanes; l++)
    r = m[l] > r ? m[l] : r;
  return r;
}

// sum of x[0..n) over 8 lanes, combined in a fixed order.
inline float sum(const float *x, int64_t n) {
  float s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; l++)
      s[l] += x[i + l];
  for (; i < n; i++)
    s[0] += x[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// The sum of term(i) for i in [0, n) over 8 lanes, combined in a fixed
// order: a reduction the compiler vectorises without -ffast-math (a plain
// `s += term(i)` loop must stay scalar to keep its order).
template <typename Term> inline float sum_of(int64_t n, Term term) {
  float s[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; l++)
      s[l] += term(i + l);
  for (; i < n; i++)
    s[0] += term(i);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// sum of x[i] * y[i] over 8 lanes, combined in a fixed order.
inline float dot(const float *x, const float *y, int64_t n) {
  return sum_of(n, [=](int64_t i) { return x[i] * y[i]; });
}

// y = softmax(x) over n > 0 elements (max subtracted); returns their
// log-sum-exp. y may alias x.
inline float softmax(float *y, const float *x, int64_t n) {
  const float maxv = max(x, n);
  // In place the loop must see one pointer: over two that may overlap it
  // checks at run time, and where they do overlap runs scalar code.
  if (y == x)
    exp_shifted(y, y, maxv, n);
  else
    exp_shifted(y, x, maxv, n);
  const float total = sum(y, n);
  const float inv = 1.0f / total;
  for (int64_t i = 0; i < n; i++)
    y[i] *= inv;
  return maxv + std::log(total);
}

#ifdef __AVX2__
// The sum of an AVX register's 8 floats, for kernels written with AVX2
// intrinsics (the GEMVs).
inline float sum8(__m256 v) {
  __m128 half =
      _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  half = _mm_add_ps(half, _mm_movehl_ps(half, half));
  half = _mm_add_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}
#endif

} // namespace llmc::cpu::vec
