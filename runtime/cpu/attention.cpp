// Attention on the CPU. bf16 products run on oneDNN (attention_onednn.cpp);
// fp32 ones, where that path measured slower (bench/train_cpu's model: 47
// and 105 ms against 43 and 77 ms a step), per (head, block of query rows):
// the scores come from one sgemm, the masked softmax is a tight loop, and the
// products with v (and in backward the four gradient products) are sgemm again;
// exp and the row reductions are the vectorised helpers of vec_math.h. cblas
// calls made inside the OpenMP region run single-threaded (OpenBLAS sees the
// region).
#include "runtime/cpu/attention.h"
#include "runtime/cpu/attention_blocks.h"
#include "runtime/cpu/attention_onednn.h"
#include "runtime/cpu/gemm_library.h"
#include "runtime/cpu/onednn_matmul.h"
#include "runtime/cpu/vec_math.h"

#include <algorithm>
#include <cblas.h>
#include <cmath>
#include <limits>
#include <vector>

namespace llmc::cpu {

namespace {

// Math BF16 runs on oneDNN where it has bf16 kernels; fp32 products stay on
// the sgemm blocks below, which measured faster than oneDNN's.
bool bf16_on_onednn(GemmMath math) {
  return math == GemmMath::BF16 && gemm_library() == GemmLibrary::OneDnn &&
         onednn_has_bf16();
}

} // namespace

namespace {

// s = scale * Q . K^T for the block: (rows, nk), leading dimension nk.
void scores(float *s, const float *Q, const float *K, const QueryBlock &blk,
            int64_t D, float scale) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(blk.rows),
              blasint(blk.nk), blasint(D), scale, Q, blasint(D), K, blasint(D),
              0.0f, s, blasint(blk.nk));
}

// ----------------------------------------------------------------------------
// forward

// In place: each score row becomes its masked softmax; lse gets the row's
// log-sum-exp (-inf when no key is visible).
void softmax_rows(float *s, float *lse, const QueryBlock &blk, bool causal,
                  int64_t offset) {
  const int64_t nk = blk.nk;
  for (int64_t r = 0; r < blk.rows; r++) {
    float *row = s + r * nk;
    const int64_t lim = blk.visible(r, causal, offset);
    if (lim == 0) {
      std::fill(row, row + nk, 0.0f);
      lse[r] = -std::numeric_limits<float>::infinity();
      continue;
    }
    lse[r] = vec::softmax(row, row, lim);
    std::fill(row + lim, row + nk, 0.0f);
  }
}

} // namespace

void attention_forward(float *out, float *lse, const float *q, const float *k,
                       const float *v, int64_t B, int64_t Hq, int64_t Hkv,
                       int64_t Tq, int64_t Tk, int64_t D, int64_t Dv,
                       float scale, bool causal, GemmMath math) {
  if (bf16_on_onednn(math) &&
      attention_forward_onednn(
          out, lse, q, k, v, {B, Hq, Hkv, Tq, Tk, D, Dv, scale, causal}, true))
    return;
  const int64_t group = Hq / Hkv, offset = Tk - Tq;
  const int64_t nqb = (Tq + kQueryBlock - 1) / kQueryBlock;
  const int64_t tasks = B * Hq * nqb;
#pragma omp parallel
  {
    std::vector<float> s(size_t(kQueryBlock * Tk));
    // Causal blocks differ in cost; every task writes its own rows, so the
    // dynamic schedule does not affect the result.
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < tasks; task++) {
      const int64_t bh = task / nqb, b = bh / Hq, h = bh % Hq;
      const int64_t g = h / group;
      const QueryBlock blk = query_block(task % nqb, Tq, Tk, causal);
      const float *Q = q + (bh * Tq + blk.i0) * D;
      const float *K = k + (b * Hkv + g) * Tk * D;
      const float *V = v + (b * Hkv + g) * Tk * Dv;
      float *O = out + (bh * Tq + blk.i0) * Dv;
      float *L = lse + bh * Tq + blk.i0;
      if (blk.nk == 0) {
        std::fill(O, O + blk.rows * Dv, 0.0f);
        std::fill(L, L + blk.rows, -std::numeric_limits<float>::infinity());
        continue;
      }
      scores(s.data(), Q, K, blk, D, scale);
      softmax_rows(s.data(), L, blk, causal, offset);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(blk.rows),
                  blasint(Dv), blasint(blk.nk), 1.0f, s.data(), blasint(blk.nk),
                  V, blasint(Dv), 0.0f, O, blasint(Dv));
    }
  }
}

// ----------------------------------------------------------------------------
// backward

namespace {

// Scratch of one thread for one query block.
struct BackwardScratch {
  std::vector<float> p, dp, di;
  explicit BackwardScratch(int64_t Tk)
      : p(size_t(kQueryBlock * Tk)), dp(size_t(kQueryBlock * Tk)),
        di(size_t(kQueryBlock)) {}
};

// In place: score rows become P = exp(S - lse), zero where masked.
void probabilities(float *s, const float *lse, const QueryBlock &blk,
                   bool causal, int64_t offset) {
  const int64_t nk = blk.nk;
  for (int64_t r = 0; r < blk.rows; r++) {
    float *row = s + r * nk;
    const int64_t lim = blk.visible(r, causal, offset);
    vec::exp_shifted(row, row, lse[r], lim);
    std::fill(row + lim, row + nk, 0.0f);
  }
}

// One query block of one query head: writes its dq rows and accumulates into
// the kv head's dK / dV.
void backward_block(float *dQ, float *dK, float *dV, const float *dO,
                    const float *Q, const float *K, const float *V,
                    const float *O, const float *L, const QueryBlock &blk,
                    int64_t D, int64_t Dv, float scale, bool causal,
                    int64_t offset, BackwardScratch &scratch) {
  const blasint rows = blasint(blk.rows), nk = blasint(blk.nk);
  if (nk == 0) {
    std::fill(dQ, dQ + blk.rows * D, 0.0f);
    return;
  }
  float *p = scratch.p.data(), *dp = scratch.dp.data();
  scores(p, Q, K, blk, D, scale);
  probabilities(p, L, blk, causal, offset);
  // dV += P^T . dO
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, blasint(Dv), rows,
              1.0f, p, nk, dO, blasint(Dv), 1.0f, dV, blasint(Dv));
  // dP = dO . V^T
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, nk, blasint(Dv),
              1.0f, dO, blasint(Dv), V, blasint(Dv), 0.0f, dp, nk);
  // dS = P * (dP - rowsum(dO * O)), in place in dp.
  for (int64_t r = 0; r < blk.rows; r++) {
    const float di = vec::dot(dO + r * Dv, O + r * Dv, Dv);
    float *dsr = dp + r * nk;
    const float *pr = p + r * nk;
    for (int64_t j = 0; j < nk; j++)
      dsr[j] = pr[j] * (dsr[j] - di);
  }
  // dQ = scale * dS . K
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, blasint(D), nk,
              scale, dp, nk, K, blasint(D), 0.0f, dQ, blasint(D));
  // dK += scale * dS^T . Q
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, nk, blasint(D), rows,
              scale, dp, nk, Q, blasint(D), 1.0f, dK, blasint(D));
}

} // namespace

void attention_backward(float *dq, float *dk, float *dv, const float *dout,
                        const float *q, const float *k, const float *v,
                        const float *out, const float *lse, int64_t B,
                        int64_t Hq, int64_t Hkv, int64_t Tq, int64_t Tk,
                        int64_t D, int64_t Dv, float scale, bool causal,
                        GemmMath math) {
  if (bf16_on_onednn(math) &&
      attention_backward_onednn(dq, dk, dv, dout, q, k, v, out, lse,
                                {B, Hq, Hkv, Tq, Tk, D, Dv, scale, causal},
                                true))
    return;
  const int64_t group = Hq / Hkv, offset = Tk - Tq;
  const int64_t nqb = (Tq + kQueryBlock - 1) / kQueryBlock;
  const int64_t tasks = B * Hkv;
#pragma omp parallel
  {
    BackwardScratch scratch(Tk);
#pragma omp for schedule(dynamic)
    for (int64_t bg = 0; bg < tasks; bg++) {
      const int64_t b = bg / Hkv, g = bg % Hkv;
      const float *K = k + bg * Tk * D;
      const float *V = v + bg * Tk * Dv;
      float *dK = dk + bg * Tk * D;
      float *dV = dv + bg * Tk * Dv;
      std::fill(dK, dK + Tk * D, 0.0f);
      std::fill(dV, dV + Tk * Dv, 0.0f);
      // The query heads of the group, then their blocks, in a fixed order.
      for (int64_t h = g * group; h < (g + 1) * group; h++) {
        const int64_t bh = b * Hq + h;
        for (int64_t qb = 0; qb < nqb; qb++) {
          const QueryBlock blk = query_block(qb, Tq, Tk, causal);
          const int64_t row0 = bh * Tq + blk.i0;
          backward_block(dq + row0 * D, dK, dV, dout + row0 * Dv, q + row0 * D,
                         K, V, out + row0 * Dv, lse + row0, blk, D, Dv, scale,
                         causal, offset, scratch);
        }
      }
    }
  }
}

} // namespace llmc::cpu
