// Attention on oneDNN (attention_onednn.h). Each OpenMP thread takes chunks
// of kv heads, and within a chunk one block of query rows at a time: the
// block's rows of the query heads of one kv head are gathered one under
// another into a contiguous matrix, so each product is one oneDNN call on
// that thread, batched over the chunk's kv heads, (group * rows) query rows
// against that kv head's keys. Softmax, lse and dS stay fp32 loops over
// score rows. Measured on bench/train_cpu's model (bf16): chunks on threads
// 31 + 59 ms a step; every product on both threads with barriers between
// the steps, 34 + 67.
#include "runtime/cpu/attention_onednn.h"

#include "runtime/cpu/attention_blocks.h"
#include "runtime/cpu/bf16.h"
#include "runtime/cpu/onednn_matmul.h"
#include "runtime/cpu/vec_math.h"
#include "runtime/cpu/vector_isa.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

namespace llmc::cpu {
namespace {

// A chunk's scores stay in its thread's L2 cache: with the backward's
// probabilities and gradients beside them, about 0.75 MiB (larger chunks
// measured slower).
constexpr int64_t kChunkScores = int64_t(1) << 16;

// Query rows per block: oneDNN's kernels reach twice the rate on 256 rows
// that they reach on 64, which outweighs the causal blocks skipped.
constexpr int64_t kRows = 256;

// E, the products' operand type: float, or uint16_t holding bf16 bits.
template <typename E> constexpr bool kBf16 = std::is_same_v<E, uint16_t>;

// out = scale * in, rounded to E: the products take no scale of their own
// (onednn_batched_product), so it goes into an operand.
template <typename E>
void convert(E *out, const float *in, int64_t n, float scale = 1.0f) {
  if constexpr (kBf16<E>)
    if (scale == 1.0f)
      return round_to_bf16_serial(out, in, n);
  for (int64_t i = 0; i < n; i++) {
    if constexpr (kBf16<E>)
      out[i] = to_bf16(scale * in[i]);
    else
      out[i] = scale * in[i];
  }
}

// All of k or v as an operand: the fp32 tensor itself, or a bf16 copy.
template <typename E>
const E *operand(const float *x, int64_t n, std::vector<E> &copy) {
  if constexpr (kBf16<E>) {
    copy.resize(size_t(n));
    round_to_bf16(copy.data(), x, n);
    return copy.data();
  } else {
    return x;
  }
}

// Scores rounded for a product: bf16 scratch, or the fp32 scores in place.
template <typename E>
E *rounded(std::vector<float> &scores, std::vector<E> &copy) {
  if constexpr (kBf16<E>) {
    copy.resize(scores.size());
    return copy.data();
  } else {
    return scores.data();
  }
}

// The matrices of one product, `batch` (one per kv head) at a time.
template <typename E> StridedMatrix dense(const E *data, int64_t r, int64_t c) {
  return {data, r, c, r * c, c, 1, kBf16<E>};
}
// The transpose of dense (c, r) matrices.
template <typename E>
StridedMatrix transposed(const E *data, int64_t r, int64_t c) {
  return {data, r, c, r * c, 1, r, kBf16<E>};
}
// Rows [0, r) of each kv head's (T, c) matrix in a (B, Hkv, T, c) tensor.
template <typename E>
StridedMatrix head_rows(const E *data, int64_t r, int64_t c, int64_t T) {
  return {data, r, c, T * c, c, 1, kBf16<E>};
}
// The transpose of head_rows(data, c, r, T).
template <typename E>
StridedMatrix head_rows_transposed(const E *data, int64_t r, int64_t c,
                                   int64_t T) {
  return {data, r, c, T * r, 1, r, kBf16<E>};
}

// KV heads [kv0, kv0 + kc) of the B * Hkv (sample, kv head) pairs and one
// block of query rows. Row R of a gathered matrix is row R % rows of the
// block in query head kv0 * group + R / rows: kv head g of a sample has
// query heads g * group .. (g + 1) * group - 1, so its rows are contiguous.
struct Block {
  const AttentionDims &d;
  int64_t kv0, kc;
  QueryBlock q;
  int64_t group() const { return d.Hq / d.Hkv; }
  int64_t rows() const { return kc * group() * q.rows; }
  int64_t batch() const { return kc; }
  int64_t rows_per_kv_head() const { return group() * q.rows; }
  // Row R's row in a (B, Hq, Tq, ...) tensor.
  int64_t tensor_row(int64_t R) const {
    return (kv0 * group() + R / q.rows) * d.Tq + q.i0 + R % q.rows;
  }
  int64_t visible(int64_t R) const {
    return q.visible(R % q.rows, d.causal, d.Tk - d.Tq);
  }
};

template <typename E>
void gather(E *out, const float *x, const Block &b, int64_t W,
            float scale = 1.0f) {
  for (int64_t R = 0; R < b.rows(); R++)
    convert(out + R * W, x + b.tensor_row(R) * W, W, scale);
}

void scatter(float *x, const float *in, const Block &b, int64_t W,
             float scale = 1.0f) {
  for (int64_t R = 0; R < b.rows(); R++)
    convert(x + b.tensor_row(R) * W, in + R * W, W, scale);
}

// One thread's scratch, reused from block to block.
template <typename E> struct Scratch {
  std::vector<E> qs, dos, p, ds;
  std::vector<float> s, dp, os, di;
};

// Calls f(b, scratch) for each block of query rows of each chunk of kv
// heads, and returns whether every call did. Chunks spread over the OpenMP
// threads, a chunk's blocks run in order on one thread (which owns its kv
// heads' dK and dV), and the products inside run on that thread alone: a
// block's steps need no barrier between them.
template <typename E, typename F>
bool for_each_block(const AttentionDims &d, F f) {
  const int64_t heads = d.B * d.Hkv;
  const int64_t chunk = std::clamp<int64_t>(
      kChunkScores / (d.Hq / d.Hkv * kRows * d.Tk), 1, heads);
  const int64_t chunks = (heads + chunk - 1) / chunk;
  const int64_t nqb = (d.Tq + kRows - 1) / kRows;
  std::atomic<bool> ok{true};
#pragma omp parallel
  {
    Scratch<E> scratch;
#pragma omp for schedule(dynamic)
    for (int64_t c = 0; c < chunks; c++)
      for (int64_t qb = 0; qb < nqb && ok; qb++)
        if (!f(Block{d, c * chunk, std::min(chunk, heads - c * chunk),
                     query_block(qb, d.Tq, d.Tk, d.causal, kRows)},
               scratch))
          ok = false;
  }
  return ok;
}

// s = (scale * q) . k^T for the block, from q gathered as qs.
template <typename E>
bool scores(float *s, const E *qs, const E *K, const Block &b) {
  const int64_t M = b.rows_per_kv_head(), nk = b.q.nk, D = b.d.D;
  return onednn_batched_product(
      dense(s, M, nk), dense(qs, M, D),
      head_rows_transposed(K + b.kv0 * b.d.Tk * D, D, nk, b.d.Tk), b.batch(),
      false);
}

// One block of the forward (for_each_block's f); K and V are the whole
// operands. Inlined into forward_block_avx512 for processors with AVX-512.
template <typename E>
[[gnu::always_inline]] inline bool
forward_block(const Block &b, Scratch<E> &x, float *out, float *lse,
              const float *q, const E *K, const E *V) {
  const AttentionDims &d = b.d;
  const int64_t n = b.rows(), nk = b.q.nk, M = b.rows_per_kv_head();
  if (nk == 0) {
    for (int64_t R = 0; R < n; R++) {
      std::fill_n(out + b.tensor_row(R) * d.Dv, d.Dv, 0.0f);
      lse[b.tensor_row(R)] = -std::numeric_limits<float>::infinity();
    }
    return true;
  }
  x.qs.resize(size_t(n * d.D));
  x.s.resize(size_t(n * nk));
  x.os.resize(size_t(n * d.Dv));
  gather(x.qs.data(), q, b, d.D, d.scale);
  if (!scores(x.s.data(), x.qs.data(), K, b))
    return false;
  E *p = rounded(x.s, x.p);
  for (int64_t R = 0; R < n; R++) {
    float *row = x.s.data() + R * nk;
    E *prow = p + R * nk;
    const int64_t lim = b.visible(R);
    float &l = lse[b.tensor_row(R)];
    if (lim == 0) {
      std::fill_n(prow, nk, E(0));
      l = -std::numeric_limits<float>::infinity();
      continue;
    }
    l = vec::softmax(row, row, lim);
    if constexpr (kBf16<E>)
      convert(prow, row, lim);
    std::fill(prow + lim, prow + nk, E(0));
  }
  if (!onednn_batched_product(
          dense(x.os.data(), M, d.Dv), dense(p, M, nk),
          head_rows(V + b.kv0 * d.Tk * d.Dv, nk, d.Dv, d.Tk), b.batch(), false))
    return false;
  scatter(out, x.os.data(), b, d.Dv);
  return true;
}

template <typename E>
[[gnu::always_inline]] inline bool
backward_block(const Block &b, Scratch<E> &x, float *dq, float *dk, float *dv,
               const float *dout, const float *q, const float *out,
               const float *lse, const E *K, const E *V) {
  const AttentionDims &d = b.d;
  const int64_t n = b.rows(), nk = b.q.nk, M = b.rows_per_kv_head();
  if (nk == 0) {
    for (int64_t R = 0; R < n; R++)
      std::fill_n(dq + b.tensor_row(R) * d.D, d.D, 0.0f);
    return true;
  }
  x.qs.resize(size_t(n * d.D));
  x.dos.resize(size_t(n * d.Dv));
  x.s.resize(size_t(n * nk));
  x.dp.resize(size_t(n * nk));
  x.os.resize(size_t(n * d.D)); // dQ's rows
  x.di.resize(size_t(n));
  gather(x.qs.data(), q, b, d.D, d.scale); // S and dK take scale * q
  gather(x.dos.data(), dout, b, d.Dv);
  const E *Kc = K + b.kv0 * d.Tk * d.D;
  const E *Vc = V + b.kv0 * d.Tk * d.Dv;
  float *dKc = dk + b.kv0 * d.Tk * d.D;
  float *dVc = dv + b.kv0 * d.Tk * d.Dv;
  // P = exp(S - lse), zero where masked.
  if (!scores(x.s.data(), x.qs.data(), K, b))
    return false;
  E *p = rounded(x.s, x.p);
  float *S = x.s.data(), *dP = x.dp.data(), *Di = x.di.data();
  for (int64_t R = 0; R < n; R++) {
    const int64_t row = b.tensor_row(R), lim = b.visible(R);
    float *sr = S + R * nk;
    vec::exp_shifted(sr, sr, lse[row], lim);
    std::fill(sr + lim, sr + nk, 0.0f);
    if constexpr (kBf16<E>) {
      convert(p + R * nk, sr, lim);
      std::fill(p + R * nk + lim, p + (R + 1) * nk, E(0));
    }
    Di[R] = vec::dot(dout + row * d.Dv, out + row * d.Dv, d.Dv);
  }
  // dV += P^T . dO;  dP = dO . V^T
  if (!onednn_batched_product(head_rows(dVc, nk, d.Dv, d.Tk),
                              transposed(p, nk, M),
                              dense(x.dos.data(), M, d.Dv), b.batch(), true) ||
      !onednn_batched_product(dense(dP, M, nk), dense(x.dos.data(), M, d.Dv),
                              head_rows_transposed(Vc, d.Dv, nk, d.Tk),
                              b.batch(), false))
    return false;
  // dS = P * (dP - rowsum(dO * O)), in place in dp.
  E *ds = rounded(x.dp, x.ds);
  for (int64_t R = 0; R < n; R++) {
    // Masked probabilities are 0, and so are their gradients.
    const int64_t lim = b.visible(R);
    float *dsr = dP + R * nk;
    const float *pr = S + R * nk;
    for (int64_t j = 0; j < lim; j++)
      dsr[j] = pr[j] * (dsr[j] - Di[R]);
    std::fill(dsr + lim, dsr + nk, 0.0f);
    if constexpr (kBf16<E>) {
      convert(ds + R * nk, dsr, lim);
      std::fill(ds + R * nk + lim, ds + (R + 1) * nk, E(0));
    }
  }
  // dQ = scale * (dS . K);  dK += dS^T . (scale * Q)
  if (!onednn_batched_product(dense(x.os.data(), M, d.D), dense(ds, M, nk),
                              head_rows(Kc, nk, d.D, d.Tk), b.batch(), false) ||
      !onednn_batched_product(head_rows(dKc, nk, d.D, d.Tk),
                              transposed(ds, nk, M), dense(x.qs.data(), M, d.D),
                              b.batch(), true))
    return false;
  scatter(dq, x.os.data(), b, d.D, d.scale);
  return true;
}

// The blocks' loops (softmax, exp, dS, the roundings) for AVX-512, where
// the bf16 path runs: oneDNN has bf16 kernels only on processors with it.
#define LLMC_AVX512                                                            \
  __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
LLMC_AVX512 bool forward_block_avx512(const Block &b, Scratch<uint16_t> &x,
                                      float *out, float *lse, const float *q,
                                      const uint16_t *K, const uint16_t *V) {
  return forward_block(b, x, out, lse, q, K, V);
}
LLMC_AVX512 bool backward_block_avx512(const Block &b, Scratch<uint16_t> &x,
                                       float *dq, float *dk, float *dv,
                                       const float *dout, const float *q,
                                       const float *out, const float *lse,
                                       const uint16_t *K, const uint16_t *V) {
  return backward_block(b, x, dq, dk, dv, dout, q, out, lse, K, V);
}
#undef LLMC_AVX512

template <typename E>
bool forward(float *out, float *lse, const float *q, const float *k,
             const float *v, const AttentionDims &d) {
  thread_local std::vector<E> k_copy, v_copy;
  const E *K = operand(k, d.B * d.Hkv * d.Tk * d.D, k_copy);
  const E *V = operand(v, d.B * d.Hkv * d.Tk * d.Dv, v_copy);
  const bool wide = vector_isa() == VectorIsa::Avx512;
  return for_each_block<E>(d, [&](const Block &b, Scratch<E> &x) {
    if constexpr (kBf16<E>)
      if (wide)
        return forward_block_avx512(b, x, out, lse, q, K, V);
    return forward_block(b, x, out, lse, q, K, V);
  });
}

template <typename E>
bool backward(float *dq, float *dk, float *dv, const float *dout,
              const float *q, const float *k, const float *v, const float *out,
              const float *lse, const AttentionDims &d) {
  thread_local std::vector<E> k_copy, v_copy;
  const E *K = operand(k, d.B * d.Hkv * d.Tk * d.D, k_copy);
  const E *V = operand(v, d.B * d.Hkv * d.Tk * d.Dv, v_copy);
  std::fill_n(dk, d.B * d.Hkv * d.Tk * d.D, 0.0f);
  std::fill_n(dv, d.B * d.Hkv * d.Tk * d.Dv, 0.0f);
  const bool wide = vector_isa() == VectorIsa::Avx512;
  return for_each_block<E>(d, [&](const Block &b, Scratch<E> &x) {
    if constexpr (kBf16<E>)
      if (wide)
        return backward_block_avx512(b, x, dq, dk, dv, dout, q, out, lse, K, V);
    return backward_block(b, x, dq, dk, dv, dout, q, out, lse, K, V);
  });
}

} // namespace

bool attention_forward_onednn(float *out, float *lse, const float *q,
                              const float *k, const float *v,
                              const AttentionDims &d, bool bf16) {
  if (bf16 && onednn_has_bf16())
    return forward<uint16_t>(out, lse, q, k, v, d);
  return forward<float>(out, lse, q, k, v, d);
}

bool attention_backward_onednn(float *dq, float *dk, float *dv,
                               const float *dout, const float *q,
                               const float *k, const float *v, const float *out,
                               const float *lse, const AttentionDims &d,
                               bool bf16) {
  if (bf16 && onednn_has_bf16())
    return backward<uint16_t>(dq, dk, dv, dout, q, k, v, out, lse, d);
  return backward<float>(dq, dk, dv, dout, q, k, v, out, lse, d);
}

} // namespace llmc::cpu
