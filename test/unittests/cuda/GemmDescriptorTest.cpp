// The cuBLASLt descriptors llmc builds (runtime/cuda/gemm.h), read back
// through cuBLASLt's own getters and executed by the model of cuBLASLt's
// documented semantics the emulated backend runs its GEMMs with
// (runtime/cuda/emulated/cublaslt_model.h: column-major D =
// epilogue(op(A)·op(B)), layouts of rows, columns, leading dimension and
// strided batches, bias and aux pointers from the descriptor): the
// result must equal the CPU's row-major matmul of the plan's GEMM. No GPU
// is needed to create and read descriptors, so this runs in CI; it catches
// the row-/column-major swap, transposes, leading dimensions, batch strides
// and epilogues going wrong before any GPU sees them.

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/fused.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cuda/emulated/cublaslt_model.h"
#include "runtime/cuda/gemm.h"
#include "test/cuda/kernel_inputs.h"
#include "test/unittests/cuda/expect_close.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using llmc::cuda::execute_gemm_model;
using llmc::cuda::GemmDescriptors;
using llmc::cuda::GemmEpilogue;
using llmc::cuda::GemmMath;
using llmc::cuda::GemmSpec;
using llmc::test::expect_close;
using llmc::test::random_values;

namespace {

struct Case {
  int64_t batch;
  bool trans_a, trans_b, b_batched;
  GemmEpilogue epilogue;
  GemmMath math;
};

TEST(GemmDescriptorTest, DescriptorsComputeThePlansGemm) {
  const int64_t M = 5, N = 7, K = 9;
  std::vector<Case> cases;
  for (int64_t batch : {1, 3})
    for (bool b_batched : {false, true})
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (auto e : {GemmEpilogue::None, GemmEpilogue::Bias,
                         GemmEpilogue::GeluTanhAuxBias})
            if (batch > 1 || !b_batched)
              cases.push_back({batch, ta, tb, b_batched, e, GemmMath::FP32});
  cases.push_back({3, true, false, true, GemmEpilogue::Bias, GemmMath::BF16});
  cases.push_back({1, false, true, false, GemmEpilogue::None, GemmMath::BF16});
  // Operands stored in bf16: the same products as the bf16 math of the fp32
  // values they were rounded from.
  for (auto e : {GemmEpilogue::None, GemmEpilogue::Bias,
                 GemmEpilogue::GeluTanhAuxBias}) {
    cases.push_back({1, false, true, false, e, GemmMath::BF16Operands});
    cases.push_back({3, true, false, true, e, GemmMath::BF16Operands});
    cases.push_back({3, false, false, false, e, GemmMath::BF16Operands});
  }
  for (const Case &c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "batch " << c.batch << " trans_a " << c.trans_a
                 << " trans_b " << c.trans_b << " b_batched " << c.b_batched
                 << " epilogue " << int(c.epilogue) << " math " << int(c.math));
    GemmSpec spec{{c.batch, M, N, K, c.trans_a, c.trans_b, c.b_batched},
                  c.epilogue,
                  c.math};
    auto lhs = random_values(size_t(c.batch * M * K), 70, 1.0f);
    auto rhs =
        random_values(size_t((c.b_batched ? c.batch : 1) * K * N), 71, 1.0f);
    auto bias = random_values(N, 72, 1.0f);
    bool has_bias = c.epilogue != GemmEpilogue::None;
    std::vector<float> ref(size_t(c.batch * M * N)), ref_pre(ref.size());
    auto math = c.math == GemmMath::FP32 ? llmc::cpu::GemmMath::FP32
                                         : llmc::cpu::GemmMath::BF16;
    if (c.epilogue == GemmEpilogue::GeluTanhAuxBias)
      llmc::cpu::matmul_bias_gelu_forward(
          ref_pre.data(), ref.data(), lhs.data(), rhs.data(), bias.data(),
          c.batch, M, N, K, c.trans_a, c.trans_b, c.b_batched, true, math);
    else
      llmc::cpu::matmul_forward(ref.data(), lhs.data(), rhs.data(),
                                has_bias ? bias.data() : nullptr, c.batch, M, N,
                                K, c.trans_a, c.trans_b, c.b_batched, math);

    GemmDescriptors d(spec);
    std::vector<float> out(ref.size(), NAN), pre(ref.size(), NAN);
    d.set_pointers(has_bias ? bias.data() : nullptr,
                   c.epilogue == GemmEpilogue::GeluTanhAuxBias ? pre.data()
                                                               : nullptr);
    if (has_bias) {
      const void *read_back = nullptr;
      size_t written = 0;
      ASSERT_EQ(cublasLtMatmulDescGetAttribute(
                    d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &read_back,
                    sizeof read_back, &written),
                CUBLAS_STATUS_SUCCESS);
      EXPECT_EQ(read_back, bias.data());
    }
    // cuBLASLt's A is rhs and its B is lhs (the row-major transpose).
    if (c.math == GemmMath::BF16Operands) {
      for (cublasLtMatrixLayout_t l : {d.a, d.b, d.c}) {
        uint32_t type = 0;
        size_t written = 0;
        ASSERT_EQ(
            cublasLtMatrixLayoutGetAttribute(l, CUBLASLT_MATRIX_LAYOUT_TYPE,
                                             &type, sizeof type, &written),
            CUBLAS_STATUS_SUCCESS);
        EXPECT_EQ(type, uint32_t(l == d.c ? CUDA_R_32F : CUDA_R_16BF));
      }
      std::vector<uint16_t> lhs16(lhs.size()), rhs16(rhs.size());
      llmc::cpu::round_to_bf16(lhs16.data(), lhs.data(), int64_t(lhs.size()));
      llmc::cpu::round_to_bf16(rhs16.data(), rhs.data(), int64_t(rhs.size()));
      execute_gemm_model(d, rhs16.data(), lhs16.data(), out.data());
    } else {
      execute_gemm_model(d, rhs.data(), lhs.data(), out.data());
    }
    expect_close(out, ref, 1e-5f);
    if (c.epilogue == GemmEpilogue::GeluTanhAuxBias)
      expect_close(pre, ref_pre, 1e-5f);
  }
}

// Building a CublasLtGemm needs a GPU: without one, a clear error.
TEST(GemmDescriptorTest, HandleWithoutGpuIsAnError) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0)
    GTEST_SKIP() << "a GPU is present";
  try {
    llmc::cuda::CublasLtGemm gemm(nullptr, 0);
    FAIL() << "cublasLtCreate succeeded without a GPU";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("cublasLtCreate failed"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
