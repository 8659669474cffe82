// RoPE: a cos / sin table per token (t, or its position) computed once per
// call, then applied to every (b, h) in parallel.
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

// {cos, sin} of angle p * inv_freq[i] for i < D / 2, in float32 as HF
// computes them, into cs[2 i], cs[2 i + 1].
void angles(float *cs, float p, const std::vector<float> &inv_freq) {
  for (size_t i = 0; i < inv_freq.size(); i++) {
    const float angle = p * inv_freq[i];
    cs[2 * i] = std::cos(angle);
    cs[2 * i + 1] = std::sin(angle);
  }
}

// Rotates every row (b, h, t) of a (B, H, T, D) tensor by table row
// `row_of(b, t)` of `cs` (D / 2 {cos, sin} pairs), copying it where that
// is negative; sign = +1 rotates forward, -1 applies the transpose.
template <typename RowOf>
void rotate(float *out, const float *inp, int64_t B, int64_t H, int64_t T,
            int64_t D, const float *cs, float sign, RowOf row_of) {
  const int64_t half = D / 2;
#pragma omp parallel for
  for (int64_t row = 0; row < B * H * T; row++) {
    const int64_t t = row % T, b = row / (H * T);
    const float *x = inp + row * D;
    float *o = out + row * D;
    const int64_t r = row_of(b, t);
    if (r < 0) {
      std::copy(x, x + D, o);
      continue;
    }
    const float *c = cs + r * half * 2;
    for (int64_t i = 0; i < half; i++) {
      const float cosv = c[2 * i], sinv = sign * c[2 * i + 1];
      const float x1 = x[i], x2 = x[i + half];
      o[i] = x1 * cosv - x2 * sinv;
      o[i + half] = x2 * cosv + x1 * sinv;
    }
  }
}

// Token t at position t + position_offset.
void rope_apply(float *out, const float *inp, int64_t B, int64_t H, int64_t T,
                int64_t D, float theta, int64_t position_offset, float sign) {
  const std::vector<float> inv_freq = inverse_frequencies(D, theta);
  std::vector<float> table(size_t(T * D));
  for (int64_t t = 0; t < T; t++)
    angles(table.data() + t * D, float(t + position_offset), inv_freq);
  rotate(out, inp, B, H, T, D, table.data(), sign,
         [](int64_t, int64_t t) { return t; });
}

} // namespace

// The angles once per token, shared by its H heads.
void rope_at_forward(float *out, const float *inp, const int32_t *positions,
                     int64_t B, int64_t H, int64_t T, int64_t D, float theta) {
  const std::vector<float> inv_freq = inverse_frequencies(D, theta);
  std::vector<float> table(size_t(B * T * D));
#pragma omp parallel for
  for (int64_t bt = 0; bt < B * T; bt++)
    if (positions[bt] >= 0)
      angles(table.data() + bt * D, float(positions[bt]), inv_freq);
  rotate(out, inp, B, H, T, D, table.data(), 1.0f, [&](int64_t b, int64_t t) {
    return positions[b * T + t] < 0 ? int64_t(-1) : b * T + t;
  });
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
