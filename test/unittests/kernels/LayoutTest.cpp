// Tests permute against naive index arithmetic for ranks 0..6, its backward
// (the inverse permutation) against finite differences, and split / concat
// as each other's inverse and backward.

#include "runtime/cpu/layout.h"

#include "GradCheck.h"

#include <cmath>
#include <numeric>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

// out[idx_out] = inp[idx_in] with idx_in[perm[i]] = idx_out[i], by brute
// force over the output index.
std::vector<double> permute_reference(const std::vector<float> &x,
                                      const std::vector<int64_t> &shape,
                                      const std::vector<int> &perm) {
  const size_t rank = shape.size();
  std::vector<int64_t> out_shape(rank), in_stride(rank);
  int64_t s = 1;
  for (size_t d = rank; d-- > 0;) {
    in_stride[d] = s;
    s *= shape[d];
  }
  for (size_t i = 0; i < rank; i++)
    out_shape[i] = shape[size_t(perm[i])];
  std::vector<double> out(static_cast<size_t>(s));
  std::vector<int64_t> idx(rank, 0);
  for (int64_t flat = 0; flat < s; flat++) {
    int64_t rem = flat, off = 0;
    for (size_t i = rank; i-- > 0;) {
      idx[i] = rem % out_shape[i];
      rem /= out_shape[i];
      off += idx[i] * in_stride[size_t(perm[i])];
    }
    out[size_t(flat)] = x[size_t(off)];
  }
  return out;
}

struct PermuteCase {
  std::vector<int64_t> shape;
  std::vector<int> perm;
};

const PermuteCase kCases[] = {
    {{}, {}},                                 // scalar
    {{7}, {0}},                               // identity
    {{3, 5}, {1, 0}},                         // matrix transpose
    {{2, 5, 3, 4}, {0, 2, 1, 3}},             // (B, T, H, D) -> (B, H, T, D)
    {{2, 1, 3, 1}, {3, 2, 0, 1}},             // size-1 dims
    {{2, 3, 4}, {2, 0, 1}},                   // rotation
    {{2, 3, 2, 2, 3, 2}, {4, 1, 5, 0, 3, 2}}, // rank 6
    {{2, 3, 2, 2, 3, 2}, {0, 1, 2, 3, 5, 4}}, // rank 6, inner swap only
};

int64_t numel(const std::vector<int64_t> &shape) {
  return std::accumulate(shape.begin(), shape.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

TEST(LayoutTest, PermuteMatchesReference) {
  for (const PermuteCase &c : kCases) {
    SCOPED_TRACE(c.shape.size());
    const std::vector<float> x = random_vector(size_t(numel(c.shape)), 111);
    std::vector<float> out(x.size(), NAN);
    permute(out.data(), x.data(), c.shape.data(), c.perm.data(),
            int(c.shape.size()));
    EXPECT_TRUE(
        all_near("permute", out, permute_reference(x, c.shape, c.perm), 0.0));
  }
}

TEST(LayoutTest, PermuteBackwardIsInversePermutation) {
  for (const PermuteCase &c : kCases) {
    SCOPED_TRACE(c.shape.size());
    const size_t rank = c.shape.size();
    std::vector<int64_t> out_shape(rank);
    std::vector<int> inv(rank);
    for (size_t i = 0; i < rank; i++) {
      out_shape[i] = c.shape[size_t(c.perm[i])];
      inv[size_t(c.perm[i])] = int(i);
    }
    std::vector<float> x = random_vector(size_t(numel(c.shape)), 112);
    const std::vector<float> r = random_vector(x.size(), 113);
    std::vector<float> dx(x.size()), out(x.size());
    permute(dx.data(), r.data(), out_shape.data(), inv.data(), int(rank));
    auto loss = [&] {
      permute(out.data(), x.data(), c.shape.data(), c.perm.data(), int(rank));
      return project(r, out.data());
    };
    EXPECT_TRUE(check_gradient("dinp", x, dx, loss));
    // And the round trip is exact.
    std::vector<float> back(x.size());
    permute(out.data(), x.data(), c.shape.data(), c.perm.data(), int(rank));
    permute(back.data(), out.data(), out_shape.data(), inv.data(), int(rank));
    EXPECT_EQ(back, x);
  }
}

// (outer=2, axis sizes {1, 3, 2}, inner=4)
constexpr int64_t kOuter = 2, kInner = 4;
const int64_t kAxis[3] = {1, 3, 2};

TEST(LayoutTest, ConcatMatchesReferenceAndSplitInverts) {
  std::vector<std::vector<float>> parts;
  for (int k = 0; k < 3; k++)
    parts.push_back(random_vector(size_t(kOuter * kAxis[k] * kInner), 114 + k));
  const float *ins[3] = {parts[0].data(), parts[1].data(), parts[2].data()};
  std::vector<float> out(kOuter * 6 * kInner);
  concat(out.data(), ins, kAxis, 3, kOuter, kInner);
  for (int64_t o = 0; o < kOuter; o++) {
    int64_t a0 = 0;
    for (int k = 0; k < 3; k++) {
      for (int64_t a = 0; a < kAxis[k]; a++)
        for (int64_t i = 0; i < kInner; i++)
          ASSERT_EQ(out[size_t((o * 6 + a0 + a) * kInner + i)],
                    parts[size_t(k)][size_t((o * kAxis[k] + a) * kInner + i)]);
      a0 += kAxis[k];
    }
  }
  std::vector<std::vector<float>> back(3);
  float *outs[3];
  for (int k = 0; k < 3; k++) {
    back[size_t(k)].assign(parts[size_t(k)].size(), NAN);
    outs[k] = back[size_t(k)].data();
  }
  split(outs, out.data(), kAxis, 3, kOuter, kInner);
  EXPECT_EQ(back, parts);
}

TEST(LayoutTest, SplitBackwardIsConcat) {
  std::vector<float> x = random_vector(kOuter * 6 * kInner, 117);
  std::vector<std::vector<float>> r, parts(3);
  float *outs[3];
  const float *rs[3];
  for (int k = 0; k < 3; k++) {
    r.push_back(random_vector(size_t(kOuter * kAxis[k] * kInner), 118 + k));
    parts[size_t(k)].resize(r.back().size());
    outs[k] = parts[size_t(k)].data();
  }
  for (int k = 0; k < 3; k++)
    rs[k] = r[size_t(k)].data();
  std::vector<float> dx(x.size());
  concat(dx.data(), rs, kAxis, 3, kOuter, kInner);
  auto loss = [&] {
    split(outs, x.data(), kAxis, 3, kOuter, kInner);
    double s = 0.0;
    for (int k = 0; k < 3; k++)
      s += project(r[size_t(k)], outs[k]);
    return s;
  };
  EXPECT_TRUE(check_gradient("dinp", x, dx, loss));
}

TEST(LayoutTest, ConcatBackwardIsSplit) {
  std::vector<std::vector<float>> parts, grads(3);
  float *gs[3];
  for (int k = 0; k < 3; k++) {
    parts.push_back(random_vector(size_t(kOuter * kAxis[k] * kInner), 121 + k));
    grads[size_t(k)].resize(parts.back().size());
    gs[k] = grads[size_t(k)].data();
  }
  const std::vector<float> r = random_vector(kOuter * 6 * kInner, 124);
  split(gs, r.data(), kAxis, 3, kOuter, kInner);
  std::vector<float> out(r.size());
  auto loss = [&] {
    const float *ins[3] = {parts[0].data(), parts[1].data(), parts[2].data()};
    concat(out.data(), ins, kAxis, 3, kOuter, kInner);
    return project(r, out.data());
  };
  for (int k = 0; k < 3; k++)
    EXPECT_TRUE(check_gradient("dpart" + std::to_string(k), parts[size_t(k)],
                               grads[size_t(k)], loss));
}

} // namespace
