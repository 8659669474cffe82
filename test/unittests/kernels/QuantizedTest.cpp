// Tests INT8 weight-only GEMMs against the fp32 GEMM they replace: each
// weight, stored in its channel's row whatever the fp32 layout, is within
// half a step of its channel's scale after quantization,
// and each output within the bound that follows, |Δy[m, n]| ≤ scale[n]/2 ·
// Σ_k |a[m, k]| (plus float rounding), in both weight layouts, for decode
// rows (int8 dot products) and prefill rows (dequantized blocks and sgemm),
// with and without a bias.
#include "runtime/cpu/quantized.h"
#include "runtime/cpu/matmul.h"
#include "test/unittests/kernels/GradCheck.h"

#include <cmath>
#include <gtest/gtest.h>

namespace llmc::cpu {
namespace {

using test::random_vector;

void expectWithinQuantizationBound(int64_t M, int64_t N, int64_t K,
                                   bool channel_rows, bool with_bias) {
  auto a = random_vector(M * K, 31);
  auto w = random_vector(N * K, 32);
  auto bias = random_vector(N, 33);
  std::vector<int8_t> q(static_cast<size_t>(N * K));
  std::vector<float> scale(static_cast<size_t>(N));
  quantize_weights_i8(q.data(), scale.data(), w.data(), N, K, channel_rows);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      int64_t i = channel_rows ? n * K + k : k * N + n;
      ASSERT_LE(std::abs(float(q[n * K + k]) * scale[n] - w[i]),
                scale[n] * 0.5f * (1 + 1e-5f));
    }
  const float *b = with_bias ? bias.data() : nullptr;
  std::vector<float> want(static_cast<size_t>(M * N)),
      have(static_cast<size_t>(M * N));
  matmul_forward(want.data(), a.data(), w.data(), b, 1, M, N, K, false,
                 channel_rows, false);
  matmul_i8w_forward(have.data(), a.data(), q.data(), scale.data(), b, M, N, K);
  for (int64_t m = 0; m < M; ++m) {
    float l1 = 0;
    for (int64_t k = 0; k < K; ++k)
      l1 += std::abs(a[m * K + k]);
    for (int64_t n = 0; n < N; ++n) {
      float bound =
          scale[n] * 0.5f * l1 + 1e-4f * (1 + std::abs(want[m * N + n]));
      ASSERT_LE(std::abs(have[m * N + n] - want[m * N + n]), bound)
          << "m " << m << " n " << n;
    }
  }
}

TEST(QuantizedTest, DecodeRowsWithinBound) {
  expectWithinQuantizationBound(1, 300, 96, true, false);
  expectWithinQuantizationBound(3, 300, 96, false, true);
  expectWithinQuantizationBound(8, 257, 64, true, true);
}

TEST(QuantizedTest, PrefillRowsWithinBound) {
  expectWithinQuantizationBound(33, 600, 80, true, true);
  expectWithinQuantizationBound(40, 513, 48, false, false);
}

TEST(QuantizedTest, ZeroChannelQuantizesToZero) {
  std::vector<float> w = {0, 0, 0, 1, -2, 0.5f};
  std::vector<int8_t> q(6);
  std::vector<float> scale(2);
  quantize_weights_i8(q.data(), scale.data(), w.data(), 2, 3, true);
  EXPECT_EQ(q[0], 0);
  EXPECT_EQ(q[4], -127);
  EXPECT_FLOAT_EQ(scale[1], 2.0f / 127.0f);
}

} // namespace
} // namespace llmc::cpu
