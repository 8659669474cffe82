// GEMMs on the GPU through cuBLASLt (kernel table: matmul, matmul_f32w,
// and the GEMM of matmul_bias_gelu and matmul_swiglu), with the bias and
// tanh-GELU epilogues cuBLASLt fuses, bf16 math (operands rounded to bf16,
// sums in fp32) for bf16-mixed plans, a workspace the caller owns (the
// arena's), and the descriptors and algorithm cached per GEMM shape.
//
// The plan's GEMMs are row-major; cuBLASLt's are column-major. A row-major
// (R, C) array is a column-major (C, R) one, so out (M, N) = op(lhs) ·
// op(rhs) is asked for as out^T (N, M) = op(rhs)^T · op(lhs)^T: cuBLASLt's
// A is rhs, its B is lhs, m = N, n = M, and the transposes carry over.
// Host code (compiled by the host compiler, linked to cuBLASLt); building
// descriptors needs no GPU, which is how CI checks them.
#pragma once

#include "runtime/kernels/gemm_shape.h"

#include <cstddef>
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <map>
#include <tuple>
#include <utility>

namespace llmc::cuda {

// Bias: out = AB + bias (bias per output column). GeluTanhAuxBias: aux =
// AB + bias, out = gelu_tanh(aux) (matmul_bias_gelu with approximate
// "tanh"; the erf GELU is a Bias GEMM into aux, then the gelu kernel).
enum class GemmEpilogue { None, Bias, GeluTanhAuxBias };
// BF16: fp32 operands rounded to bf16, products summed in fp32
// (CUBLAS_COMPUTE_32F_FAST_16BF), as cpu::GemmMath::BF16. BF16Operands: the
// same math on operands stored in bf16 (CUDA_R_16BF, CUBLAS_COMPUTE_32F),
// the tensor cores' own input, at half the bytes; the output stays fp32.
enum class GemmMath { FP32, BF16, BF16Operands };

struct GemmSpec {
  kernels::GemmShape shape;
  GemmEpilogue epilogue = GemmEpilogue::None;
  GemmMath math = GemmMath::FP32;

  auto key() const {
    const kernels::GemmShape &s = shape;
    return std::tuple(s.batch, s.M, s.N, s.K, s.trans_a, s.trans_b, s.b_batched,
                      epilogue, math);
  }
  bool operator<(const GemmSpec &o) const { return key() < o.key(); }
};

// The cuBLASLt descriptors of one GEMM (the operation, and the layouts of
// A = rhs, B = lhs and C = D = out); throws std::runtime_error naming the
// call when cuBLASLt refuses one.
class GemmDescriptors {
public:
  explicit GemmDescriptors(const GemmSpec &spec);
  ~GemmDescriptors();
  GemmDescriptors(GemmDescriptors &&other) noexcept;
  GemmDescriptors(const GemmDescriptors &) = delete;
  GemmDescriptors &operator=(const GemmDescriptors &) = delete;
  GemmDescriptors &operator=(GemmDescriptors &&) = delete;

  // The epilogue's bias and aux pointers of this call.
  void set_pointers(const float *bias, float *aux);

  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
};

// Runs GEMMs on one handle, caching descriptors and cuBLASLt's first
// heuristic algorithm per GemmSpec and alignment of the pointers (arena
// buffers are 64-byte aligned, below the 256 bytes cuBLASLt's heuristic
// assumes unless told).
class CublasLtGemm {
public:
  CublasLtGemm(void *workspace, size_t workspace_bytes);
  ~CublasLtGemm();
  CublasLtGemm(const CublasLtGemm &) = delete;
  CublasLtGemm &operator=(const CublasLtGemm &) = delete;

  // out (batch, M, N) = op(lhs) · op(rhs) (+ bias, GELU as spec says; aux
  // for GeluTanhAuxBias), all on the device; lhs and rhs are bf16 under
  // GemmMath::BF16Operands, fp32 otherwise. Throws when cuBLASLt has no
  // algorithm for it.
  void run(const GemmSpec &spec, float *out, float *aux, const void *lhs,
           const void *rhs, const float *bias, cudaStream_t stream);
  // run, or false (nothing run) when cuBLASLt has no algorithm for it (an
  // epilogue it cannot fuse at this shape): the caller runs it unfused.
  bool try_run(const GemmSpec &spec, float *out, float *aux, const void *lhs,
               const void *rhs, const float *bias, cudaStream_t stream);

private:
  struct Entry {
    GemmDescriptors descriptors;
    cublasLtMatmulAlgo_t algo;
    bool supported;
  };
  Entry &entry(const GemmSpec &spec, uint32_t alignment);

  cublasLtHandle_t handle_ = nullptr;
  void *workspace_;
  size_t workspace_bytes_;
  std::map<std::pair<GemmSpec, uint32_t>, Entry> cache_;
};

} // namespace llmc::cuda
