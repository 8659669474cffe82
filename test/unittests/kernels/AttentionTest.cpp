// Tests that attention matches a naive double-precision softmax(QK^T)V with
// grouped-query heads and the bottom-right causal mask, that its backward
// matches finite differences, and that the backward is thread-count
// independent; and that the oneDNN path of bf16-mixed plans gives the same
// results with fp32 products, and within bf16's rounding with bf16 ones.

#include "runtime/cpu/attention.h"
#include "runtime/cpu/attention_onednn.h"
#include "runtime/cpu/onednn_matmul.h"
#include "runtime/cpu/vector_isa.h"

#include "GradCheck.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>
#include <sstream>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

struct AttnConfig {
  int64_t B, Hq, Hkv, Tq, Tk, D, Dv;
  bool causal;
  float scale; // 0: 1 / sqrt(D)
};

std::ostream &operator<<(std::ostream &os, const AttnConfig &c) {
  return os << "B" << c.B << "_Hq" << c.Hq << "_Hkv" << c.Hkv << "_Tq" << c.Tq
            << "_Tk" << c.Tk << "_D" << c.D << "_Dv" << c.Dv
            << (c.causal ? "_causal" : "");
}

struct AttnTensors {
  std::vector<float> q, k, v, out, lse;
  explicit AttnTensors(const AttnConfig &c)
      : q(random_vector(size_t(c.B * c.Hq * c.Tq * c.D), 11, -1.5f, 1.5f)),
        k(random_vector(size_t(c.B * c.Hkv * c.Tk * c.D), 12, -1.5f, 1.5f)),
        v(random_vector(size_t(c.B * c.Hkv * c.Tk * c.Dv), 13)),
        out(size_t(c.B * c.Hq * c.Tq * c.Dv)), lse(size_t(c.B * c.Hq * c.Tq)) {}
};

float scale_of(const AttnConfig &c) {
  return c.scale != 0.0f ? c.scale : 1.0f / std::sqrt(float(c.D));
}

// The sgemm path's gradients for output gradient r.
void backward(const AttnConfig &c, const AttnTensors &t,
              const std::vector<float> &r, std::vector<float> &dq,
              std::vector<float> &dk, std::vector<float> &dv) {
  attention_backward(dq.data(), dk.data(), dv.data(), r.data(), t.q.data(),
                     t.k.data(), t.v.data(), t.out.data(), t.lse.data(), c.B,
                     c.Hq, c.Hkv, c.Tq, c.Tk, c.D, c.Dv, scale_of(c), c.causal);
}

AttentionDims dims_of(const AttnConfig &c) {
  return {c.B, c.Hq, c.Hkv, c.Tq, c.Tk, c.D, c.Dv, scale_of(c), c.causal};
}

void forward(const AttnConfig &c, AttnTensors &t) {
  attention_forward(t.out.data(), t.lse.data(), t.q.data(), t.k.data(),
                    t.v.data(), c.B, c.Hq, c.Hkv, c.Tq, c.Tk, c.D, c.Dv,
                    scale_of(c), c.causal);
}

// Straight from the definition, in double. Masked rows: out 0, lse -inf.
void reference(const AttnConfig &c, const AttnTensors &t,
               std::vector<double> &out, std::vector<double> &lse) {
  out.assign(t.out.size(), 0.0);
  lse.assign(t.lse.size(), -std::numeric_limits<double>::infinity());
  const double scale = scale_of(c);
  for (int64_t b = 0; b < c.B; b++)
    for (int64_t h = 0; h < c.Hq; h++) {
      const int64_t g = h / (c.Hq / c.Hkv);
      for (int64_t i = 0; i < c.Tq; i++) {
        std::vector<double> s(size_t(c.Tk));
        double maxv = -INFINITY;
        int64_t visible = 0;
        for (int64_t j = 0; j < c.Tk; j++) {
          if (c.causal && j > i + (c.Tk - c.Tq))
            continue;
          double dot = 0.0;
          for (int64_t d = 0; d < c.D; d++)
            dot += double(t.q[size_t(((b * c.Hq + h) * c.Tq + i) * c.D + d)]) *
                   double(t.k[size_t(((b * c.Hkv + g) * c.Tk + j) * c.D + d)]);
          s[size_t(j)] = dot * scale;
          maxv = std::max(maxv, s[size_t(j)]);
          visible = j + 1;
        }
        if (visible == 0)
          continue;
        double sum = 0.0;
        for (int64_t j = 0; j < visible; j++)
          sum += std::exp(s[size_t(j)] - maxv);
        lse[size_t((b * c.Hq + h) * c.Tq + i)] = maxv + std::log(sum);
        for (int64_t j = 0; j < visible; j++) {
          double p = std::exp(s[size_t(j)] - maxv) / sum;
          for (int64_t e = 0; e < c.Dv; e++)
            out[size_t(((b * c.Hq + h) * c.Tq + i) * c.Dv + e)] +=
                p *
                double(t.v[size_t(((b * c.Hkv + g) * c.Tk + j) * c.Dv + e)]);
        }
      }
    }
}

class AttentionTest : public ::testing::TestWithParam<AttnConfig> {};

TEST_P(AttentionTest, ForwardMatchesReference) {
  const AttnConfig c = GetParam();
  AttnTensors t(c);
  forward(c, t);
  std::vector<double> out, lse;
  reference(c, t, out, lse);
  EXPECT_TRUE(all_near("out", t.out, out, 2e-5));
  for (size_t i = 0; i < lse.size(); i++) {
    if (std::isinf(lse[i])) {
      EXPECT_TRUE(std::isinf(t.lse[i]) && t.lse[i] < 0) << "lse[" << i << "]";
    } else {
      EXPECT_NEAR(t.lse[i], lse[i], 2e-5 * std::max(1.0, std::fabs(lse[i])))
          << "lse[" << i << "]";
    }
  }
}

TEST_P(AttentionTest, BackwardMatchesFiniteDifferences) {
  const AttnConfig c = GetParam();
  AttnTensors t(c);
  forward(c, t);
  const std::vector<float> r = random_vector(t.out.size(), 14);
  std::vector<float> dq(t.q.size()), dk(t.k.size()), dv(t.v.size());
  backward(c, t, r, dq, dk, dv);
  auto loss = [&] {
    forward(c, t);
    return project(r, t.out.data());
  };
  EXPECT_TRUE(check_gradient("dq", t.q, dq, loss));
  EXPECT_TRUE(check_gradient("dk", t.k, dk, loss));
  EXPECT_TRUE(check_gradient("dv", t.v, dv, loss));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(
        // Grouped-query (2 query heads per kv head), full and causal.
        AttnConfig{2, 4, 2, 5, 5, 6, 6, false, 0.0f},
        AttnConfig{2, 4, 2, 5, 5, 6, 6, true, 0.0f},
        // Causal with Tq < Tk (a KV-cache suffix), MQA, Dv != D.
        AttnConfig{1, 4, 1, 3, 7, 6, 4, true, 0.0f},
        // Plain multi-head, Tq != Tk, a caller-chosen scale.
        AttnConfig{2, 2, 2, 4, 6, 5, 3, false, 0.3f},
        // Causal with Tq > Tk: the first two query rows see no key.
        AttnConfig{1, 2, 1, 6, 4, 4, 4, true, 0.0f},
        // More than one 64-row query block, causal and not.
        AttnConfig{1, 2, 1, 70, 70, 4, 4, true, 0.0f},
        AttnConfig{1, 2, 1, 67, 75, 3, 2, false, 0.0f}),
    [](const ::testing::TestParamInfo<AttnConfig> &info) {
      std::ostringstream os;
      os << info.param;
      return os.str();
    });

// Forward and backward of the oneDNN path against the sgemm path, both
// fp32: every output within float rounding (relative to the output's
// largest magnitude); with bf16 products within bf16's (8 bits).
void expect_onednn_path_matches(const AttnConfig &c, bool bf16) {
  AttnTensors t(c);
  forward(c, t);
  const std::vector<float> r = random_vector(t.out.size(), 16);
  std::vector<float> dq(t.q.size()), dk(t.k.size()), dv(t.v.size());
  backward(c, t, r, dq, dk, dv);
  const AttentionDims d = dims_of(c);
  std::vector<float> out(t.out.size(), NAN), lse(t.lse.size(), NAN);
  ASSERT_TRUE(attention_forward_onednn(out.data(), lse.data(), t.q.data(),
                                       t.k.data(), t.v.data(), d, bf16));
  std::vector<float> dq1(dq.size(), NAN), dk1(dk.size(), NAN),
      dv1(dv.size(), NAN);
  ASSERT_TRUE(attention_backward_onednn(
      dq1.data(), dk1.data(), dv1.data(), r.data(), t.q.data(), t.k.data(),
      t.v.data(), t.out.data(), t.lse.data(), d, bf16));
  const double tol = bf16 ? 2e-2 : 1e-5;
  auto expect_near = [&](const char *name, const std::vector<float> &got,
                         const std::vector<float> &want) {
    double largest = 1e-30;
    for (float x : want)
      if (std::isfinite(x))
        largest = std::max(largest, double(std::fabs(x)));
    for (size_t i = 0; i < want.size(); i++) {
      if (std::isinf(want[i])) {
        EXPECT_EQ(got[i], want[i]) << name << "[" << i << "]";
        continue;
      }
      ASSERT_NEAR(got[i], want[i], tol * largest) << name << "[" << i << "]";
    }
  };
  expect_near("out", out, t.out);
  expect_near("lse", lse, t.lse);
  expect_near("dq", dq1, dq);
  expect_near("dk", dk1, dk);
  expect_near("dv", dv1, dv);
}

TEST_P(AttentionTest, OneDnnPathMatchesFp32) {
  expect_onednn_path_matches(GetParam(), false);
}

TEST_P(AttentionTest, OneDnnBf16PathWithinRounding) {
  if (!onednn_has_bf16())
    GTEST_SKIP() << "oneDNN has no bf16 kernels on this processor";
  expect_onednn_path_matches(GetParam(), true);
}

// More than one of the oneDNN path's 256-row query blocks, and more kv heads
// than one chunk of its scores holds.
TEST(AttentionOneDnnTest, ManyBlocksAndChunks) {
  for (bool causal : {true, false}) {
    expect_onednn_path_matches({2, 4, 2, 300, 300, 16, 8, causal, 0.0f}, false);
    expect_onednn_path_matches({1, 6, 3, 260, 290, 8, 8, causal, 0.0f}, false);
    if (onednn_has_bf16())
      expect_onednn_path_matches({2, 4, 2, 300, 300, 16, 8, causal, 0.0f},
                                 true);
  }
}

// Each kv head's dK and dV sum on one thread in block order: the same bits
// for any thread count, with fp32 and with bf16 products.
TEST(AttentionOneDnnTest, BackwardIndependentOfThreadCount) {
  const AttnConfig c{2, 4, 2, 300, 300, 16, 8, true, 0.0f};
  AttnTensors t(c);
  forward(c, t);
  const std::vector<float> r = random_vector(t.out.size(), 17);
  const AttentionDims d = dims_of(c);
  for (bool bf16 : {false, true}) {
    std::vector<float> grads[2][3];
    for (int run = 0; run < 2; run++)
      with_threads(run == 0 ? 1 : 3, [&] {
        std::vector<float>(&g)[3] = grads[run];
        g[0].assign(t.q.size(), NAN);
        g[1].assign(t.k.size(), NAN);
        g[2].assign(t.v.size(), NAN);
        ASSERT_TRUE(attention_backward_onednn(
            g[0].data(), g[1].data(), g[2].data(), r.data(), t.q.data(),
            t.k.data(), t.v.data(), t.out.data(), t.lse.data(), d, bf16));
      });
    for (int i = 0; i < 3; i++)
      EXPECT_EQ(grads[0][i], grads[1][i])
          << "gradient " << i << " bf16 " << bf16;
  }
}

// The bf16 path's row loops run on AVX-512 or AVX2 (LLMC_MAX_CPU_ISA):
// the same bits either way.
TEST(AttentionOneDnnTest, SameBitsOnEveryIsa) {
  const AttnConfig c{2, 4, 2, 300, 300, 16, 8, true, 0.0f};
  AttnTensors t(c);
  forward(c, t);
  const std::vector<float> r = random_vector(t.out.size(), 18);
  const AttentionDims d = dims_of(c);
  std::vector<float> results[2][5];
  for (int i = 0; i < 2; i++) {
    set_vector_isa(i == 0 ? VectorIsa::Avx2 : VectorIsa::Avx512);
    std::vector<float>(&x)[5] = results[i];
    x[0].assign(t.out.size(), NAN);
    x[1].assign(t.lse.size(), NAN);
    x[2].assign(t.q.size(), NAN);
    x[3].assign(t.k.size(), NAN);
    x[4].assign(t.v.size(), NAN);
    ASSERT_TRUE(attention_forward_onednn(x[0].data(), x[1].data(), t.q.data(),
                                         t.k.data(), t.v.data(), d, true));
    ASSERT_TRUE(attention_backward_onednn(
        x[2].data(), x[3].data(), x[4].data(), r.data(), t.q.data(), t.k.data(),
        t.v.data(), t.out.data(), t.lse.data(), d, true));
  }
  set_vector_isa(VectorIsa::Avx512);
  for (int j = 0; j < 5; j++)
    EXPECT_EQ(0, std::memcmp(results[0][j].data(), results[1][j].data(),
                             results[0][j].size() * sizeof(float)))
        << "result " << j;
}

TEST(AttentionDeterminismTest, BackwardIndependentOfThreadCount) {
  const AttnConfig c{2, 4, 2, 70, 70, 8, 8, true, 0.0f};
  AttnTensors t(c);
  forward(c, t);
  const std::vector<float> r = random_vector(t.out.size(), 15);
  auto run = [&](std::vector<float> &dq, std::vector<float> &dk,
                 std::vector<float> &dv) {
    dq.assign(t.q.size(), NAN);
    dk.assign(t.k.size(), NAN);
    dv.assign(t.v.size(), NAN);
    backward(c, t, r, dq, dk, dv);
  };
  std::vector<float> dq1, dk1, dv1, dq3, dk3, dv3;
  with_threads(1, [&] { run(dq1, dk1, dv1); });
  with_threads(3, [&] { run(dq3, dk3, dv3); });
  EXPECT_EQ(dq1, dq3);
  EXPECT_EQ(dk1, dk3);
  EXPECT_EQ(dv1, dv3);
}

} // namespace
