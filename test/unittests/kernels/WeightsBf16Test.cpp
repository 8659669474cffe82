// Tests the bf16 weight-only GEMM (runtime/cpu/weights_bf16.h): packing
// rounds to nearest even and transposes GPT-2's (K, N) layout; the product
// of fp32 rows with the packed weights equals a double-precision product
// with the weights rounded to bf16 (what PyTorch computes after
// `w.to(torch.bfloat16).float()`), for decode rows (the GEMV) and prefill
// rows (widened blocks and sgemm), with and without bias; and each decode
// row's outputs are the same bits alone or batched.

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/gemm_library.h"
#include "runtime/cpu/gemv.h"
#include "runtime/cpu/vector_isa.h"
#include "runtime/cpu/weights_bf16.h"

#include "GradCheck.h"

#include <cmath>
#include <cstring>
#include <string>
#include <tuple>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

// Tests that round_to_bf16 gives to_bf16's bits on both of its paths
// (AVX-512 where the processor has it, the scalar loop), for ties to even
// both ways, NaNs, infinities, subnormals, values that round up to
// infinity, and a tail shorter than a vector.
TEST(WeightsBf16Test, RoundingPathsGiveTheSameBits) {
  std::vector<uint32_t> bits = {0x3f808000u, 0x3f818000u, 0x3f807fffu,
                                0x7f800000u, 0xff800000u, 0x7fc00001u,
                                0xff800001u, 0x7f7fffffu, 0x00000001u,
                                0x80008000u, 0x00000000u, 0x80000000u};
  for (uint32_t i = 0; i < 997; ++i)
    bits.push_back(i * 2654435761u);
  std::vector<float> in(bits.size());
  std::memcpy(in.data(), bits.data(), bits.size() * sizeof(float));
  for (VectorIsa isa : {VectorIsa::Avx2, VectorIsa::Avx512}) {
    set_vector_isa(isa);
    std::vector<uint16_t> out(in.size());
    round_to_bf16(out.data(), in.data(), int64_t(in.size()));
    for (size_t i = 0; i < in.size(); ++i)
      ASSERT_EQ(out[i], to_bf16(in[i]))
          << "bits 0x" << std::hex << bits[i] << " on " << vector_isa_name();
  }
  set_vector_isa(VectorIsa::Avx512); // the processor's best again
}

TEST(WeightsBf16Test, PackRoundsAndTransposes) {
  const int64_t N = 5, K = 3;
  const std::vector<float> w = random_vector(size_t(N * K), 7);
  std::vector<uint16_t> rows(w.size()), cols(w.size());
  pack_weights_bf16(rows.data(), w.data(), N, K, /*trans_b=*/true);
  // The same matrix stored (K, N): packing transposes it to (N, K).
  std::vector<float> kn(w.size());
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++)
      kn[size_t(k * N + n)] = w[size_t(n * K + k)];
  pack_weights_bf16(cols.data(), kn.data(), N, K, /*trans_b=*/false);
  for (size_t i = 0; i < w.size(); i++) {
    EXPECT_EQ(rows[i], to_bf16(w[i])) << i;
    EXPECT_EQ(cols[i], rows[i]) << i;
  }
}

// out (M, N) is a · qᵀ + bias summed in double (a's values as given, q's
// bf16 weights widened), within fp32 summation: 1e-6 of the terms' sizes.
void expect_double_product(const std::vector<float> &out,
                           const std::vector<float> &a,
                           const std::vector<uint16_t> &q, const float *bias,
                           int64_t M, int64_t N, int64_t K) {
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      double sum = bias ? bias[n] : 0.0;
      double magnitude = std::fabs(sum);
      for (int64_t k = 0; k < K; k++) {
        double term =
            double(a[size_t(m * K + k)]) * from_bf16(q[size_t(n * K + k)]);
        sum += term;
        magnitude += std::fabs(term);
      }
      ASSERT_LE(std::fabs(out[size_t(m * N + n)] - sum), 1e-6 * magnitude)
          << "row " << m << " column " << n;
    }
}

TEST(WeightsBf16Test, MatchesDoubleProductOfRoundedWeights) {
  for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 37, 300},
                         {3, 100, 16},
                         {8, 257, 771},
                         {20, 300, 65}})
    for (bool with_bias : {false, true}) {
      SCOPED_TRACE(std::to_string(M) + "x" + std::to_string(N) + "x" +
                   std::to_string(K) + (with_bias ? " bias" : ""));
      const std::vector<float> a = random_vector(size_t(M * K), 11);
      const std::vector<float> w = random_vector(size_t(N * K), 12);
      const std::vector<float> bias = random_vector(size_t(N), 13);
      std::vector<uint16_t> q(w.size());
      pack_weights_bf16(q.data(), w.data(), N, K, true);
      std::vector<float> out(size_t(M * N));
      matmul_bf16w_forward(out.data(), a.data(), q.data(),
                           with_bias ? bias.data() : nullptr, M, N, K);
      expect_double_product(out, a, q, with_bias ? bias.data() : nullptr, M, N,
                            K);
    }
}

// With bf16 math (bf16-mixed inference) the activations are rounded too:
// every path (the GEMV of a decode step's rows, oneDNN's bf16 kernels above
// them, OpenBLAS's widened blocks) gives the double product of the rounded
// operands within fp32 summation.
TEST(WeightsBf16Test, Bf16MathMatchesDoubleProductOfRoundedOperands) {
  for (GemmLibrary library : {GemmLibrary::OneDnn, GemmLibrary::OpenBlas})
    for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 37, 300},
                           {8, 257, 771},
                           {20, 300, 65},
                           {64, 96, 128}}) {
      SCOPED_TRACE(std::to_string(M) + "x" + std::to_string(N) + "x" +
                   std::to_string(K) +
                   (library == GemmLibrary::OneDnn ? " oneDNN" : " OpenBLAS"));
      set_gemm_library(library);
      const std::vector<float> a = random_vector(size_t(M * K), 14);
      const std::vector<float> w = random_vector(size_t(N * K), 15);
      const std::vector<float> bias = random_vector(size_t(N), 16);
      std::vector<uint16_t> q(w.size());
      pack_weights_bf16(q.data(), w.data(), N, K, true);
      std::vector<float> out(size_t(M * N));
      matmul_bf16w_forward(out.data(), a.data(), q.data(), bias.data(), M, N, K,
                           GemmMath::BF16);
      std::vector<float> rounded(a.size());
      round_through_bf16(rounded.data(), a.data(), int64_t(a.size()));
      expect_double_product(out, rounded, q, bias.data(), M, N, K);
    }
  set_gemm_library(GemmLibrary::OneDnn);
}

TEST(WeightsBf16Test, DecodeRowsAreTheSameBitsAloneOrBatched) {
  const int64_t N = 77, K = 130;
  const std::vector<float> a = random_vector(size_t(kGemvMaxRows * K), 21);
  const std::vector<float> w = random_vector(size_t(N * K), 22);
  std::vector<uint16_t> q(w.size());
  pack_weights_bf16(q.data(), w.data(), N, K, true);
  std::vector<float> alone(size_t(kGemvMaxRows * N));
  for (int64_t m = 0; m < kGemvMaxRows; m++)
    matmul_bf16w_forward(alone.data() + m * N, a.data() + m * K, q.data(),
                         nullptr, 1, N, K);
  for (int64_t M = 2; M <= kGemvMaxRows; M++) {
    std::vector<float> batched(size_t(M * N));
    matmul_bf16w_forward(batched.data(), a.data(), q.data(), nullptr, M, N, K);
    ASSERT_EQ(0, std::memcmp(batched.data(), alone.data(),
                             batched.size() * sizeof(float)))
        << M << " rows";
  }
}

} // namespace
