// RoPE: a cos / sin table per (t, i) computed once per call, then applied to
// every (b, h) in parallel.
#include "runtime/cpu/rope.h"

#include <cmath>
#include <vector>

namespace llmc::cpu {

namespace {

// cos_sin[(t * half + i) * 2 + {0, 1}] = {cos, sin} of the angle, as HF does
// it in float32.
std::vector<float> rope_table(int64_t T, int64_t D, float theta,
                              int64_t position_offset) {
  const int64_t half = D / 2;
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; i++)
    inv_freq[size_t(i)] = 1.0f / std::pow(theta, float(2 * i) / float(D));
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

void rope_forward(float *out, const float *inp, int64_t B, int64_t H, int64_t T,
                  int64_t D, float theta, int64_t position_offset) {
  rope_apply(out, inp, B, H, T, D, theta, position_offset, 1.0f);
}

void rope_backward(float *dinp, const float *dout, int64_t B, int64_t H,
                   int64_t T, int64_t D, float theta, int64_t position_offset) {
  rope_apply(dinp, dout, B, H, T, D, theta, position_offset, -1.0f);
}

} // namespace llmc::cpu
