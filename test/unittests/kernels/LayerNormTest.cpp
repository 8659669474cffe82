// Tests that LayerNorm matches torch.nn.LayerNorm's formula in double and
// that its backward matches finite differences for input, weight and bias.

#include "runtime/cpu/layernorm.h"

#include "GradCheck.h"

#include <cmath>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t N = 2 * 5, C = 6; // (B=2, T=5, C=6)
constexpr float kEps = 1e-5f;

struct LnTensors {
  std::vector<float> inp = random_vector(N * C, 21, -2.0f, 2.0f);
  std::vector<float> weight = random_vector(C, 22, 0.5f, 1.5f);
  std::vector<float> bias = random_vector(C, 23);
  std::vector<float> out = std::vector<float>(N * C);
  std::vector<float> mean = std::vector<float>(N);
  std::vector<float> rstd = std::vector<float>(N);
  void forward(bool with_bias = true) {
    layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(),
                      weight.data(), with_bias ? bias.data() : nullptr, N, C,
                      kEps);
  }
};

TEST(LayerNormTest, ForwardMatchesReference) {
  LnTensors t;
  // An offset row: a large mean relative to the spread must not cancel.
  for (int64_t c = 0; c < C; c++)
    t.inp[size_t(3 * C + c)] += 100.0f;
  t.forward();
  std::vector<double> out(N * C), mean(N), rstd(N);
  for (int64_t n = 0; n < N; n++) {
    double m = 0.0, var = 0.0;
    for (int64_t c = 0; c < C; c++)
      m += t.inp[size_t(n * C + c)];
    m /= C;
    for (int64_t c = 0; c < C; c++)
      var += (t.inp[size_t(n * C + c)] - m) * (t.inp[size_t(n * C + c)] - m);
    var /= C; // biased, as torch
    mean[size_t(n)] = m;
    rstd[size_t(n)] = 1.0 / std::sqrt(var + double(kEps));
    for (int64_t c = 0; c < C; c++)
      out[size_t(n * C + c)] = (t.inp[size_t(n * C + c)] - m) *
                                   rstd[size_t(n)] * t.weight[size_t(c)] +
                               t.bias[size_t(c)];
  }
  // The +100 row loses ~1e-5 to float rounding of its mean; 5e-5 allows it.
  EXPECT_TRUE(all_near("out", t.out, out, 5e-5));
  EXPECT_TRUE(all_near("mean", t.mean, mean, 5e-5));
  EXPECT_TRUE(all_near("rstd", t.rstd, rstd, 5e-5));
}

TEST(LayerNormTest, BackwardMatchesFiniteDifferences) {
  for (bool with_bias : {true, false}) {
    SCOPED_TRACE(with_bias ? "with bias" : "without bias");
    LnTensors t;
    t.forward(with_bias);
    const std::vector<float> r = random_vector(N * C, 24);
    std::vector<float> dinp(N * C), dweight(C), dbias(C);
    layernorm_backward(dinp.data(), dweight.data(),
                       with_bias ? dbias.data() : nullptr, r.data(),
                       t.inp.data(), t.weight.data(), t.mean.data(),
                       t.rstd.data(), N, C);
    auto loss = [&] {
      t.forward(with_bias);
      return project(r, t.out.data());
    };
    EXPECT_TRUE(check_gradient("dinp", t.inp, dinp, loss));
    EXPECT_TRUE(check_gradient("dweight", t.weight, dweight, loss));
    if (with_bias) {
      EXPECT_TRUE(check_gradient("dbias", t.bias, dbias, loss));
    }
  }
}

TEST(LayerNormTest, BackwardIndependentOfThreadCount) {
  const int64_t n = 64, c = 300; // several column blocks
  std::vector<float> inp = random_vector(n * c, 25), w = random_vector(c, 26);
  std::vector<float> out(n * c), mean(n), rstd(n);
  layernorm_forward(out.data(), mean.data(), rstd.data(), inp.data(), w.data(),
                    nullptr, n, c, kEps);
  const std::vector<float> r = random_vector(n * c, 27);
  std::vector<std::vector<float>> grads[2];
  for (int i = 0; i < 2; i++) {
    with_threads(i == 0 ? 1 : 3, [&] {
      std::vector<float> dinp(n * c), dw(c), db(c);
      layernorm_backward(dinp.data(), dw.data(), db.data(), r.data(),
                         inp.data(), w.data(), mean.data(), rstd.data(), n, c);
      grads[i] = {dinp, dw, db};
    });
  }
  EXPECT_EQ(grads[0], grads[1]);
}

TEST(LayerNormTest, BackwardInPlaceOverDout) {
  LnTensors t;
  t.forward();
  std::vector<float> g = random_vector(N * C, 28);
  std::vector<float> dinp(N * C), dw(C), db(C), dw2(C), db2(C);
  layernorm_backward(dinp.data(), dw.data(), db.data(), g.data(), t.inp.data(),
                     t.weight.data(), t.mean.data(), t.rstd.data(), N, C);
  layernorm_backward(g.data(), dw2.data(), db2.data(), g.data(), t.inp.data(),
                     t.weight.data(), t.mean.data(), t.rstd.data(), N, C);
  EXPECT_EQ(g, dinp);
  EXPECT_EQ(dw2, dw);
  EXPECT_EQ(db2, db);
}

} // namespace
