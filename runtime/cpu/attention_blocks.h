// The blocks of query rows attention works through, shared by its OpenBLAS
// and oneDNN paths (runtime/cpu/attention.cpp, attention_onednn.cpp).
// Internal to runtime/cpu.
#pragma once

#include <algorithm>
#include <cstdint>

namespace llmc::cpu {

// Query rows per block: the (rows, Tk) score block stays in L2 for Tk ~ 1k.
constexpr int64_t kQueryBlock = 64;

// One block of query rows [i0, i0 + rows) of one head, and the keys it needs.
struct QueryBlock {
  int64_t i0, rows;
  int64_t nk; // keys [0, nk) are visible to at least one row of the block

  // Keys [0, visible(r)) are visible to row r of the block.
  int64_t visible(int64_t r, bool causal, int64_t offset) const {
    if (!causal)
      return nk;
    return std::clamp<int64_t>(i0 + r + offset + 1, 0, nk);
  }
};

inline QueryBlock query_block(int64_t qb, int64_t Tq, int64_t Tk, bool causal,
                              int64_t block = kQueryBlock) {
  QueryBlock blk;
  blk.i0 = qb * block;
  blk.rows = std::min(block, Tq - blk.i0);
  blk.nk =
      causal ? std::clamp<int64_t>(blk.i0 + blk.rows + Tk - Tq, 0, Tk) : Tk;
  return blk;
}

} // namespace llmc::cpu
