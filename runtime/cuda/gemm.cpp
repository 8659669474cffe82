// GEMMs through cuBLASLt on the GPU; see gemm.h.
#include "runtime/cuda/gemm.h"

#include "runtime/cuda/cublaslt_check.h"
#include <cstdint>
#include <initializer_list>

namespace llmc::cuda {

CublasLtGemm::CublasLtGemm(void *workspace, size_t workspace_bytes)
    : workspace_(workspace), workspace_bytes_(workspace_bytes) {
  check(cublasLtCreate(&handle_), "cublasLtCreate");
}

CublasLtGemm::~CublasLtGemm() {
  cache_.clear();
  if (handle_)
    cublasLtDestroy(handle_);
}

namespace {

// The largest power of two up to 256 dividing every pointer given.
uint32_t alignment_of(std::initializer_list<const void *> pointers) {
  uint32_t alignment = 256;
  for (const void *p : pointers)
    if (p)
      while (reinterpret_cast<uintptr_t>(p) % alignment != 0)
        alignment /= 2;
  return alignment;
}

} // namespace

CublasLtGemm::Entry &CublasLtGemm::entry(const GemmSpec &spec,
                                         uint32_t alignment) {
  auto key = std::pair(spec, alignment);
  if (auto it = cache_.find(key); it != cache_.end())
    return it->second;
  GemmDescriptors d(spec);
  cublasLtMatmulPreference_t preference = nullptr;
  check(cublasLtMatmulPreferenceCreate(&preference),
        "cublasLtMatmulPreferenceCreate");
  check(cublasLtMatmulPreferenceSetAttribute(
            preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
            &workspace_bytes_, sizeof workspace_bytes_),
        "the workspace preference");
  for (auto attribute : {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                         CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                         CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                         CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
    check(cublasLtMatmulPreferenceSetAttribute(preference, attribute,
                                               &alignment, sizeof alignment),
          "the alignment preference");
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle_, d.op, d.a, d.b, d.c, d.c, preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  // No algorithm (or a shape the heuristic refuses outright): remembered,
  // so the caller's fallback is not asked again.
  bool supported = status == CUBLAS_STATUS_SUCCESS && found > 0;
  if (status != CUBLAS_STATUS_SUCCESS && status != CUBLAS_STATUS_NOT_SUPPORTED)
    check(status, "cublasLtMatmulAlgoGetHeuristic");
  return cache_.emplace(key, Entry{std::move(d), result.algo, supported})
      .first->second;
}

bool CublasLtGemm::try_run(const GemmSpec &spec, float *out, float *aux,
                           const void *lhs, const void *rhs, const float *bias,
                           cudaStream_t stream) {
  Entry &e = entry(spec, alignment_of({out, aux, lhs, rhs, bias}));
  if (!e.supported)
    return false;
  e.descriptors.set_pointers(bias, aux);
  const float alpha = 1.0f, beta = 0.0f;
  check(cublasLtMatmul(handle_, e.descriptors.op, &alpha, rhs, e.descriptors.a,
                       lhs, e.descriptors.b, &beta, out, e.descriptors.c, out,
                       e.descriptors.c, &e.algo, workspace_, workspace_bytes_,
                       stream),
        "cublasLtMatmul");
  return true;
}

void CublasLtGemm::run(const GemmSpec &spec, float *out, float *aux,
                       const void *lhs, const void *rhs, const float *bias,
                       cudaStream_t stream) {
  if (!try_run(spec, out, aux, lhs, rhs, bias, stream))
    throw std::runtime_error("cuBLASLt has no algorithm for a GEMM of M " +
                             std::to_string(spec.shape.M) + ", N " +
                             std::to_string(spec.shape.N) + ", K " +
                             std::to_string(spec.shape.K));
}

} // namespace llmc::cuda
