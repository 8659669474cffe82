// Tests broadcast add / multiply against their formulas and their backward
// (including the reduction over broadcast rows) against finite differences.

#include "runtime/cpu/elementwise.h"

#include "GradCheck.h"

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t n = 2 * 5 * 6;

// nb == n (same shape), a row broadcast (nb = C) and a scalar (nb = 1).
const int64_t kBroadcasts[] = {n, 6, 1};

TEST(ElementwiseTest, ForwardMatchesFormula) {
  for (int64_t nb : kBroadcasts) {
    SCOPED_TRACE(nb);
    const std::vector<float> a = random_vector(n, 81),
                             b = random_vector(nb, 82);
    std::vector<float> sum(n), prod(n);
    add_forward(sum.data(), a.data(), b.data(), n, nb);
    mul_forward(prod.data(), a.data(), b.data(), n, nb);
    for (int64_t i = 0; i < n; i++) {
      ASSERT_EQ(sum[size_t(i)], a[size_t(i)] + b[size_t(i % nb)]) << i;
      ASSERT_EQ(prod[size_t(i)], a[size_t(i)] * b[size_t(i % nb)]) << i;
    }
  }
}

TEST(ElementwiseTest, LargeSameShapeAndBroadcast) {
  // Spans several parallel chunks, with rows that straddle chunk borders.
  const int64_t big = 3 * 8192 + 77, nb = 1000 + 1;
  const int64_t m = big - big % nb;
  const std::vector<float> a = random_vector(m, 83), b = random_vector(nb, 84);
  std::vector<float> out(m);
  mul_forward(out.data(), a.data(), b.data(), m, nb);
  for (int64_t i = 0; i < m; i++)
    ASSERT_EQ(out[size_t(i)], a[size_t(i)] * b[size_t(i % nb)]) << i;
}

TEST(ElementwiseTest, MulBackwardMatchesFiniteDifferences) {
  for (int64_t nb : kBroadcasts) {
    SCOPED_TRACE(nb);
    std::vector<float> a = random_vector(n, 85), b = random_vector(nb, 86);
    const std::vector<float> r = random_vector(n, 87);
    std::vector<float> da(n), db(nb), out(n);
    mul_backward(da.data(), db.data(), r.data(), a.data(), b.data(), n, nb);
    auto loss = [&] {
      mul_forward(out.data(), a.data(), b.data(), n, nb);
      return project(r, out.data());
    };
    EXPECT_TRUE(check_gradient("da", a, da, loss));
    EXPECT_TRUE(check_gradient("db", b, db, loss));
  }
}

TEST(ElementwiseTest, AddBackwardMatchesFiniteDifferences) {
  for (int64_t nb : kBroadcasts) {
    SCOPED_TRACE(nb);
    std::vector<float> a = random_vector(n, 88), b = random_vector(nb, 89);
    const std::vector<float> r = random_vector(n, 90);
    std::vector<float> da(n), db(nb), out(n);
    add_backward(da.data(), db.data(), r.data(), n, nb);
    auto loss = [&] {
      add_forward(out.data(), a.data(), b.data(), n, nb);
      return project(r, out.data());
    };
    EXPECT_TRUE(check_gradient("da", a, da, loss));
    EXPECT_TRUE(check_gradient("db", b, db, loss));
  }
}

TEST(ElementwiseTest, MulBackwardInPlaceOverDout) {
  const std::vector<float> a = random_vector(n, 91), b = random_vector(6, 92);
  std::vector<float> g = random_vector(n, 93);
  std::vector<float> da(n), db(6), db2(6);
  mul_backward(da.data(), db.data(), g.data(), a.data(), b.data(), n, 6);
  mul_backward(g.data(), db2.data(), g.data(), a.data(), b.data(), n, 6);
  EXPECT_EQ(g, da);
  EXPECT_EQ(db2, db);
}

} // namespace
