// Norm, softmax and embedding kernels on the GPU (kernel table:
// layernorm_forward/_backward, rmsnorm_forward/_backward,
// add_layernorm_forward, add_rmsnorm_forward, softmax_forward/ _backward,
// embedding_forward/_backward, rope_forward/_backward, rope_at). Their
// bodies are
// runtime/cuda/device/*.cuh, which the SIMT emulator also runs in CI against
// the CPU kernels.
#pragma once

#include <cstdint>
#include <cuda_runtime.h>

namespace llmc::cuda {

// As runtime/cpu/layernorm.h: out (N, C), mean and rstd (N,).
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int N, int C,
                       float eps, cudaStream_t stream);

// As runtime/cpu/fused.h: sum = a + b (N, C), out = layernorm(sum) or
// rmsnorm(sum).
void add_layernorm_forward(float *sum, float *out, float *mean, float *rstd,
                           const float *a, const float *b, const float *weight,
                           const float *bias, int N, int C, float eps,
                           cudaStream_t stream);
void add_rmsnorm_forward(float *sum, float *out, float *rstd, const float *a,
                         const float *b, const float *weight, int N, int C,
                         float eps, cudaStream_t stream);

// As runtime/cpu/layernorm.h: dinp (N, C), dweight and dbias (C,) (dbias
// may be null); dinp may alias dout.
void layernorm_backward(float *dinp, float *dweight, float *dbias,
                        const float *dout, const float *inp,
                        const float *weight, const float *mean,
                        const float *rstd, int N, int C, cudaStream_t stream);

// As runtime/cpu/rmsnorm.h: out (N, C), rstd (N,).
void rmsnorm_forward(float *out, float *rstd, const float *inp,
                     const float *weight, int N, int C, float eps,
                     cudaStream_t stream);

// As runtime/cpu/rmsnorm.h: dinp (N, C), dweight (C,); dinp may alias
// dout.
void rmsnorm_backward(float *dinp, float *dweight, const float *dout,
                      const float *inp, const float *weight, const float *rstd,
                      int N, int C, cudaStream_t stream);

// As runtime/cpu/embedding.h: out (N, C) from rows first..first+V-1 of the
// vocabulary held in table (V, C), zero rows for other ids.
void embedding_forward(float *out, const float *table, const int *ids, int N,
                       int V, int C, int first, cudaStream_t stream);

// As runtime/cpu/embedding.h: dtable (V, C) = 0, then each token's dout row
// added to its id's row in token order.
void embedding_backward(float *dtable, const float *dout, const int *ids, int N,
                        int V, int C, int first, cudaStream_t stream);

// As runtime/cpu/rope.h (forward, or with inverse its transpose, the
// backward): out, inp (B, H, T, D); out may alias inp.
void rope(float *out, const float *inp, int B, int H, int T, int D, float theta,
          long long position_offset, bool inverse, cudaStream_t stream);

// rope_forward at each token's own position (padding, -1, copied).
// out, inp: (B, H, T, D)  positions: (B, T); out may alias inp.
void rope_at(float *out, const float *inp, const int32_t *positions, int B,
             int H, int T, int D, float theta, cudaStream_t stream);

// As runtime/cpu/softmax.h: out, inp (N, C), softmax of each row.
void softmax_forward(float *out, const float *inp, int N, int C,
                     cudaStream_t stream);
// dinp = out · (dout - Σ dout · out) per row; dinp may alias dout.
void softmax_backward(float *dinp, const float *dout, const float *out, int N,
                      int C, cudaStream_t stream);

} // namespace llmc::cuda
