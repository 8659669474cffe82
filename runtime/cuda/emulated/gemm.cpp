// CublasLtGemm in the emulated build: the same descriptors as on the GPU
// (runtime/cuda/gemm_descriptors.cpp, built by cuBLASLt itself, which needs
// no GPU for them), executed by the cuBLASLt model instead of a GPU.
#include "runtime/cuda/gemm.h"

#include "runtime/cuda/emulated/cublaslt_model.h"
#include "runtime/cuda/emulated/device_memory.h"
#include <stdexcept>

namespace llmc::cuda {

CublasLtGemm::CublasLtGemm(void *workspace, size_t workspace_bytes)
    : workspace_(workspace), workspace_bytes_(workspace_bytes) {}

CublasLtGemm::~CublasLtGemm() = default;

CublasLtGemm::Entry &CublasLtGemm::entry(const GemmSpec &spec,
                                         uint32_t alignment) {
  auto key = std::pair(spec, alignment);
  if (auto it = cache_.find(key); it != cache_.end())
    return it->second;
  return cache_.emplace(key, Entry{GemmDescriptors(spec), {}, true})
      .first->second;
}

// cuBLASLt's rule the model would otherwise not know: a GELU_AUX epilogue
// needs the aux leading dimension (N) a multiple of 8, so such GEMMs take
// the caller's unfused path here as on a GPU.
bool CublasLtGemm::try_run(const GemmSpec &spec, float *out, float *aux,
                           const void *lhs, const void *rhs, const float *bias,
                           cudaStream_t) {
  if (spec.epilogue == GemmEpilogue::GeluTanhAuxBias && spec.shape.N % 8 != 0)
    return false;
  Entry &e = entry(spec, 256);
  e.descriptors.set_pointers(bias, aux);
  emulated::DeviceWork work;
  execute_gemm_model(e.descriptors, rhs, lhs, out);
  return true;
}

void CublasLtGemm::run(const GemmSpec &spec, float *out, float *aux,
                       const void *lhs, const void *rhs, const float *bias,
                       cudaStream_t stream) {
  if (!try_run(spec, out, aux, lhs, rhs, bias, stream))
    throw std::runtime_error("cuBLASLt has no algorithm for this GEMM");
}

} // namespace llmc::cuda
