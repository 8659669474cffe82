// Tests AdamW against torch.optim.AdamW's update written out in double for
// three steps, and the grad-norm helpers against direct sums.

#include "runtime/cpu/adamw.h"

#include "GradCheck.h"

#include <cmath>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

TEST(AdamWTest, ThreeStepsMatchTorchFormula) {
  const int64_t n = 64;
  const double lr = 1e-2, beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
  for (double wd : {0.0, 0.1}) {
    SCOPED_TRACE(wd);
    std::vector<float> p = random_vector(n, 121), m(n, 0.0f), v(n, 0.0f);
    std::vector<double> rp(p.begin(), p.end()), rm(n, 0.0), rv(n, 0.0);
    for (int step = 1; step <= 3; step++) {
      std::vector<float> g = random_vector(n, 122 + uint32_t(step));
      g[0] = 1e-6f; // tiny gradients: eps matters
      llmc::AdamWHyper hyper{float(lr),
                             float(beta1),
                             float(beta2),
                             float(eps),
                             float(wd),
                             float(1.0 - std::pow(beta1, step)),
                             float(1.0 - std::pow(beta2, step))};
      adamw_update(p.data(), m.data(), v.data(), g.data(), n, hyper);
      // torch.optim.AdamW (single tensor, amsgrad=False):
      //   param *= 1 - lr * wd
      //   exp_avg.lerp_(grad, 1 - beta1)
      //   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad^2
      //   denom = sqrt(exp_avg_sq) / sqrt(1 - beta2^t) + eps
      //   param -= lr / (1 - beta1^t) * exp_avg / denom
      for (int64_t i = 0; i < n; i++) {
        const double gi = g[size_t(i)];
        rp[size_t(i)] *= 1.0 - lr * wd;
        rm[size_t(i)] += (gi - rm[size_t(i)]) * (1.0 - beta1);
        rv[size_t(i)] = beta2 * rv[size_t(i)] + (1.0 - beta2) * gi * gi;
        const double denom =
            std::sqrt(rv[size_t(i)]) / std::sqrt(1.0 - std::pow(beta2, step)) +
            eps;
        rp[size_t(i)] -=
            lr / (1.0 - std::pow(beta1, step)) * rm[size_t(i)] / denom;
      }
      // Float rounding of O(1) values over three steps: ~1e-7.
      EXPECT_TRUE(all_near("param", p, rp, 1e-6)) << "step " << step;
      EXPECT_TRUE(all_near("m", m, rm, 1e-6)) << "step " << step;
      EXPECT_TRUE(all_near("v", v, rv, 1e-6)) << "step " << step;
    }
    // Not vacuous: three steps of ~lr each moved the parameters far more
    // than the tolerance.
    const std::vector<float> p0 = random_vector(n, 121);
    double moved = 0.0;
    for (int64_t i = 0; i < n; i++)
      moved += std::fabs(p[size_t(i)] - p0[size_t(i)]) / double(n);
    EXPECT_GT(moved, 5e-3);
  }
}

TEST(AdamWTest, SumSquaresAndScale) {
  const int64_t n = 100003; // several blocks and a ragged tail
  std::vector<float> x = random_vector(n, 131);
  double ref = 0.0;
  for (float xi : x)
    ref += double(xi) * double(xi);
  const double s1 = sum_squares(x.data(), n);
  EXPECT_NEAR(s1, ref, 1e-12 * ref);
  double s3 = 0.0;
  with_threads(3, [&] { s3 = sum_squares(x.data(), n); });
  EXPECT_EQ(s1, s3);
  EXPECT_EQ(sum_squares(x.data(), 0), 0.0);

  std::vector<float> y = x;
  scale_inplace(y.data(), n, 0.25f);
  for (int64_t i = 0; i < n; i++)
    ASSERT_EQ(y[size_t(i)], x[size_t(i)] * 0.25f) << i;
}

} // namespace
