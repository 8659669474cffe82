// Sampling on the GPU (the serving engine's Sampler, runtime/serve/
// sampler.h): a token and its log-probability per row of logits. Body in
// runtime/cuda/device/sampling.cuh.
#pragma once

#include "runtime/cuda/device/sample_params.h"

#include <cstdint>
#include <cuda_runtime.h>

namespace llmc::cuda {

// token[b], logprob[b] for row b of logits (B, V), each row with its own
// parameters and uniform; all pointers device memory.
void sample_rows(int32_t *token, double *logprob, const float *logits,
                 const device::SampleParams *params, int B, int V,
                 cudaStream_t stream);

} // namespace llmc::cuda
