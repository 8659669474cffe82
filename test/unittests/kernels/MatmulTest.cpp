// Tests matmul_forward against a naive double product for every transpose /
// batching combination, and checks the backward the compiler emits (other
// matmul_forward calls with swapped transposes, permute, sum_rows) against
// finite differences.

#include "runtime/cpu/matmul.h"
#include "runtime/cpu/layout.h"

#include "GradCheck.h"

#include <sstream>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

struct MatmulCase {
  int64_t batch, M, N, K;
  bool ta, tb, bb; // trans_a, trans_b, b_batched
};

std::string name(const MatmulCase &c) {
  std::ostringstream os;
  os << (c.ta ? "aT" : "a") << (c.tb ? "_bT" : "_b")
     << (c.bb ? "_batched" : "_shared");
  return os.str();
}

std::vector<MatmulCase> all_cases() {
  std::vector<MatmulCase> cases;
  for (int mask = 0; mask < 8; mask++)
    cases.push_back(
        {2, 3, 4, 5, bool(mask & 1), bool(mask & 2), bool(mask & 4)});
  return cases;
}

struct Operands {
  std::vector<float> a, b, bias, out;
  explicit Operands(const MatmulCase &c)
      : a(random_vector(size_t(c.batch * c.M * c.K), 91)),
        b(random_vector(size_t((c.bb ? c.batch : 1) * c.K * c.N), 92)),
        bias(random_vector(size_t(c.N), 93)), out(size_t(c.batch * c.M * c.N)) {
  }
  void forward(const MatmulCase &c, bool with_bias) {
    matmul_forward(out.data(), a.data(), b.data(),
                   with_bias ? bias.data() : nullptr, c.batch, c.M, c.N, c.K,
                   c.ta, c.tb, c.bb);
  }
};

std::vector<double> reference(const MatmulCase &c, const Operands &o,
                              bool with_bias) {
  std::vector<double> out(size_t(c.batch * c.M * c.N));
  for (int64_t i = 0; i < c.batch; i++) {
    const float *a = o.a.data() + i * c.M * c.K;
    const float *b = o.b.data() + (c.bb ? i * c.K * c.N : 0);
    for (int64_t m = 0; m < c.M; m++)
      for (int64_t n = 0; n < c.N; n++) {
        double s = with_bias ? double(o.bias[size_t(n)]) : 0.0;
        for (int64_t k = 0; k < c.K; k++) {
          const double av = c.ta ? a[k * c.M + m] : a[m * c.K + k];
          const double bv = c.tb ? b[n * c.K + k] : b[k * c.N + n];
          s += av * bv;
        }
        out[size_t((i * c.M + m) * c.N + n)] = s;
      }
  }
  return out;
}

// da, db, dbias of out = op(a) . op(b) + bias, written only with the kernels,
// the way the compiler emits them:
//   d op(a) = dout . op(b)^T            d op(b) = sum_i op(a_i)^T . dout_i
// A shared b with trans_a gives d a_i = op(b) . dout_i^T: one product for all
// i into (K, batch*M), then a permute to (batch, K, M). A shared b's gradient
// stacks the batch into one (batch*M)-long contraction, permuting a first
// when it is stored transposed.
void matmul_backward_by_composition(float *da, float *db, float *dbias,
                                    const float *dout, const float *a,
                                    const float *b, const MatmulCase &c) {
  const int64_t batch = c.batch, M = c.M, N = c.N, K = c.K;
  if (!c.ta) {
    matmul_forward(da, dout, b, nullptr, batch, M, K, N, false, !c.tb, c.bb);
  } else if (c.bb) {
    matmul_forward(da, b, dout, nullptr, batch, K, M, N, c.tb, true, true);
  } else {
    std::vector<float> x(size_t(K * batch * M));
    matmul_forward(x.data(), b, dout, nullptr, 1, K, batch * M, N, c.tb, true,
                   false);
    const int64_t shape[3] = {K, batch, M};
    const int perm[3] = {1, 0, 2};
    permute(da, x.data(), shape, perm, 3);
  }
  if (c.bb) {
    if (!c.tb)
      matmul_forward(db, a, dout, nullptr, batch, K, N, M, !c.ta, false, true);
    else
      matmul_forward(db, dout, a, nullptr, batch, N, K, M, true, c.ta, true);
  } else {
    const float *a_rows = a; // op(a) stacked: (batch*M, K)
    std::vector<float> at;
    if (c.ta) {
      at.resize(size_t(batch * M * K));
      const int64_t shape[3] = {batch, K, M};
      const int perm[3] = {0, 2, 1};
      permute(at.data(), a, shape, perm, 3);
      a_rows = at.data();
    }
    if (!c.tb)
      matmul_forward(db, a_rows, dout, nullptr, 1, K, N, batch * M, true, false,
                     false);
    else
      matmul_forward(db, dout, a_rows, nullptr, 1, N, K, batch * M, true, false,
                     false);
  }
  sum_rows(dbias, dout, batch * M, N);
}

TEST(MatmulTest, ForwardMatchesReference) {
  for (const MatmulCase &c : all_cases())
    for (bool with_bias : {false, true}) {
      SCOPED_TRACE(name(c) + (with_bias ? "_bias" : ""));
      Operands o(c);
      o.forward(c, with_bias);
      EXPECT_TRUE(all_near("out", o.out, reference(c, o, with_bias), 1e-5));
    }
}

// Tests the one-row product (a decode step at batch 1), which goes through
// sgemv rather than sgemm: both weight layouts, with and without bias, and
// a width past any blocking.
TEST(MatmulTest, OneRowMatchesReference) {
  for (bool tb : {false, true})
    for (bool with_bias : {false, true}) {
      MatmulCase c{1, 1, 300, 257, false, tb, false};
      SCOPED_TRACE(name(c) + (with_bias ? "_bias" : ""));
      Operands o(c);
      o.forward(c, with_bias);
      EXPECT_TRUE(all_near("out", o.out, reference(c, o, with_bias), 1e-5));
    }
}

TEST(MatmulTest, BackwardCompositionMatchesFiniteDifferences) {
  for (const MatmulCase &c : all_cases()) {
    SCOPED_TRACE(name(c));
    Operands o(c);
    const std::vector<float> r = random_vector(o.out.size(), 94);
    std::vector<float> da(o.a.size()), db(o.b.size()), dbias(o.bias.size());
    matmul_backward_by_composition(da.data(), db.data(), dbias.data(), r.data(),
                                   o.a.data(), o.b.data(), c);
    auto loss = [&] {
      o.forward(c, true);
      return project(r, o.out.data());
    };
    EXPECT_TRUE(check_gradient("da", o.a, da, loss));
    EXPECT_TRUE(check_gradient("db", o.b, db, loss));
    EXPECT_TRUE(check_gradient("dbias", o.bias, dbias, loss));
  }
}

TEST(MatmulTest, SumRowsMatchesReference) {
  const int64_t n = 37, c = 300; // several column blocks
  const std::vector<float> x = random_vector(n * c, 95);
  std::vector<float> out(c, 5.0f); // overwritten, not accumulated into
  sum_rows(out.data(), x.data(), n, c);
  std::vector<double> ref(c, 0.0);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < c; j++)
      ref[size_t(j)] += x[size_t(i * c + j)];
  EXPECT_TRUE(all_near("sum_rows", out, ref, 1e-5));
}

TEST(MatmulTest, ZeroInnerDimensionGivesBias) {
  const MatmulCase c{2, 3, 4, 0, false, false, false};
  Operands o(c);
  o.out.assign(o.out.size(), 7.0f);
  o.forward(c, true);
  for (size_t i = 0; i < o.out.size(); i++)
    ASSERT_EQ(o.out[i], o.bias[i % 4]) << i;
  o.forward(c, false);
  for (size_t i = 0; i < o.out.size(); i++)
    ASSERT_EQ(o.out[i], 0.0f) << i;
}

} // namespace
