// Norm, softmax and embedding kernels on the GPU (kernel table:
// layernorm_forward, rmsnorm_forward, softmax_forward, softmax_backward,
// embedding_forward).
// Their bodies are runtime/cuda/device/*.cuh, which the SIMT emulator also runs
// in CI against the CPU kernels.
#pragma once

#include <cuda_runtime.h>

namespace llmc::cuda {

// As runtime/cpu/layernorm.h: out (N, C), mean and rstd (N,).
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int N, int C,
                       float eps, cudaStream_t stream);

// As runtime/cpu/rmsnorm.h: out (N, C), rstd (N,).
void rmsnorm_forward(float *out, float *rstd, const float *inp,
                     const float *weight, int N, int C, float eps,
                     cudaStream_t stream);

// As runtime/cpu/embedding.h: out (N, C) from rows first..first+V-1 of the
// vocabulary held in table (V, C), zero rows for other ids.
void embedding_forward(float *out, const float *table, const int *ids, int N,
                       int V, int C, int first, cudaStream_t stream);

// As runtime/cpu/softmax.h: out, inp (N, C), softmax of each row.
void softmax_forward(float *out, const float *inp, int N, int C,
                     cudaStream_t stream);
// dinp = out · (dout - Σ dout · out) per row; dinp may alias dout.
void softmax_backward(float *dinp, const float *dout, const float *out, int N,
                      int C, cudaStream_t stream);

} // namespace llmc::cuda
