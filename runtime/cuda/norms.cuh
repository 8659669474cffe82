// Norm and softmax kernels on the GPU (kernel table: layernorm_forward,
// softmax_forward). Their bodies are runtime/cuda/device/*.cuh, which the
// SIMT emulator also runs in CI against the CPU kernels.
#pragma once

#include <cuda_runtime.h>

namespace llmc::cuda {

// As runtime/cpu/layernorm.h: out (N, C), mean and rstd (N,).
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int N, int C,
                       float eps, cudaStream_t stream);

// As runtime/cpu/softmax.h: out, inp (N, C), softmax of each row.
void softmax_forward(float *out, const float *inp, int N, int C,
                     cudaStream_t stream);

} // namespace llmc::cuda
