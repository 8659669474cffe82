// CublasLtGemm in the emulated build: the same descriptors as on the GPU
// (runtime/cuda/gemm_descriptors.cpp, built by cuBLASLt itself, which needs
// no GPU for them), executed by the cuBLASLt model instead of a GPU.
#include "runtime/cuda/gemm.h"
#include "runtime/cuda/emulated/cublaslt_model.h"

namespace llmc::cuda {

CublasLtGemm::CublasLtGemm(void *workspace, size_t workspace_bytes)
    : workspace_(workspace), workspace_bytes_(workspace_bytes) {}

CublasLtGemm::~CublasLtGemm() = default;

CublasLtGemm::Entry &CublasLtGemm::entry(const GemmSpec &spec) {
  if (auto it = cache_.find(spec); it != cache_.end())
    return it->second;
  return cache_.emplace(spec, Entry{GemmDescriptors(spec), {}}).first->second;
}

void CublasLtGemm::run(const GemmSpec &spec, float *out, float *aux,
                       const float *lhs, const float *rhs, const float *bias,
                       cudaStream_t) {
  Entry &e = entry(spec);
  e.descriptors.set_pointers(bias, aux);
  execute_gemm_model(e.descriptors, rhs, lhs, out);
}

} // namespace llmc::cuda
