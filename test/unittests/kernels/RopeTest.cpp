// Tests RoPE against the rotate_half formula in double, against Hugging
// Face's float32 angle computation, and its backward against finite
// differences and as the inverse rotation.

#include "runtime/cpu/rope.h"

#include "GradCheck.h"

#include <cmath>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t B = 2, H = 3, T = 5, D = 8;

// The rotate_half formula with the angle computed from inv_freq[i] (float or
// double angle arithmetic is the caller's choice through angle_of).
template <typename AngleOf>
std::vector<double> rotate_reference(const std::vector<float> &x,
                                     AngleOf angle_of) {
  std::vector<double> out(x.size());
  const int64_t half = D / 2;
  for (int64_t row = 0; row < B * H * T; row++) {
    const int64_t t = row % T;
    for (int64_t i = 0; i < half; i++) {
      const double angle = angle_of(t, i);
      const double x1 = x[size_t(row * D + i)],
                   x2 = x[size_t(row * D + i + half)];
      out[size_t(row * D + i)] = x1 * std::cos(angle) - x2 * std::sin(angle);
      out[size_t(row * D + i + half)] =
          x2 * std::cos(angle) + x1 * std::sin(angle);
    }
  }
  return out;
}

TEST(RopeTest, ForwardMatchesFormula) {
  const std::vector<float> x = random_vector(B * H * T * D, 101);
  std::vector<float> out(x.size());
  rope_forward(out.data(), x.data(), B, H, T, D, 10000.0f, 0);
  auto exact = [](int64_t t, int64_t i) {
    return double(t) * std::pow(10000.0, -2.0 * double(i) / double(D));
  };
  EXPECT_TRUE(all_near("rope", out, rotate_reference(x, exact), 2e-6));
}

TEST(RopeTest, ForwardWithOffsetMatchesFormula) {
  // At positions ~1000 the float32 angle (HF's) is off by up to ~1e-4 rad
  // from the exact one, so the exact formula only agrees to ~2e-4 ...
  const int64_t offset = 1000;
  const float theta = 500000.0f;
  const std::vector<float> x = random_vector(B * H * T * D, 102);
  std::vector<float> out(x.size());
  rope_forward(out.data(), x.data(), B, H, T, D, theta, offset);
  auto exact = [&](int64_t t, int64_t i) {
    return double(t + offset) *
           std::pow(double(theta), -2.0 * double(i) / double(D));
  };
  EXPECT_TRUE(all_near("rope", out, rotate_reference(x, exact), 3e-4));
  // ... while HF's float32 steps (inv_freq = 1 / theta ** (arange(0, D, 2) /
  // D), freqs = position * inv_freq, all in float32) agree to rounding.
  auto hf_float32 = [&](int64_t t, int64_t i) {
    const float inv_freq = 1.0f / std::pow(theta, float(2 * i) / float(D));
    return double(float(t + offset) * inv_freq);
  };
  EXPECT_TRUE(all_near("rope", out, rotate_reference(x, hf_float32), 2e-6));
}

TEST(RopeTest, BackwardMatchesFiniteDifferences) {
  const int64_t offset = 3;
  std::vector<float> x = random_vector(B * H * T * D, 103);
  const std::vector<float> r = random_vector(x.size(), 104);
  std::vector<float> dx(x.size()), out(x.size());
  rope_backward(dx.data(), r.data(), B, H, T, D, 10000.0f, offset);
  auto loss = [&] {
    rope_forward(out.data(), x.data(), B, H, T, D, 10000.0f, offset);
    return project(r, out.data());
  };
  EXPECT_TRUE(check_gradient("dinp", x, dx, loss));
}

TEST(RopeTest, BackwardUndoesForwardInPlace) {
  const std::vector<float> x = random_vector(B * H * T * D, 105);
  std::vector<float> y = x;
  rope_forward(y.data(), y.data(), B, H, T, D, 10000.0f, 7); // aliased
  rope_backward(y.data(), y.data(), B, H, T, D, 10000.0f, 7);
  std::vector<double> ref(x.begin(), x.end());
  EXPECT_TRUE(all_near("roundtrip", y, ref, 1e-6));
}

} // namespace
