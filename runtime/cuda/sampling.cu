// Launcher of the sampling kernel; see sampling.cuh.
#include "runtime/cuda/sampling.cuh"

#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/device/sampling.cuh"
#include "runtime/cuda/launch.h"

namespace llmc::cuda {

void sample_rows(int32_t *token, double *logprob, const float *logits,
                 const device::SampleParams *params, int B, int V,
                 cudaStream_t stream) {
  if (B == 0 || V == 0)
    return;
  LLMC_LAUNCH(device::sample_rows_kernel, B, device::kSamplingThreads, stream,
              token, logprob, logits, params, V);
  LLMC_CUDA_CHECK(cudaGetLastError());
}

} // namespace llmc::cuda
