// Scaled dot-product attention forward on the GPU, as runtime/cpu/
// attention.h computes it (grouped kv heads, bottom-right causal mask, the
// log-sum-exp saved for the backward): a warp per query row walks the keys
// it sees with an online softmax (flash attention's running max and sum),
// the score by a warp-wide dot product, the output accumulated across the
// lanes, so no score row is ever stored. Keys and values are read from
// global memory (no shared-memory tiles yet). Device code for nvcc and the
// SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

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

namespace llmc::cuda::device {

// The backward of attention_forward_kernel, without a (Tq, Tk) buffer and
// without atomics (so the gradients are the same bits on every run): with
// P = exp(S - lse) recomputed from the saved log-sum-exp and
// delta_i = dout_i . out_i,
//   dS_ij = P_ij (dout_i . v_j - delta_i)
// a warp per query row sums dq_i = scale sum_j dS_ij k_j over the keys it
// sees, and a warp per key row sums dv_j = sum_i P_ij dout_i and
// dk_j = scale sum_i dS_ij q_i over the query rows of every head of its
// group that see it (recomputing delta_i per pair: no workspace). Both
// launched with kAttentionThreads; D, Dv <= kAttentionMaxDv.
// dq: (B, Hq, Tq, D)  dout, out: (B, Hq, Tq, Dv)  lse: (B, Hq, Tq)
__global__ void attention_backward_dq_kernel(
    float *__restrict__ dq, const float *__restrict__ dout,
    const float *__restrict__ q, const float *__restrict__ k,
    const float *__restrict__ v, const float *__restrict__ out,
    const float *__restrict__ lse, int B, int Hq, int Hkv, int Tq, int Tk,
    int D, int Dv, float scale, bool causal) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= (long long)B * Hq * Tq)
    return;
  int i = int(row % Tq);
  long long bh = row / Tq;
  int h = int(bh % Hq), b = int(bh / Hq);
  int g = h / (Hq / Hkv);
  const float *qi = q + row * D, *doi = dout + row * Dv, *oi = out + row * Dv;
  const float *kg = k + ((long long)b * Hkv + g) * Tk * D;
  const float *vg = v + ((long long)b * Hkv + g) * Tk * Dv;
  float delta_part = 0.0f;
  for (int d = lane; d < Dv; d += 32)
    delta_part += doi[d] * oi[d];
  float delta = warp_sum(delta_part), lse_i = lse[row];
  int last = causal ? i + (Tk - Tq) : Tk - 1;
  if (last > Tk - 1)
    last = Tk - 1;
  float acc[kAttentionMaxDv / 32] = {};
  for (int j = 0; j <= last; ++j) {
    float dot = 0.0f, dp = 0.0f;
    for (int d = lane; d < D; d += 32)
      dot += qi[d] * kg[(long long)j * D + d];
    for (int d = lane; d < Dv; d += 32)
      dp += doi[d] * vg[(long long)j * Dv + d];
    float p = expf(warp_sum(dot) * scale - lse_i);
    float ds = p * (warp_sum(dp) - delta);
    for (int d = lane, a = 0; d < D; d += 32, ++a)
      acc[a] += ds * kg[(long long)j * D + d];
  }
  for (int d = lane, a = 0; d < D; d += 32, ++a)
    dq[row * D + d] = scale * acc[a];
}

// dk: (B, Hkv, Tk, D)  dv: (B, Hkv, Tk, Dv); a warp per key row.
__global__ void attention_backward_dkv_kernel(
    float *__restrict__ dk, float *__restrict__ dv,
    const float *__restrict__ dout, const float *__restrict__ q,
    const float *__restrict__ k, const float *__restrict__ v,
    const float *__restrict__ out, const float *__restrict__ lse, int B, int Hq,
    int Hkv, int Tq, int Tk, int D, int Dv, float scale, bool causal) {
  int lane = lane_id();
  long long row = warp_row();
  if (row >= (long long)B * Hkv * Tk)
    return;
  int j = int(row % Tk);
  long long bg = row / Tk;
  int g = int(bg % Hkv), b = int(bg / Hkv);
  int group = Hq / Hkv;
  const float *kj = k + row * D, *vj = v + row * Dv;
  // Query row i sees key j when j <= i + (Tk - Tq).
  int first = causal ? j - (Tk - Tq) : 0;
  if (first < 0)
    first = 0;
  float dk_acc[kAttentionMaxDv / 32] = {}, dv_acc[kAttentionMaxDv / 32] = {};
  for (int h = g * group; h < (g + 1) * group; ++h) {
    long long head = (long long)b * Hq + h;
    for (int i = first; i < Tq; ++i) {
      long long qrow = head * Tq + i;
      const float *qi = q + qrow * D, *doi = dout + qrow * Dv,
                  *oi = out + qrow * Dv;
      float dot = 0.0f, dp = 0.0f, delta = 0.0f;
      for (int d = lane; d < D; d += 32)
        dot += qi[d] * kj[d];
      for (int d = lane; d < Dv; d += 32) {
        dp += doi[d] * vj[d];
        delta += doi[d] * oi[d];
      }
      float p = expf(warp_sum(dot) * scale - lse[qrow]);
      float ds = p * (warp_sum(dp) - warp_sum(delta));
      for (int d = lane, a = 0; d < Dv; d += 32, ++a)
        dv_acc[a] += p * doi[d];
      for (int d = lane, a = 0; d < D; d += 32, ++a)
        dk_acc[a] += ds * qi[d];
    }
  }
  for (int d = lane, a = 0; d < D; d += 32, ++a)
    dk[row * D + d] = scale * dk_acc[a];
  for (int d = lane, a = 0; d < Dv; d += 32, ++a)
    dv[row * Dv + d] = dv_acc[a];
}

} // namespace llmc::cuda::device
