// Attention on the GPU (kernel table: attention_forward,
// attention_backward, and over a paged KV cache kv_cache_write,
// paged_attention, last_token), as runtime/cpu/attention.h,
// paged_attention.h and layout.h; head sizes at most 256 (Dv forward, D and
// Dv backward). The block table and positions live on the device and are
// assumed checked (cpu::check_paged_positions on the host copy). Bodies in
// runtime/cuda/device/attention.cuh and paged_attention.cuh.
#pragma once

#include "runtime/cpu/paged_attention.h"

#include <cstdint>
#include <cuda_runtime.h>

namespace llmc::cuda {

void attention_forward(float *out, float *lse, const float *q, const float *k,
                       const float *v, int B, int Hq, int Hkv, int Tq, int Tk,
                       int D, int Dv, float scale, bool causal,
                       cudaStream_t stream);

// Overwrites dq, dk and dv; no output may alias an input.
void attention_backward(float *dq, float *dk, float *dv, const float *dout,
                        const float *q, const float *k, const float *v,
                        const float *out, const float *lse, int B, int Hq,
                        int Hkv, int Tq, int Tk, int D, int Dv, float scale,
                        bool causal, cudaStream_t stream);

// cache: (blocks, H, bt, D)  x: (B, H, T, D)
void kv_cache_write(float *cache, const float *x, const int32_t *block_table,
                    const int32_t *positions, int H, int D,
                    const cpu::PagedSizes &s, cudaStream_t stream);

// Dv at most 256. out: (B, Hq, T, Dv)  q: (B, Hq, T, D)
void paged_attention(float *out, const float *q, const float *k_cache,
                     const float *v_cache, const int32_t *block_table,
                     const int32_t *positions, float scale,
                     const cpu::PagedSizes &s, cudaStream_t stream);

// out: (B, C)  x: (B, T, C)  positions: (B, T)
void last_token(float *out, const float *x, const int32_t *positions, int B,
                int T, int C, cudaStream_t stream);

} // namespace llmc::cuda
