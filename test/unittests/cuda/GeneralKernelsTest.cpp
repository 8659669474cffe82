// The elementwise, general (imported ONNX graphs), reduction and layout
// kernels under the SIMT emulator against the CPU kernels: every kind,
// numpy broadcasts, reductions over inner, outer and several axes, and each
// layout kernel through the strided views the launchers build.

#include "runtime/cuda/simt/simt.h"

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/general.h"
#include "runtime/cpu/layout.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cuda/device/elementwise.cuh"
#include "test/cuda/kernel_inputs.h"
#include "test/unittests/cuda/expect_close.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using llmc::simt::launch;
using llmc::test::expect_close;
using llmc::test::random_values;
namespace device = llmc::cuda::device;
namespace kernels = llmc::kernels;
using Shape = std::vector<int64_t>;

namespace {

int64_t elements(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

// Runs a grid-stride kernel over n elements in two thread orders.
template <class F> void run(long long n, F kernel) {
  for (uint64_t seed : {0, 4})
    launch(device::elementwise_blocks(n), device::kElementwiseThreads, kernel,
           seed);
}

TEST(GeneralKernelsTest, UnaryKindsMatchCpu) {
  auto x = random_values(1000, 60, 2.0f);
  x[0] = 0.0f, x[1] = -0.0f, x[2] = NAN, x[3] = INFINITY;
  for (size_t k = 0; k < kernels::kUnaryKinds.size(); ++k) {
    std::vector<float> out(x.size()), ref(x.size());
    llmc::cpu::unary_forward(kernels::kUnaryKinds[k], ref.data(), x.data(),
                             int64_t(x.size()));
    run(x.size(), [&] {
      device::unary_kernel(out.data(), x.data(), (long long)x.size(), int(k));
    });
    SCOPED_TRACE(kernels::kUnaryKinds[k]);
    expect_close(out, ref, 1e-6f);
  }
}

TEST(GeneralKernelsTest, TrailingAddAndMulMatchCpu) {
  const long long n = 3 * 257, nb = 257;
  auto a = random_values(n, 61, 1.0f), b = random_values(nb, 62, 1.0f);
  std::vector<float> out(n), ref(n);
  llmc::cpu::add_forward(ref.data(), a.data(), b.data(), n, nb);
  run(n, [&] {
    device::trailing_kernel(out.data(), a.data(), b.data(), n, nb,
                            kernels::kAdd);
  });
  expect_close(out, ref, 0.0f);
  llmc::cpu::mul_forward(ref.data(), a.data(), b.data(), n, nb);
  run(n, [&] {
    device::trailing_kernel(out.data(), a.data(), b.data(), n, nb,
                            kernels::kMul);
  });
  expect_close(out, ref, 0.0f);
}

TEST(GeneralKernelsTest, BroadcastBinaryAndWhereMatchCpu) {
  struct Case {
    Shape out, a, b;
  };
  for (Case c :
       {Case{{2, 3, 5}, {2, 3, 5}, {5}}, Case{{4, 1, 6}, {4, 1, 1}, {6}},
        Case{{3, 4, 5}, {3, 1, 5}, {4, 1}}, Case{{7}, {7}, {}}}) {
    auto a = random_values(elements(c.a), 63, 2.0f);
    auto b = random_values(elements(c.b), 64, 2.0f);
    for (float &v : a)
      v = std::fabs(v) + 0.1f; // pow of a positive base
    a[0] = NAN;                // max and min keep it
    long long n = elements(c.out);
    device::StridedView v;
    ASSERT_EQ(device::broadcast_view(v, c.out, {c.a, c.b}), "");
    for (size_t k = 0; k < kernels::kBinaryKinds.size(); ++k) {
      std::vector<float> out(n), ref(n);
      llmc::cpu::binary_forward(kernels::kBinaryKinds[k], ref.data(), c.out,
                                a.data(), c.a, b.data(), c.b);
      run(n, [&] {
        device::binary_kernel(out.data(), a.data(), b.data(), v, n, int(k));
      });
      SCOPED_TRACE(kernels::kBinaryKinds[k]);
      expect_close(out, ref, 1e-6f);
    }
    // where(condition shaped as b, a, b).
    auto cond = random_values(elements(c.b), 65, 1.0f);
    for (float &x : cond)
      x = x > 0 ? 1.0f : 0.0f;
    ASSERT_EQ(device::broadcast_view(v, c.out, {c.b, c.a, c.b}), "");
    std::vector<float> out(n), ref(n);
    llmc::cpu::where_forward(ref.data(), c.out, cond.data(), c.b, a.data(), c.a,
                             b.data(), c.b);
    run(n, [&] {
      device::where_kernel(out.data(), cond.data(), a.data(), b.data(), v, n);
    });
    expect_close(out, ref, 0.0f);
  }
}

TEST(GeneralKernelsTest, ReduceKindsMatchCpu) {
  Shape x_shape = {3, 4, 5, 2};
  auto x = random_values(elements(x_shape), 66, 1.0f);
  for (Shape axes : {Shape{3}, Shape{0}, Shape{1, 3}, Shape{0, 1, 2, 3}}) {
    device::StridedView kept, folded;
    ASSERT_EQ(device::reduce_views(kept, folded, x_shape, axes), "");
    long long n_out = elements(x_shape), count = 1;
    for (int64_t a : axes)
      n_out /= x_shape[a], count *= x_shape[a];
    for (size_t k = 0; k < kernels::kReduceKinds.size(); ++k) {
      std::vector<float> out(n_out), ref(n_out);
      llmc::cpu::reduce_forward(kernels::kReduceKinds[k], ref.data(), x.data(),
                                x_shape, axes);
      run(n_out, [&] {
        device::reduce_kernel(out.data(), x.data(), kept, folded, n_out, count,
                              int(k));
      });
      SCOPED_TRACE(kernels::kReduceKinds[k]);
      expect_close(out, ref, 0.0f);
    }
  }
}

TEST(GeneralKernelsTest, SumToAndFillMatchCpu) {
  const long long rows = 33, cols = 301;
  auto x = random_values(rows * cols, 67, 1.0f);
  std::vector<float> out(cols), ref(cols);
  llmc::cpu::sum_rows(ref.data(), x.data(), rows, cols);
  run(cols, [&] { device::sum_rows_kernel(out.data(), x.data(), rows, cols); });
  expect_close(out, ref, 0.0f);
  run(cols, [&] { device::fill_kernel(out.data(), cols, 2.5f); });
  expect_close(out, std::vector<float>(cols, 2.5f), 0.0f);
}

// round_bf16 gives the CPU's bits, ties to even, infinities and NaNs
// included.
TEST(GeneralKernelsTest, Bf16RoundingMatchesCpu) {
  auto x = random_values(1000, 69, 3.0f);
  x.insert(x.end(), {1.00390625f, 1.01171875f, -0.0f, INFINITY, -INFINITY, NAN,
                     3.0e38f, 1e-40f});
  const long long n = (long long)x.size();
  std::vector<uint16_t> out(x.size()), ref(x.size());
  llmc::cpu::round_to_bf16(ref.data(), x.data(), n);
  run(n, [&] { device::round_bf16_kernel(out.data(), x.data(), n); });
  EXPECT_EQ(out, ref);
}

// Each layout kernel through the view its launcher builds.
void strided_copy(float *dst, const float *src, const device::StridedView &v) {
  long long n = 1;
  for (int d = 0; d < v.rank; ++d)
    n *= v.sizes[d];
  run(n, [&] { device::strided_copy_kernel(dst, src, v, n); });
}

TEST(GeneralKernelsTest, LayoutKernelsMatchCpu) {
  Shape shape = {2, 3, 4, 5};
  auto x = random_values(elements(shape), 68, 1.0f);
  std::vector<float> out(x.size()), ref(x.size());

  std::vector<int> perm = {2, 0, 3, 1};
  llmc::cpu::permute(ref.data(), x.data(), shape.data(), perm.data(), 4);
  device::StridedView v;
  ASSERT_EQ(device::permute_view(v, shape, perm), "");
  strided_copy(out.data(), x.data(), v);
  expect_close(out, ref, 0.0f);

  // Split (2*3, 4, 5) along the 4 into 1 + 3, then concat back.
  Shape sizes = {1, 3};
  std::vector<float> p0(2 * 3 * 1 * 5), p1(2 * 3 * 3 * 5), r0(p0.size()),
      r1(p1.size());
  float *refs[] = {r0.data(), r1.data()}, *parts[] = {p0.data(), p1.data()};
  llmc::cpu::split(refs, x.data(), sizes.data(), 2, 6, 5);
  for (int k = 0, first = 0; k < 2; first += int(sizes[k++]))
    strided_copy(parts[k], x.data(),
                 device::block_view(6, 4, first, sizes[k], 5));
  expect_close(p0, r0, 0.0f);
  expect_close(p1, r1, 0.0f);
  std::fill(out.begin(), out.end(), NAN);
  for (int k = 0, first = 0; k < 2; first += int(sizes[k++]))
    strided_copy(out.data(), parts[k],
                 device::swapped(device::block_view(6, 4, first, sizes[k], 5)));
  expect_close(out, x, 0.0f);

  // x[1:2, ::-2, 1:4:2, 4::-3]: negative steps walk backwards.
  Shape box = {1, 2, 2, 2}, offsets = {1, 2, 1, 4}, steps = {1, -2, 2, -3};
  std::vector<float> slice(elements(box));
  ASSERT_EQ(device::slice_view(v, shape, box, offsets, steps), "");
  strided_copy(slice.data(), x.data(), v);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t l = 0; l < 2; ++l) {
        int64_t src =
            ((1 * 3 + (2 - 2 * i)) * 4 + (1 + 2 * j)) * 5 + (4 - 3 * l);
        EXPECT_EQ(slice[size_t((i * 2 + j) * 2 + l)], x[size_t(src)]);
      }
  // insert_slice writes the box back into a zeroed tensor.
  std::vector<float> dest(x.size(), 0.0f);
  strided_copy(dest.data(), slice.data(), device::swapped(v));
  int64_t written = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (dest[i] != 0.0f) {
      EXPECT_EQ(dest[i], x[i]);
      ++written;
    }
  EXPECT_EQ(written, elements(box));

  // scatter_to_parallel: rank 1 of 2's block of the last dim of (6, 2 * 10).
  std::vector<float> block(6 * 10);
  strided_copy(block.data(), x.data(), device::block_view(6, 2, 1, 1, 10));
  for (int64_t o = 0; o < 6; ++o)
    for (int64_t c = 0; c < 10; ++c)
      EXPECT_EQ(block[size_t(o * 10 + c)], x[size_t(o * 20 + 10 + c)]);
}

} // namespace
