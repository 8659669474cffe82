// Tests that softmax matches exp / sum in double (also for large logits) and
// that its backward matches finite differences.

#include "runtime/cpu/softmax.h"

#include "GradCheck.h"

#include <cmath>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t N = 2 * 5, C = 6;

TEST(SoftmaxTest, ForwardMatchesReference) {
  std::vector<float> x = random_vector(N * C, 51, -3.0f, 3.0f);
  for (int64_t c = 0; c < C; c++)
    x[size_t(C + c)] += 500.0f; // would overflow exp without the max shift
  std::vector<float> out(N * C);
  softmax_forward(out.data(), x.data(), N, C);
  std::vector<double> ref(N * C);
  for (int64_t n = 0; n < N; n++) {
    double maxv = -INFINITY, sum = 0.0;
    for (int64_t c = 0; c < C; c++)
      maxv = std::max(maxv, double(x[size_t(n * C + c)]));
    for (int64_t c = 0; c < C; c++)
      sum += std::exp(x[size_t(n * C + c)] - maxv);
    for (int64_t c = 0; c < C; c++)
      ref[size_t(n * C + c)] = std::exp(x[size_t(n * C + c)] - maxv) / sum;
  }
  EXPECT_TRUE(all_near("softmax", out, ref, 1e-6));
}

TEST(SoftmaxTest, BackwardMatchesFiniteDifferences) {
  std::vector<float> x = random_vector(N * C, 52, -3.0f, 3.0f);
  std::vector<float> out(N * C);
  softmax_forward(out.data(), x.data(), N, C);
  const std::vector<float> r = random_vector(N * C, 53);
  std::vector<float> dx(N * C);
  softmax_backward(dx.data(), r.data(), out.data(), N, C);
  auto loss = [&] {
    softmax_forward(out.data(), x.data(), N, C);
    return project(r, out.data());
  };
  EXPECT_TRUE(check_gradient("dinp", x, dx, loss));
}

TEST(SoftmaxTest, BackwardInPlaceOverDout) {
  const std::vector<float> x = random_vector(N * C, 54);
  std::vector<float> out(N * C), dx(N * C);
  softmax_forward(out.data(), x.data(), N, C);
  std::vector<float> g = random_vector(N * C, 55);
  softmax_backward(dx.data(), g.data(), out.data(), N, C);
  softmax_backward(g.data(), g.data(), out.data(), N, C);
  EXPECT_EQ(g, dx);
}

} // namespace
