// Tests every CUDA kernel body (runtime/cuda/device) under the SIMT
// emulator against the CPU kernel of the same name, on awkward shapes
// (rows that leave a block part empty, widths that are no multiple of a
// warp or a block) and in several thread orders.

#include "runtime/cuda/simt/simt.h"

#include "runtime/cpu/layernorm.h"
#include "runtime/cpu/softmax.h"
#include "runtime/cuda/device/layernorm.cuh"
#include "runtime/cuda/device/softmax.cuh"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using llmc::simt::launch;
namespace device = llmc::cuda::device;

namespace {

std::vector<float> random_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

// |a - b| <= tol * (1 + |b|) everywhere.
void expect_close(const std::vector<float> &a, const std::vector<float> &b,
                  float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_NEAR(a[i], b[i], tol * (1 + std::fabs(b[i]))) << "at " << i;
}

TEST(CudaKernelsTest, LayerNormForwardMatchesCpu) {
  for (auto shape : {std::pair{37, 203}, std::pair{8, 32}, std::pair{3, 5}}) {
    int N = shape.first, C = shape.second;
    auto x = random_values(size_t(N) * C, 1, 2.0f);
    auto w = random_values(C, 2, 1.0f), b = random_values(C, 3, 1.0f);
    std::vector<float> out(x.size()), mean(N), rstd(N);
    std::vector<float> ref(x.size()), ref_mean(N), ref_rstd(N);
    llmc::cpu::layernorm_forward(ref.data(), ref_mean.data(), ref_rstd.data(),
                                 x.data(), w.data(), b.data(), N, C, 1e-5f);
    for (uint64_t seed : {0, 3}) {
      launch(
          device::layernorm_blocks(N), device::kLayerNormThreads,
          [&] {
            device::layernorm_forward_kernel(out.data(), mean.data(),
                                             rstd.data(), x.data(), w.data(),
                                             b.data(), N, C, 1e-5f);
          },
          seed);
      expect_close(out, ref, 1e-5f);
      expect_close(mean, ref_mean, 1e-5f);
      expect_close(rstd, ref_rstd, 1e-5f);
    }
  }
}

TEST(CudaKernelsTest, SoftmaxForwardMatchesCpu) {
  for (auto shape : {std::pair{5, 1000}, std::pair{3, 7}, std::pair{2, 256}}) {
    int N = shape.first, C = shape.second;
    auto x = random_values(size_t(N) * C, 4, 3.0f);
    x[0] += 500.0f; // overflows exp without the max shift
    std::vector<float> out(x.size()), ref(x.size());
    llmc::cpu::softmax_forward(ref.data(), x.data(), N, C);
    for (uint64_t seed : {0, 2}) {
      launch(
          N, device::kSoftmaxThreads,
          [&] { device::softmax_forward_kernel(out.data(), x.data(), N, C); },
          seed);
      expect_close(out, ref, 1e-6f);
    }
  }
}

} // namespace
