// Tests that the gradient check itself can fail: a correct gradient passes,
// a slightly wrong one does not.

#include "GradCheck.h"

#include <cmath>

using namespace llmc::test;

namespace {

// f(x) = sum_i r_i sin(x_i), so df/dx_i = r_i cos(x_i).
TEST(GradCheckTest, AcceptsRightAndRejectsWrongGradient) {
  std::vector<float> x = random_vector(16, 1);
  std::vector<float> r = random_vector(16, 2);
  auto loss = [&] {
    double s = 0.0;
    for (size_t i = 0; i < x.size(); i++)
      s += double(r[i]) * std::sin(double(x[i]));
    return s;
  };
  std::vector<float> g(16);
  for (size_t i = 0; i < g.size(); i++)
    g[i] = r[i] * std::cos(x[i]);
  EXPECT_TRUE(check_gradient("sin", x, g, loss));
  g[7] += 0.01f; // a 1% error on one element of a unit-scale gradient
  EXPECT_FALSE(check_gradient("sin", x, g, loss));
}

TEST(GradCheckTest, AllNearRejectsNan) {
  std::vector<float> a = {1.0f, NAN};
  EXPECT_FALSE(all_near("nan", a, {1.0, 2.0}, 1e-3));
  EXPECT_TRUE(all_near("ok", a.data(), {1.0}, 1e-6));
}

} // namespace
