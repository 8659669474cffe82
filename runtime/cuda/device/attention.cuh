// Scaled dot-product attention forward on the GPU, as runtime/cpu/
// attention.h computes it (grouped kv heads, bottom-right causal mask, the
// log-sum-exp saved for the backward): a warp per query row walks the keys
// it sees with an online softmax (flash attention's running max and sum),
// the score by a warp-wide dot product, the output accumulated across the
// lanes, so no score row is ever stored. Keys and values are read from
// global memory (no shared-memory tiles yet). Device code for nvcc and the
// SIMT emulator.
#pragma once

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

constexpr int kAttentionThreads = 128; // 4 query rows a block
constexpr int kAttentionMaxDv = 256;   // 8 output values a lane

// out: (B, Hq, Tq, Dv)  lse: (B, Hq, Tq)  q: (B, Hq, Tq, D)
// k: (B, Hkv, Tk, D)  v: (B, Hkv, Tk, Dv); Dv <= kAttentionMaxDv.
__global__ void attention_forward_kernel(float *__restrict__ out,
                                         float *__restrict__ lse,
                                         const float *__restrict__ q,
                                         const float *__restrict__ k,
                                         const float *__restrict__ v, int B,
                                         int Hq, int Hkv, int Tq, int Tk, int D,
                                         int Dv, float scale, bool causal) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= (long long)B * Hq * Tq)
    return; // a whole warp
  int i = int(row % Tq);
  long long bh = row / Tq;
  int h = int(bh % Hq), b = int(bh / Hq);
  int g = h / (Hq / Hkv);
  const float *qi = q + row * D;
  const float *kg = k + ((long long)b * Hkv + g) * Tk * D;
  const float *vg = v + ((long long)b * Hkv + g) * Tk * Dv;
  // Keys 0..last are visible (bottom-right aligned under the causal mask).
  int last = causal ? i + (Tk - Tq) : Tk - 1;
  if (last > Tk - 1)
    last = Tk - 1;
  float acc[kAttentionMaxDv / 32] = {};
  float m = -INFINITY, l = 0.0f;
  for (int j = 0; j <= last; ++j) {
    float dot = 0.0f;
    for (int d = lane; d < D; d += 32)
      dot += qi[d] * kg[(long long)j * D + d];
    float s = warp_sum(dot) * scale;
    float m_new = fmaxf(m, s);
    float correction = expf(m - m_new), p = expf(s - m_new);
    l = l * correction + p;
    for (int d = lane, a = 0; d < Dv; d += 32, ++a)
      acc[a] = acc[a] * correction + p * vg[(long long)j * Dv + d];
    m = m_new;
  }
  float *o = out + row * Dv;
  for (int d = lane, a = 0; d < Dv; d += 32, ++a)
    o[d] = l > 0.0f ? acc[a] / l : 0.0f;
  if (lane == 0)
    lse[row] = l > 0.0f ? m + logf(l) : -INFINITY;
}

} // namespace llmc::cuda::device
