// The cuBLASLt descriptors llmc builds (runtime/cuda/gemm.h), read back
// through cuBLASLt's own getters and executed by a reference model of
// cuBLASLt's documented semantics (column-major D = epilogue(op(A)·op(B)),
// layouts of rows, columns, leading dimension and strided batches): the
// result must equal the CPU's row-major matmul of the plan's GEMM. No GPU
// is needed to create and read descriptors, so this runs in CI; it catches
// the row-/column-major swap, transposes, leading dimensions, batch strides
// and epilogues going wrong before any GPU sees them.

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/fused.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cuda/gemm.h"
#include "test/cuda/kernel_inputs.h"
#include "test/unittests/cuda/expect_close.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using llmc::cuda::GemmDescriptors;
using llmc::cuda::GemmEpilogue;
using llmc::cuda::GemmMath;
using llmc::cuda::GemmSpec;
using llmc::test::expect_close;
using llmc::test::random_values;

namespace {

template <class T>
T read(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr) {
  T value{};
  size_t written = 0;
  EXPECT_EQ(
      cublasLtMatmulDescGetAttribute(d, attr, &value, sizeof value, &written),
      CUBLAS_STATUS_SUCCESS);
  return value;
}
template <class T>
T read(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t attr) {
  T value{};
  size_t written = 0;
  EXPECT_EQ(
      cublasLtMatrixLayoutGetAttribute(l, attr, &value, sizeof value, &written),
      CUBLAS_STATUS_SUCCESS);
  return value;
}

// A matrix layout as cuBLASLt reads it back.
struct Layout {
  int64_t rows, cols, ld, batch, stride;
  explicit Layout(cublasLtMatrixLayout_t l)
      : rows(int64_t(read<uint64_t>(l, CUBLASLT_MATRIX_LAYOUT_ROWS))),
        cols(int64_t(read<uint64_t>(l, CUBLASLT_MATRIX_LAYOUT_COLS))),
        ld(read<int64_t>(l, CUBLASLT_MATRIX_LAYOUT_LD)),
        batch(read<int32_t>(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT)),
        stride(read<int64_t>(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET)) {
    EXPECT_EQ(read<uint32_t>(l, CUBLASLT_MATRIX_LAYOUT_TYPE),
              uint32_t(CUDA_R_32F));
  }
  // Element (r, c) of batch i.
  float at(const float *p, int64_t i, int64_t r, int64_t c) const {
    EXPECT_TRUE(r < rows && c < cols);
    return p[i * stride + c * ld + r];
  }
};

float gelu_tanh(float x) {
  const float k = std::sqrt(2.0f / float(M_PI));
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

// cuBLASLt's documented semantics, from the read-back descriptors:
// D[i] = epilogue(op(A[i]) · op(B[i])) column-major, alpha 1, beta 0.
void execute(const GemmDescriptors &d, const float *A, const float *B, float *D,
             float *aux, const float *bias) {
  Layout a(d.a), b(d.b), c(d.c);
  auto ta = read<int32_t>(d.op, CUBLASLT_MATMUL_DESC_TRANSA);
  auto tb = read<int32_t>(d.op, CUBLASLT_MATMUL_DESC_TRANSB);
  auto epilogue = read<uint32_t>(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE);
  bool bf16 = read<int32_t>(d.op, CUBLASLT_MATMUL_DESC_COMPUTE_TYPE) ==
              CUBLAS_COMPUTE_32F_FAST_16BF;
  int64_t m = c.rows, n = c.cols, k = ta == CUBLAS_OP_N ? a.cols : a.rows;
  ASSERT_EQ(ta == CUBLAS_OP_N ? a.rows : a.cols, m);
  ASSERT_EQ(tb == CUBLAS_OP_N ? b.rows : b.cols, k);
  ASSERT_EQ(tb == CUBLAS_OP_N ? b.cols : b.rows, n);
  ASSERT_EQ(a.batch, c.batch);
  ASSERT_EQ(b.batch, c.batch);
  auto round = [&](float x) {
    return bf16 ? llmc::cpu::from_bf16(llmc::cpu::to_bf16(x)) : x;
  };
  int64_t aux_ld = read<int64_t>(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD);
  int64_t aux_stride =
      read<int64_t>(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE);
  for (int64_t i = 0; i < c.batch; ++i)
    for (int64_t col = 0; col < n; ++col)
      for (int64_t row = 0; row < m; ++row) {
        double sum = 0.0;
        for (int64_t p = 0; p < k; ++p) {
          float x = ta == CUBLAS_OP_N ? a.at(A, i, row, p) : a.at(A, i, p, row);
          float y = tb == CUBLAS_OP_N ? b.at(B, i, p, col) : b.at(B, i, col, p);
          sum += double(round(x)) * double(round(y));
        }
        float v = float(sum);
        if (epilogue != CUBLASLT_EPILOGUE_DEFAULT)
          v += bias[row]; // bias per row of D: one per output column
        if (epilogue == CUBLASLT_EPILOGUE_GELU_AUX_BIAS) {
          aux[i * aux_stride + col * aux_ld + row] = v;
          v = gelu_tanh(v);
        }
        D[i * c.stride + col * c.ld + row] = v;
      }
}

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
  for (const Case &c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "batch " << c.batch << " trans_a " << c.trans_a
                 << " trans_b " << c.trans_b << " b_batched " << c.b_batched
                 << " epilogue " << int(c.epilogue) << " bf16 "
                 << (c.math == GemmMath::BF16));
    GemmSpec spec{{c.batch, M, N, K, c.trans_a, c.trans_b, c.b_batched},
                  c.epilogue,
                  c.math};
    auto lhs = random_values(size_t(c.batch * M * K), 70, 1.0f);
    auto rhs =
        random_values(size_t((c.b_batched ? c.batch : 1) * K * N), 71, 1.0f);
    auto bias = random_values(N, 72, 1.0f);
    bool has_bias = c.epilogue != GemmEpilogue::None;
    std::vector<float> ref(size_t(c.batch * M * N)), ref_pre(ref.size());
    auto math = c.math == GemmMath::BF16 ? llmc::cpu::GemmMath::BF16
                                         : llmc::cpu::GemmMath::FP32;
    if (c.epilogue == GemmEpilogue::GeluTanhAuxBias)
      llmc::cpu::matmul_bias_gelu_forward(
          ref_pre.data(), ref.data(), lhs.data(), rhs.data(), bias.data(),
          c.batch, M, N, K, c.trans_a, c.trans_b, c.b_batched, true, math);
    else
      llmc::cpu::matmul_forward(ref.data(), lhs.data(), rhs.data(),
                                has_bias ? bias.data() : nullptr, c.batch, M, N,
                                K, c.trans_a, c.trans_b, c.b_batched, math);

    GemmDescriptors d(spec);
    float fake_bias = 0.0f, fake_aux = 0.0f;
    d.set_pointers(has_bias ? &fake_bias : nullptr,
                   c.epilogue == GemmEpilogue::GeluTanhAuxBias ? &fake_aux
                                                               : nullptr);
    if (has_bias)
      EXPECT_EQ(read<const void *>(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER),
                &fake_bias);
    std::vector<float> out(ref.size(), NAN), pre(ref.size(), NAN);
    execute(d, rhs.data(), lhs.data(), out.data(), pre.data(), bias.data());
    expect_close(out, ref, c.math == GemmMath::BF16 ? 1e-5f : 1e-5f);
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
