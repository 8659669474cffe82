// The cuBLASLt descriptors of a plan GEMM; see gemm.h.
#include "runtime/cuda/cublaslt_check.h"
#include "runtime/cuda/gemm.h"

namespace llmc::cuda {
namespace {

template <class T>
void set(cublasLtMatmulDesc_t op, cublasLtMatmulDescAttributes_t attr,
         const T &value, const char *what) {
  check(cublasLtMatmulDescSetAttribute(op, attr, &value, sizeof value), what);
}
template <class T>
void set(cublasLtMatrixLayout_t layout, cublasLtMatrixLayoutAttribute_t attr,
         const T &value, const char *what) {
  check(cublasLtMatrixLayoutSetAttribute(layout, attr, &value, sizeof value),
        what);
}

// A column-major rows x cols matrix of leading dimension ld, repeated
// `batch` times `stride` elements apart.
cublasLtMatrixLayout_t layout(cudaDataType_t type, int64_t rows, int64_t cols,
                              int64_t ld, int64_t batch, int64_t stride) {
  cublasLtMatrixLayout_t l = nullptr;
  check(
      cublasLtMatrixLayoutCreate(&l, type, uint64_t(rows), uint64_t(cols), ld),
      "cublasLtMatrixLayoutCreate");
  if (batch > 1) {
    set(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, int32_t(batch),
        "the batch count");
    set(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, stride,
        "the batch stride");
  }
  return l;
}

} // namespace

GemmDescriptors::GemmDescriptors(const GemmSpec &spec) {
  const kernels::GemmShape &s = spec.shape;
  cublasComputeType_t compute = spec.math == GemmMath::BF16
                                    ? CUBLAS_COMPUTE_32F_FAST_16BF
                                    : CUBLAS_COMPUTE_32F;
  cudaDataType_t operands =
      spec.math == GemmMath::BF16Operands ? CUDA_R_16BF : CUDA_R_32F;
  check(cublasLtMatmulDescCreate(&op, compute, CUDA_R_32F),
        "cublasLtMatmulDescCreate");
  // A = rhs: row-major (K, N) is column-major (N, K), already op(A)'s m x k;
  // row-major (N, K) (trans_b) is column-major (K, N), transposed.
  cublasOperation_t ta = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // B = lhs: row-major (M, K) is column-major (K, M), op(B)'s k x n;
  // row-major (K, M) (trans_a) is column-major (M, K), transposed.
  cublasOperation_t tb = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  set(op, CUBLASLT_MATMUL_DESC_TRANSA, ta, "TRANSA");
  set(op, CUBLASLT_MATMUL_DESC_TRANSB, tb, "TRANSB");
  int64_t a_batch = s.b_batched ? s.batch : 1;
  a = s.trans_b ? layout(operands, s.K, s.N, s.K, a_batch, s.N * s.K)
                : layout(operands, s.N, s.K, s.N, a_batch, s.N * s.K);
  b = s.trans_a ? layout(operands, s.M, s.K, s.M, s.batch, s.M * s.K)
                : layout(operands, s.K, s.M, s.K, s.batch, s.M * s.K);
  c = layout(CUDA_R_32F, s.N, s.M, s.N, s.batch, s.M * s.N);
  if (!s.b_batched && s.batch > 1) {
    // One rhs for every batch: a stride of 0 with the batch's count (the
    // counts of A, B and C must agree).
    set(a, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, int32_t(s.batch),
        "the batch count");
    set(a, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, int64_t(0),
        "the batch stride");
  }
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  if (spec.epilogue == GemmEpilogue::Bias)
    epilogue = CUBLASLT_EPILOGUE_BIAS;
  if (spec.epilogue == GemmEpilogue::GeluTanhAuxBias) {
    epilogue = CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    set(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, int64_t(s.N), "the aux ld");
    set(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_BATCH_STRIDE, int64_t(s.M * s.N),
        "the aux batch stride");
  }
  set(op, CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue, "the epilogue");
}

GemmDescriptors::GemmDescriptors(GemmDescriptors &&other) noexcept
    : op(other.op), a(other.a), b(other.b), c(other.c) {
  other.op = nullptr;
  other.a = other.b = other.c = nullptr;
}

GemmDescriptors::~GemmDescriptors() {
  for (cublasLtMatrixLayout_t l : {a, b, c})
    if (l)
      cublasLtMatrixLayoutDestroy(l);
  if (op)
    cublasLtMatmulDescDestroy(op);
}

void GemmDescriptors::set_pointers(const float *bias, float *aux) {
  if (bias)
    set(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias, "the bias pointer");
  if (aux)
    set(op, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, aux, "the aux pointer");
}

} // namespace llmc::cuda
