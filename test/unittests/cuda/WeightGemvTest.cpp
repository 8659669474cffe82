// The int8 and bf16 weight GEMMs (matmul_i8w, matmul_bf16w) under the SIMT
// emulator against the CPU kernels, on weights quantized by the CPU's own
// packers: a decode step's few rows and a prefill's many, with and without
// bias, K no multiple of a warp.

#include "runtime/cuda/simt/simt.h"

#include "runtime/cpu/quantized.h"
#include "runtime/cpu/weights_bf16.h"
#include "runtime/cuda/device/weight_gemv.cuh"
#include "test/cuda/kernel_inputs.h"
#include "test/unittests/cuda/expect_close.h"

#include <gtest/gtest.h>

#include <vector>

using llmc::simt::launch;
using llmc::test::expect_close;
using llmc::test::random_values;
namespace device = llmc::cuda::device;

namespace {

TEST(WeightGemvTest, Int8AndBf16WeightsMatchCpu) {
  const int N = 50, K = 70;
  auto w = random_values(size_t(N) * K, 90, 0.5f);
  auto bias = random_values(N, 91, 0.5f);
  std::vector<int8_t> q(w.size());
  std::vector<float> scale(N);
  llmc::cpu::quantize_weights_i8(q.data(), scale.data(), w.data(), N, K, true);
  std::vector<uint16_t> h(w.size());
  llmc::cpu::pack_weights_bf16(h.data(), w.data(), N, K, true);
  for (int M : {1, 3, 37})
    for (bool with_bias : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "M " << M << " bias " << with_bias);
      auto a = random_values(size_t(M) * K, 92, 1.0f);
      const float *b = with_bias ? bias.data() : nullptr;
      long long outputs = (long long)M * N;
      int blocks = device::warp_row_blocks(outputs, device::kWeightGemvThreads);
      std::vector<float> out(outputs, NAN), ref(outputs);
      llmc::cpu::matmul_i8w_forward(ref.data(), a.data(), q.data(),
                                    scale.data(), b, M, N, K);
      launch(blocks, device::kWeightGemvThreads, [&] {
        device::weight_gemv_kernel(out.data(), a.data(), q.data(), scale.data(),
                                   b, M, N, K);
      });
      expect_close(out, ref, 1e-5f);
      llmc::cpu::matmul_bf16w_forward(ref.data(), a.data(), h.data(), b, M, N,
                                      K);
      launch(blocks, device::kWeightGemvThreads, [&] {
        device::weight_gemv_kernel<uint16_t>(out.data(), a.data(), h.data(),
                                             nullptr, b, M, N, K);
      });
      expect_close(out, ref, 1e-5f);
    }
}

} // namespace
