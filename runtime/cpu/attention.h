// Scaled dot-product attention with grouped-query heads and a causal mask,
// flash-attention style: forward saves only the log-sum-exp of each score
// row, backward recomputes the probabilities block by block (no (T, T)
// tensor is ever stored whole).
#pragma once

#include <cstdint>

namespace llmc::cpu {

// For query head h (kv head g = h / (Hq / Hkv); Hkv must divide Hq):
//   S = scale * q[b, h] . k[b, g]^T                     (Tq, Tk)
//   causal: query i sees key j only if j <= i + (Tk - Tq) (bottom-right
//           aligned, as flash-attn and HF with a KV cache)
//   P = softmax(S) over the visible keys;  out[b, h] = P . v[b, g]
//   lse[b, h, i] = log(sum_j visible exp(S[i, j]))
// A row that sees no key (causal with Tq > Tk) gets out = 0, lse = -inf.
// scale is usually 1 / sqrt(D). Each thread allocates its own scratch of
// 64 * Tk floats (backward: twice that), so callers pass none.
// out: (B, Hq, Tq, Dv)  lse: (B, Hq, Tq)  q: (B, Hq, Tq, D)
// k: (B, Hkv, Tk, D)  v: (B, Hkv, Tk, Dv)
void attention_forward(float *out, float *lse, const float *q, const float *k,
                       const float *v, int64_t B, int64_t Hq, int64_t Hkv,
                       int64_t Tq, int64_t Tk, int64_t D, int64_t Dv,
                       float scale, bool causal);

// Overwrites dq, dk and dv. With P recomputed from q, k and lse:
//   dv = P^T . dout;  dP = dout . v^T;  dS = P * (dP - rowsum(dout * out))
//   dq = scale * dS . k;  dk = scale * dS^T . q
// dk / dv of a kv head sum its query heads in head order, one thread per
// (b, kv head): bit-identical for any thread count. No output may alias an
// input.
// dq: (B, Hq, Tq, D)  dk: (B, Hkv, Tk, D)  dv: (B, Hkv, Tk, Dv)
// dout, out: (B, Hq, Tq, Dv)  q: (B, Hq, Tq, D)  k: (B, Hkv, Tk, D)
// v: (B, Hkv, Tk, Dv)  lse: (B, Hq, Tq)
void attention_backward(float *dq, float *dk, float *dv, const float *dout,
                        const float *q, const float *k, const float *v,
                        const float *out, const float *lse, int64_t B,
                        int64_t Hq, int64_t Hkv, int64_t Tq, int64_t Tk,
                        int64_t D, int64_t Dv, float scale, bool causal);

} // namespace llmc::cpu
