// Inference over a paged KV cache on the GPU, as runtime/cpu/
// paged_attention.h: writing a step's keys and values into their blocks,
// attention of each query token over positions [0, p] of its sequence read
// through its block table (a warp per query row, flash-decoding's online
// softmax in position order), and picking each sequence's last token.
// Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cpu/paged_attention.h"
#include "runtime/cuda/device/attention.cuh"

#include <cstdint>

namespace llmc::cuda::device {

constexpr int kCacheWriteThreads = 256;
inline int cache_write_blocks(long long elements) {
  long long blocks = (elements + kCacheWriteThreads - 1) / kCacheWriteThreads;
  return int(blocks < 65535 ? blocks : 65535);
}

// cache[table[b, p / bt], h, p % bt, :] = x[b, h, t, :] at p = positions[b,
// t] >= 0; a thread per element of x (grid-stride).
// cache: (blocks, H, bt, D)  x: (B, H, T, D)
__global__ void kv_cache_write_kernel(float *__restrict__ cache,
                                      const float *__restrict__ x,
                                      const int32_t *__restrict__ block_table,
                                      const int32_t *__restrict__ positions,
                                      int H, int D, cpu::PagedSizes s) {
  long long n = s.B * H * s.T * (long long)D;
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < n;
       e += (long long)gridDim.x * blockDim.x) {
    long long row = e / D;
    int d = int(e % D);
    long long t = row % s.T, bh = row / s.T;
    long long h = bh % H, b = bh / H;
    long long p = positions[b * s.T + t];
    if (p < 0)
      continue;
    long long block = block_table[b * s.max_blocks + p / s.block_tokens];
    cache[((block * H + h) * s.block_tokens + p % s.block_tokens) * D + d] =
        x[e];
  }
}

// out[b, h, t] = softmax_j(scale q[b, h, t] . k_j) . v_j over positions
// j <= p of sequence b, kv head h / (Hq / Hkv); zeros for padding (p < 0).
// A warp per query row, kAttentionThreads a block; Dv <= kAttentionMaxDv.
// out: (B, Hq, T, Dv)  q: (B, Hq, T, D)
// k_cache: (blocks, Hkv, bt, D)  v_cache: (blocks, Hkv, bt, Dv)
__global__ void paged_attention_kernel(float *__restrict__ out,
                                       const float *__restrict__ q,
                                       const float *__restrict__ k_cache,
                                       const float *__restrict__ v_cache,
                                       const int32_t *__restrict__ block_table,
                                       const int32_t *__restrict__ positions,
                                       float scale, cpu::PagedSizes s) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= s.B * s.Hq * s.T)
    return;
  long long t = row % s.T, bh = row / s.T;
  long long b = bh / s.Hq, h = bh % s.Hq, g = h / (s.Hq / s.Hkv);
  int D = int(s.D), Dv = int(s.Dv);
  long long bt = s.block_tokens;
  float *o = out + row * Dv;
  long long p = positions[b * s.T + t];
  if (p < 0) {
    for (int d = lane; d < Dv; d += 32)
      o[d] = 0.0f;
    return;
  }
  const float *qr = q + row * D;
  const int32_t *table = block_table + b * s.max_blocks;
  float acc[kAttentionMaxDv / 32] = {};
  float m = -INFINITY, l = 0.0f;
  for (long long j = 0; j <= p; ++j) {
    long long block = table[j / bt];
    const float *kj = k_cache + ((block * s.Hkv + g) * bt + j % bt) * D;
    const float *vj = v_cache + ((block * s.Hkv + g) * bt + j % bt) * Dv;
    float dot = 0.0f;
    for (int d = lane; d < D; d += 32)
      dot += qr[d] * kj[d];
    float score = warp_sum(dot) * scale;
    float m_new = fmaxf(m, score);
    float correction = expf(m - m_new), w = expf(score - m_new);
    l = l * correction + w;
    for (int d = lane, a = 0; d < Dv; d += 32, ++a)
      acc[a] = acc[a] * correction + w * vj[d];
    m = m_new;
  }
  for (int d = lane, a = 0; d < Dv; d += 32, ++a)
    o[d] = acc[a] / l;
}

// out[b] = x[b, t] at the token with the largest position (zeros when the
// sequence is all padding); a block per sequence.
// out: (B, C)  x: (B, T, C)  positions: (B, T)
__global__ void last_token_kernel(float *__restrict__ out,
                                  const float *__restrict__ x,
                                  const int32_t *__restrict__ positions, int T,
                                  int C) {
  __shared__ int last;
  int b = blockIdx.x;
  if (threadIdx.x == 0) {
    last = -1;
    for (int t = 0; t < T; ++t) {
      int p = positions[(long long)b * T + t];
      if (p >= 0 && (last < 0 || p > positions[(long long)b * T + last]))
        last = t;
    }
  }
  __syncthreads();
  for (int c = threadIdx.x; c < C; c += blockDim.x)
    out[(long long)b * C + c] =
        last < 0 ? 0.0f : x[((long long)b * T + last) * C + c];
}

} // namespace llmc::cuda::device
