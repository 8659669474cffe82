// RoPE: a cos / sin table per (t, i) computed once per call, then applied to
// every (b, h) in parallel.
#include "runtime/cpu/rope.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace llmc::cpu {

namespace {

// inv_freq[i] = 1 / theta^(2i / D), in float32 as HF computes it.
std::vector<float> inverse_frequencies(int64_t D, float theta) {
  std::vector<float> inv_freq(static_cast<size_t>(D / 2));
  for (int64_t i = 0; i < D / 2; i++)
    inv_freq[size_t(i)] = 1.0f / std::pow(theta, float(2 * i) / float(D));
  return inv_freq;
}

// cos_sin[(t * half + i) * 2 + {0, 1}] = {cos, sin} of the angle, as HF does
// it in float32.
std::vector<float> rope_table(int64_t T, int64_t D, float theta,
                              int64_t position_offset) {
  const int64_t half = D / 2;
  const std::vector<float> inv_freq = inverse_frequencies(D, theta);
  std::vector<float> table(size_t(T * half * 2));
  for (int64_t t = 0; t < T; t++) {
    const float p = float(t + position_offset);
    for (int64_t i = 0; i < half; i++) {
      const float angle = p * inv_freq[size_t(i)];
      table[size_t((t * half + i) * 2)] = std::cos(angle);
      table[size_t((t * half + i) * 2 + 1)] = std::sin(angle);
    }
  }
  return table;
}

// sign = +1 rotates forward, -1 applies the transpose.
void rope_apply(float *out, const float *inp, int64_t B, int64_t H, int64_t T,
                int64_t D, float theta, int64_t position_offset, float sign) {
  const int64_t half = D / 2;
  const std::vector<float> table = rope_table(T, D, theta, position_offset);
  const float *cs = table.data();
  const int64_t BHT = B * H * T;
#pragma omp parallel for
  for (int64_t row = 0; row < BHT; row++) {
    const int64_t t = row % T;
    const float *x = inp + row * D;
    float *o = out + row * D;
    const float *c = cs + t * half * 2;
    for (int64_t i = 0; i < half; i++) {
      const float cosv = c[2 * i], sinv = sign * c[2 * i + 1];
      const float x1 = x[i], x2 = x[i + half];
      o[i] = x1 * cosv - x2 * sinv;
      o[i + half] = x2 * cosv + x1 * sinv;
    }
  }
}

} // namespace

void rope_at_forward(float *out, const float *inp, const int32_t *positions,
                     int64_t B, int64_t H, int64_t T, int64_t D, float theta) {
  const int64_t half = D / 2;
  const std::vector<float> inv_freq = inverse_frequencies(D, theta);
#pragma omp parallel for
  for (int64_t row = 0; row < B * H * T; row++) {
    const int64_t t = row % T, b = row / (H * T);
    const float *x = inp + row * D;
    float *o = out + row * D;
    const int32_t p = positions[b * T + t];
    if (p < 0) {
      std::copy(x, x + D, o);
      continue;
    }
    for (int64_t i = 0; i < half; i++) {
      const float angle = float(p) * inv_freq[size_t(i)];
      const float cosv = std::cos(angle), sinv = std::sin(angle);
      const float x1 = x[i], x2 = x[i + half];
      o[i] = x1 * cosv - x2 * sinv;
      o[i + half] = x2 * cosv + x1 * sinv;
    }
  }
}

void rope_forward(float *out, const float *inp, int64_t B, int64_t H, int64_t T,
                  int64_t D, float theta, int64_t position_offset) {
  rope_apply(out, inp, B, H, T, D, theta, position_offset, 1.0f);
}

void rope_backward(float *dinp, const float *dout, int64_t B, int64_t H,
                   int64_t T, int64_t D, float theta, int64_t position_offset) {
  rope_apply(dinp, dout, B, H, T, D, theta, position_offset, -1.0f);
}

} // namespace llmc::cpu
