#include "runtime/cuda/emulated/cublaslt_model.h"

#include "runtime/cpu/bf16.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace llmc::cuda {
namespace {

void check(cublasStatus_t status, const char *what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::logic_error(std::string("cuBLASLt model: cannot read ") + what);
}
template <class T>
T read(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr,
       const char *what) {
  T value{};
  size_t written = 0;
  check(cublasLtMatmulDescGetAttribute(d, attr, &value, sizeof value, &written),
        what);
  return value;
}
template <class T>
T read(cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t attr,
       const char *what) {
  T value{};
  size_t written = 0;
  check(
      cublasLtMatrixLayoutGetAttribute(l, attr, &value, sizeof value, &written),
      what);
  return value;
}

// A matrix layout as cuBLASLt reads it back: fp32 or bf16 elements.
struct Layout {
  int64_t rows, cols, ld, batch, stride;
  bool bf16;
  explicit Layout(cublasLtMatrixLayout_t l)
      : rows(int64_t(read<uint64_t>(l, CUBLASLT_MATRIX_LAYOUT_ROWS, "rows"))),
        cols(int64_t(read<uint64_t>(l, CUBLASLT_MATRIX_LAYOUT_COLS, "cols"))),
        ld(read<int64_t>(l, CUBLASLT_MATRIX_LAYOUT_LD, "ld")),
        batch(read<int32_t>(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, "batch")),
        stride(read<int64_t>(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                             "batch stride")) {
    auto type = read<uint32_t>(l, CUBLASLT_MATRIX_LAYOUT_TYPE, "type");
    if (type != uint32_t(CUDA_R_32F) && type != uint32_t(CUDA_R_16BF))
      throw std::logic_error("cuBLASLt model: only fp32 and bf16 matrices");
    bf16 = type == uint32_t(CUDA_R_16BF);
    if (ld < rows)
      throw std::logic_error("cuBLASLt model: ld below the rows");
  }
  float at(const void *p, int64_t i, int64_t r, int64_t c) const {
    int64_t index = i * stride + c * ld + r;
    return bf16 ? cpu::from_bf16(static_cast<const uint16_t *>(p)[index])
                : static_cast<const float *>(p)[index];
  }
};

float gelu_tanh(float x) {
  const float k = 0.7978845608028654f; // sqrt(2 / pi)
  return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

} // namespace

void execute_gemm_model(const GemmDescriptors &d, const void *A, const void *B,
                        float *D) {
  Layout a(d.a), b(d.b), c(d.c);
  if (a.bf16 != b.bf16 || c.bf16)
    throw std::logic_error("cuBLASLt model: A and B of one type, D fp32");
  auto ta = read<int32_t>(d.op, CUBLASLT_MATMUL_DESC_TRANSA, "TRANSA");
  auto tb = read<int32_t>(d.op, CUBLASLT_MATMUL_DESC_TRANSB, "TRANSB");
  auto epilogue =
      read<uint32_t>(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, "the epilogue");
  bool bf16 = read<int32_t>(d.op, CUBLASLT_MATMUL_DESC_COMPUTE_TYPE,
                            "the compute type") == CUBLAS_COMPUTE_32F_FAST_16BF;
  int64_t m = c.rows, n = c.cols, k = ta == CUBLAS_OP_N ? a.cols : a.rows;
  if ((ta == CUBLAS_OP_N ? a.rows : a.cols) != m ||
      (tb == CUBLAS_OP_N ? b.rows : b.cols) != k ||
      (tb == CUBLAS_OP_N ? b.cols : b.rows) != n)
    throw std::logic_error("cuBLASLt model: op(A) " + std::to_string(m) + "x" +
                           std::to_string(k) +
                           " does not multiply op(B) into D");
  if (a.batch != c.batch || b.batch != c.batch)
    throw std::logic_error("cuBLASLt model: batch counts differ");
  const float *bias = nullptr;
  float *aux = nullptr;
  int64_t aux_ld = 0, aux_stride = 0;
  if (epilogue != CUBLASLT_EPILOGUE_DEFAULT) {
    bias = read<const float *>(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                               "the bias pointer");
    if (!bias)
      throw std::logic_error("cuBLASLt model: a bias epilogue without bias");
  }
  if (epilogue == CUBLASLT_EPILOGUE_GELU_AUX_BIAS) {
    aux = read<float *>(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER,
                        "the aux pointer");
    aux_ld =
        read<int64_t>(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, "the aux ld");
    aux_stride = read<int64_t>(
        d.op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE, "aux stride");
    if (!aux || aux_ld < m)
      throw std::logic_error("cuBLASLt model: GELU_AUX_BIAS without aux");
  }
  auto round = [&](float x) {
    return bf16 ? cpu::from_bf16(cpu::to_bf16(x)) : x;
  };
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
        if (bias)
          v += bias[row]; // one per row of D: an output column of the plan
        if (aux) {
          aux[i * aux_stride + col * aux_ld + row] = v;
          v = gelu_tanh(v);
        }
        D[i * c.stride + col * c.ld + row] = v;
      }
}

} // namespace llmc::cuda
