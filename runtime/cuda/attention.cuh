// Attention forward on the GPU (kernel table: attention_forward), as
// runtime/cpu/attention.h; Dv at most 256. Body in
// runtime/cuda/device/attention.cuh.
#pragma once

#include <cuda_runtime.h>

namespace llmc::cuda {

void attention_forward(float *out, float *lse, const float *q, const float *k,
                       const float *v, int B, int Hq, int Hkv, int Tq, int Tk,
                       int D, int Dv, float scale, bool causal,
                       cudaStream_t stream);

} // namespace llmc::cuda
