// Attention over a paged KV cache (PagedAttention, Kwon et al. 2023): each
// layer's keys and values live in a pool of fixed-size blocks, and each
// sequence's block table lists the blocks holding its positions in order.
// Every query token carries its absolute position in its sequence, so one
// pair of kernels serves a prefill (many tokens, left- or right-padded), a
// prefill chunk and a decode step (one token per sequence) alike; a
// position of -1 marks padding, which is neither written nor attended from.
#pragma once

#include <cstdint>
#include <string>

namespace llmc::cpu {

// The sizes of a paged-attention call.
struct PagedSizes {
  int64_t B;       // sequences
  int64_t T;       // query tokens per sequence (padded)
  int64_t Hq, Hkv; // query heads, key/value heads (Hq % Hkv == 0)
  int64_t D, Dv;   // head sizes of keys and values
  int64_t blocks;  // blocks in the pool
  int64_t block_tokens;
  int64_t max_blocks; // block-table entries per sequence
};

// Checks that every non-padding position of `positions` has a block-table
// entry naming a block of the pool; returns an empty string or one line
// naming the sequence, token and position. The kernels below assume it.
// block_table: (B, max_blocks)  positions: (B, T)
std::string check_paged_positions(const int32_t *block_table,
                                  const int32_t *positions,
                                  const PagedSizes &s);

// cache[block_table[b, p / bt], h, p % bt, :] = x[b, h, t, :] for every
// token t of sequence b at position p = positions[b, t] >= 0.
// cache: (blocks, H, bt, D)  x: (B, H, T, D)
void kv_cache_write(float *cache, const float *x, const int32_t *block_table,
                    const int32_t *positions, int64_t H, int64_t D,
                    const PagedSizes &s);

// For each query token at position p >= 0, causal attention over positions
// [0, p] of its own sequence, read through its block table (the token's own
// key and value must already be written):
//   out[b, h, t] = softmax_j(scale * q[b, h, t] . k_j) . v_j,
// with query head h reading kv head h / (Hq / Hkv). Scores are combined with
// an online softmax block by block (as flash-decoding does), in position
// order, so the result does not depend on the thread count. Padding
// tokens (p < 0) get zeros.
// out: (B, Hq, T, Dv)  q: (B, Hq, T, D)
// k_cache: (blocks, Hkv, bt, D)  v_cache: (blocks, Hkv, bt, Dv)
void paged_attention(float *out, const float *q, const float *k_cache,
                     const float *v_cache, const int32_t *block_table,
                     const int32_t *positions, float scale,
                     const PagedSizes &s);

} // namespace llmc::cpu
