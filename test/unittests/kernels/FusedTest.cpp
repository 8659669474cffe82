// Tests that each fused kernel gives bit-identical results to the pair of
// kernels it replaces (llmc-fuse-kernels relies on that to keep parity).
#include "runtime/cpu/fused.h"
#include "runtime/cpu/activation.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/layernorm.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/rmsnorm.h"
#include "test/unittests/kernels/GradCheck.h"

#include <gtest/gtest.h>

namespace llmc::cpu {
namespace {

using test::random_vector;

TEST(FusedTest, AddLayerNormEqualsAddThenLayerNorm) {
  const int64_t N = 37, C = 48;
  auto a = random_vector(N * C, 1), b = random_vector(N * C, 2);
  auto w = random_vector(C, 3), bias = random_vector(C, 4);
  std::vector<float> sum(N * C), out(N * C), mean(N), rstd(N);
  add_forward(sum.data(), a.data(), b.data(), N * C, N * C);
  layernorm_forward(out.data(), mean.data(), rstd.data(), sum.data(), w.data(),
                    bias.data(), N, C, 1e-5f);

  std::vector<float> fsum(N * C), fout(N * C), fmean(N), frstd(N);
  add_layernorm_forward(fsum.data(), fout.data(), fmean.data(), frstd.data(),
                        a.data(), b.data(), w.data(), bias.data(), N, C, 1e-5f);
  EXPECT_EQ(fsum, sum);
  EXPECT_EQ(fout, out);
  EXPECT_EQ(fmean, mean);
  EXPECT_EQ(frstd, rstd);
}

TEST(FusedTest, AddRmsNormEqualsAddThenRmsNorm) {
  const int64_t N = 29, C = 64;
  auto a = random_vector(N * C, 5), b = random_vector(N * C, 6);
  auto w = random_vector(C, 7);
  std::vector<float> sum(N * C), out(N * C), rstd(N);
  add_forward(sum.data(), a.data(), b.data(), N * C, N * C);
  rmsnorm_forward(out.data(), rstd.data(), sum.data(), w.data(), N, C, 1e-6f);

  std::vector<float> fsum(N * C), fout(N * C), frstd(N);
  add_rmsnorm_forward(fsum.data(), fout.data(), frstd.data(), a.data(),
                      b.data(), w.data(), N, C, 1e-6f);
  EXPECT_EQ(fsum, sum);
  EXPECT_EQ(fout, out);
  EXPECT_EQ(frstd, rstd);
}

// Row blocks of the fused GEMM must reproduce one whole GEMM: checked with a
// row count that does not divide into the block size, both weight layouts,
// both GELU forms, and the batched-weight fallback.
void expectMatmulBiasGeluMatches(int64_t batch, int64_t M, int64_t N, int64_t K,
                                 bool trans_b, bool b_batched, bool tanh) {
  auto a = random_vector(batch * M * K, 11);
  auto b = random_vector((b_batched ? batch : 1) * K * N, 12);
  auto bias = random_vector(N, 13);
  std::vector<float> pre(batch * M * N), out(batch * M * N);
  matmul_forward(pre.data(), a.data(), b.data(), bias.data(), batch, M, N, K,
                 false, trans_b, b_batched);
  (tanh ? gelu_tanh_forward : gelu_erf_forward)(out.data(), pre.data(),
                                                batch * M * N);
  std::vector<float> fpre(pre.size()), fout(out.size());
  matmul_bias_gelu_forward(fpre.data(), fout.data(), a.data(), b.data(),
                           bias.data(), batch, M, N, K, false, trans_b,
                           b_batched, tanh);
  for (size_t i = 0; i < pre.size(); ++i) {
    // sgemm may block a smaller GEMM differently: allow float rounding.
    ASSERT_NEAR(fpre[i], pre[i], 1e-5f * std::max(1.0f, std::abs(pre[i])));
    ASSERT_NEAR(fout[i], out[i], 1e-5f * std::max(1.0f, std::abs(out[i])));
  }
}

TEST(FusedTest, MatmulBiasGeluMatchesMatmulThenGelu) {
  expectMatmulBiasGeluMatches(3, 700, 4096, 16, false, false, true);
  expectMatmulBiasGeluMatches(2, 300, 4096, 24, true, false, false);
  expectMatmulBiasGeluMatches(2, 5, 7, 3, false, true, true);
}

// The same for the up projection with SwiGLU in its epilogue.
void expectMatmulSwigluMatches(int64_t batch, int64_t M, int64_t N, int64_t K,
                               bool trans_b, bool b_batched) {
  auto a = random_vector(batch * M * K, 21);
  auto b = random_vector((b_batched ? batch : 1) * K * N, 22);
  auto gate = random_vector(batch * M * N, 23);
  std::vector<float> up(batch * M * N), out(batch * M * N);
  matmul_forward(up.data(), a.data(), b.data(), nullptr, batch, M, N, K, false,
                 trans_b, b_batched);
  swiglu_forward(out.data(), gate.data(), up.data(), batch * M * N);
  std::vector<float> fup(up.size()), fout(out.size());
  matmul_swiglu_forward(fup.data(), fout.data(), a.data(), b.data(),
                        gate.data(), batch, M, N, K, false, trans_b, b_batched);
  for (size_t i = 0; i < up.size(); ++i) {
    ASSERT_NEAR(fup[i], up[i], 1e-5f * std::max(1.0f, std::abs(up[i])));
    ASSERT_NEAR(fout[i], out[i], 1e-5f * std::max(1.0f, std::abs(out[i])));
  }
}

TEST(FusedTest, MatmulSwigluMatchesMatmulThenSwiglu) {
  expectMatmulSwigluMatches(3, 700, 4096, 16, false, false);
  expectMatmulSwigluMatches(2, 300, 4096, 24, true, false);
  expectMatmulSwigluMatches(2, 5, 7, 3, false, true);
  expectMatmulSwigluMatches(1, 1, 64, 32, true, false); // a decode step
}

} // namespace
} // namespace llmc::cpu
