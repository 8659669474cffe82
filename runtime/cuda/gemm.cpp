// GEMMs through cuBLASLt on the GPU; see gemm.h.
#include "runtime/cuda/gemm.h"
#include "runtime/cuda/cublaslt_check.h"

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

CublasLtGemm::Entry &CublasLtGemm::entry(const GemmSpec &spec) {
  if (auto it = cache_.find(spec); it != cache_.end())
    return it->second;
  GemmDescriptors d(spec);
  cublasLtMatmulPreference_t preference = nullptr;
  check(cublasLtMatmulPreferenceCreate(&preference),
        "cublasLtMatmulPreferenceCreate");
  check(cublasLtMatmulPreferenceSetAttribute(
            preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
            &workspace_bytes_, sizeof workspace_bytes_),
        "the workspace preference");
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle_, d.op, d.a, d.b, d.c, d.c, preference, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(preference);
  check(status, "cublasLtMatmulAlgoGetHeuristic");
  if (found == 0)
    throw std::runtime_error("cuBLASLt has no algorithm for a GEMM of M " +
                             std::to_string(spec.shape.M) + ", N " +
                             std::to_string(spec.shape.N) + ", K " +
                             std::to_string(spec.shape.K));
  return cache_.emplace(spec, Entry{std::move(d), result.algo}).first->second;
}

void CublasLtGemm::run(const GemmSpec &spec, float *out, float *aux,
                       const float *lhs, const float *rhs, const float *bias,
                       cudaStream_t stream) {
  Entry &e = entry(spec);
  e.descriptors.set_pointers(bias, aux);
  const float alpha = 1.0f, beta = 0.0f;
  check(cublasLtMatmul(handle_, e.descriptors.op, &alpha, rhs, e.descriptors.a,
                       lhs, e.descriptors.b, &beta, out, e.descriptors.c, out,
                       e.descriptors.c, &e.algo, workspace_, workspace_bytes_,
                       stream),
        "cublasLtMatmul");
}

} // namespace llmc::cuda
