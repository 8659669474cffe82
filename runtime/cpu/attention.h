// Scaled dot-product attention with grouped-query heads and a causal mask,
// flash-attention style: forward saves only the log-sum-exp of each score
// row, backward recomputes the probabilities block by block (no (T, T)
// tensor is ever stored whole).
#pragma once

#include "runtime/cpu/matmul.h"

#include <cstdint>

namespace llmc::cpu {

// For query head h (kv head g = h / (Hq / Hkv); Hkv must divide Hq):
//   S = scale * q[b, h] . k[b, g]^T                     (Tq, Tk)
//   causal: query i sees key j only if j <= i + (Tk - Tq) (bottom-right
//           aligned, as flash-attn and HF with a KV cache)
//   P = softmax(S) over the visible keys;  out[b, h] = P . v[b, g]
//   lse[b, h, i] = log(sum_j visible exp(S[i, j]))
// A row that sees no key (causal with Tq > Tk) gets out = 0, lse = -inf.
// scale is usually 1 / sqrt(D). Scratch is the kernel's own, so callers
// pass none. Math BF16 makes the products bf16 ones, batched over heads on
// oneDNN (attention_onednn.h), where oneDNN runs the GEMMs
// (runtime/cpu/gemm_library.h) and has bf16 kernels; otherwise they are
// fp32 sgemms of one head and block of query rows each.
// out: (B, Hq, Tq, Dv)  lse: (B, Hq, Tq)  q: (B, Hq, Tq, D)
// k: (B, Hkv, Tk, D)  v: (B, Hkv, Tk, Dv)
void attention_forward(float *out, float *lse, const float *q, const float *k,
                       const float *v, int64_t B, int64_t Hq, int64_t Hkv,
                       int64_t Tq, int64_t Tk, int64_t D, int64_t Dv,
                       float scale, bool causal,
                       GemmMath math = GemmMath::FP32);

// Overwrites dq, dk and dv. With P recomputed from q, k and lse:
//   dv = P^T . dout;  dP = dout . v^T;  dS = P * (dP - rowsum(dout * out))
//   dq = scale * dS . k;  dk = scale * dS^T . q
// dk / dv of a kv head sum its query heads and blocks in a fixed order
// (fp32: bit-identical for any thread count). No output may alias an input.
// dq: (B, Hq, Tq, D)  dk: (B, Hkv, Tk, D)  dv: (B, Hkv, Tk, Dv)
// dout, out: (B, Hq, Tq, Dv)  q: (B, Hq, Tq, D)  k: (B, Hkv, Tk, D)
// v: (B, Hkv, Tk, Dv)  lse: (B, Hq, Tq)
void attention_backward(float *dq, float *dk, float *dv, const float *dout,
                        const float *q, const float *k, const float *v,
                        const float *out, const float *lse, int64_t B,
                        int64_t Hq, int64_t Hkv, int64_t Tq, int64_t Tk,
                        int64_t D, int64_t Dv, float scale, bool causal,
                        GemmMath math = GemmMath::FP32);

} // namespace llmc::cpu
