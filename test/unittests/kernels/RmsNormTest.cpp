// Tests that RMSNorm matches LlamaRMSNorm's formula in double and that its
// backward matches finite differences for input and weight.

#include "runtime/cpu/rmsnorm.h"

#include "GradCheck.h"

#include <cmath>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t N = 2 * 5, C = 6;
constexpr float kEps = 1e-6f;

TEST(RmsNormTest, ForwardMatchesReference) {
  std::vector<float> inp = random_vector(N * C, 31, -2.0f, 2.0f);
  std::vector<float> weight = random_vector(C, 32, 0.5f, 1.5f);
  std::vector<float> out(N * C), rstd(N);
  rmsnorm_forward(out.data(), rstd.data(), inp.data(), weight.data(), N, C,
                  kEps);
  std::vector<double> ref(N * C), ref_rstd(N);
  for (int64_t n = 0; n < N; n++) {
    double ms = 0.0;
    for (int64_t c = 0; c < C; c++)
      ms += double(inp[size_t(n * C + c)]) * inp[size_t(n * C + c)];
    const double s = 1.0 / std::sqrt(ms / C + kEps);
    ref_rstd[size_t(n)] = s;
    for (int64_t c = 0; c < C; c++)
      ref[size_t(n * C + c)] =
          double(weight[size_t(c)]) * inp[size_t(n * C + c)] * s;
  }
  EXPECT_TRUE(all_near("out", out, ref, 1e-5));
  EXPECT_TRUE(all_near("rstd", rstd, ref_rstd, 1e-5));
}

TEST(RmsNormTest, BackwardMatchesFiniteDifferences) {
  std::vector<float> inp = random_vector(N * C, 33, -2.0f, 2.0f);
  std::vector<float> weight = random_vector(C, 34, 0.5f, 1.5f);
  std::vector<float> out(N * C), rstd(N);
  auto forward = [&] {
    rmsnorm_forward(out.data(), rstd.data(), inp.data(), weight.data(), N, C,
                    kEps);
  };
  forward();
  const std::vector<float> r = random_vector(N * C, 35);
  std::vector<float> dinp(N * C), dweight(C);
  rmsnorm_backward(dinp.data(), dweight.data(), r.data(), inp.data(),
                   weight.data(), rstd.data(), N, C);
  auto loss = [&] {
    forward();
    return project(r, out.data());
  };
  EXPECT_TRUE(check_gradient("dinp", inp, dinp, loss));
  EXPECT_TRUE(check_gradient("dweight", weight, dweight, loss));
}

TEST(RmsNormTest, BackwardInPlaceOverDout) {
  std::vector<float> inp = random_vector(N * C, 36), w = random_vector(C, 37);
  std::vector<float> out(N * C), rstd(N);
  rmsnorm_forward(out.data(), rstd.data(), inp.data(), w.data(), N, C, kEps);
  std::vector<float> g = random_vector(N * C, 38);
  std::vector<float> dinp(N * C), dw(C), dw2(C);
  rmsnorm_backward(dinp.data(), dw.data(), g.data(), inp.data(), w.data(),
                   rstd.data(), N, C);
  rmsnorm_backward(g.data(), dw2.data(), g.data(), inp.data(), w.data(),
                   rstd.data(), N, C);
  EXPECT_EQ(g, dinp);
  EXPECT_EQ(dw2, dw);
}

} // namespace
