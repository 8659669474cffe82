// Tests the decode GEMV (runtime/cpu/gemv.h) for every row count it takes,
// both weight layouts, with and without bias, on sizes with tails past its
// 16-float vectors and tiles: against a double-precision product, and for
// the property that makes a decode step independent of its batch: each
// row's outputs are the same bits whether it runs alone or among up to
// seven others, on one thread or two, with AVX-512 or AVX2.

#include "runtime/cpu/gemv.h"
#include "runtime/cpu/vector_isa.h"

#include "GradCheck.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

struct Case {
  int64_t N, K;
  bool trans_w, bias;
};

std::vector<Case> cases() {
  std::vector<Case> all;
  for (auto [N, K] : {std::pair<int64_t, int64_t>{1, 1},
                      {37, 15},
                      {100, 16},
                      {257, 300},
                      {33, 771}})
    for (int mask = 0; mask < 4; mask++)
      all.push_back({N, K, bool(mask & 1), bool(mask & 2)});
  return all;
}

// Operands at odd float offsets of one buffer (none 64-byte aligned), as
// a plan's arena may place them.
struct Operands {
  std::vector<float> data;
  const float *x, *w, *bias;
  Operands(const Case &c) {
    data = random_vector(size_t(kGemvMaxRows * c.K + c.N * c.K + c.N + 9), 41);
    x = data.data() + 1;
    w = x + kGemvMaxRows * c.K + 3;
    bias = c.bias ? w + c.N * c.K + 5 : nullptr;
  }
  std::vector<float> run(const Case &c, int64_t M, const float *rows) const {
    std::vector<float> out(size_t(M * c.N));
    gemv_forward(out.data(), rows, w, bias, M, c.N, c.K, c.trans_w);
    return out;
  }
};

std::string describe(const Case &c, int64_t M) {
  return std::to_string(M) + "x" + std::to_string(c.N) + "x" +
         std::to_string(c.K) + (c.trans_w ? " wT" : "") +
         (c.bias ? " bias" : "");
}

class GemvTest : public ::testing::Test {
protected:
  void TearDown() override { set_vector_isa(VectorIsa::Avx512); }
};

TEST_F(GemvTest, MatchesDoubleProduct) {
  for (const Case &c : cases())
    for (int64_t M = 1; M <= kGemvMaxRows; M++) {
      SCOPED_TRACE(describe(c, M));
      Operands o(c);
      // Each output within 1e-6 of the sum of its terms' magnitudes: about
      // 20 times the typical rounding of an fp32 sum over K = 771.
      const std::vector<float> out = o.run(c, M, o.x);
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < c.N; n++) {
          double sum = o.bias ? o.bias[n] : 0.0, magnitude = std::fabs(sum);
          for (int64_t k = 0; k < c.K; k++) {
            const double term =
                double(o.x[m * c.K + k]) *
                (c.trans_w ? o.w[n * c.K + k] : o.w[k * c.N + n]);
            sum += term;
            magnitude += std::fabs(term);
          }
          ASSERT_LE(std::fabs(out[size_t(m * c.N + n)] - sum), 1e-6 * magnitude)
              << "row " << m << " column " << n;
        }
    }
}

TEST_F(GemvTest, RowsAreTheSameBitsAloneOrBatchedOnAnyThreadsAndIsa) {
  for (const Case &c : cases()) {
    Operands o(c);
    // Each row alone, on two threads with the processor's best ISA.
    std::vector<float> alone;
    for (int64_t m = 0; m < kGemvMaxRows; m++) {
      std::vector<float> row = o.run(c, 1, o.x + m * c.K);
      alone.insert(alone.end(), row.begin(), row.end());
    }
    for (VectorIsa isa : {VectorIsa::Avx512, VectorIsa::Avx2})
      for (int threads : {1, 2})
        for (int64_t M = 1; M <= kGemvMaxRows; M++) {
          SCOPED_TRACE(describe(c, M) +
                       (isa == VectorIsa::Avx2 ? " avx2" : "") + " threads " +
                       std::to_string(threads));
          set_vector_isa(isa);
          std::vector<float> batched;
          with_threads(threads, [&] { batched = o.run(c, M, o.x); });
          ASSERT_EQ(0, std::memcmp(batched.data(), alone.data(),
                                   batched.size() * sizeof(float)));
        }
  }
}

TEST_F(GemvTest, IsaFromTheEnvironment) {
  setenv("LLMC_MAX_CPU_ISA", "avx2", 1);
  set_vector_isa_from_environment();
  EXPECT_EQ(vector_isa(), VectorIsa::Avx2);
  EXPECT_EQ(vector_isa_name(), "avx2");
  setenv("LLMC_MAX_CPU_ISA", "avx512", 1);
  set_vector_isa_from_environment();
  EXPECT_EQ(vector_isa(), __builtin_cpu_supports("avx512f") ? VectorIsa::Avx512
                                                            : VectorIsa::Avx2);
  setenv("LLMC_MAX_CPU_ISA", "sse", 1);
  try {
    set_vector_isa_from_environment();
    ADD_FAILURE() << "LLMC_MAX_CPU_ISA=sse was taken";
  } catch (const std::invalid_argument &e) {
    EXPECT_STREQ(e.what(), "LLMC_MAX_CPU_ISA: 'sse': expected avx2 or avx512");
  }
  unsetenv("LLMC_MAX_CPU_ISA");
}

} // namespace
