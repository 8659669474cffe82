// The paged KV cache's blocks (vLLM's block manager): a free list over one
// pool shared by every layer (block i is block i of each layer's cache), and
// each sequence's block table, grown as its tokens are and freed when it
// finishes or is preempted.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace llmc::serve {

class BlockManager {
public:
  // `blocks` in the pool of `block_tokens` tokens each; a table holds at
  // most `table_width` blocks (the plan's longest sequence).
  BlockManager(int64_t blocks, int64_t block_tokens, int64_t table_width);

  int64_t blocks_for(int64_t tokens) const {
    return (tokens + block_tokens_ - 1) / block_tokens_;
  }
  // Grows sequence `seq`'s table to hold `tokens` tokens; false, taking
  // nothing, when the pool lacks the blocks (the caller preempts or waits).
  bool reserve(int64_t seq, int64_t tokens);
  // Returns every block of `seq` to the pool.
  void release(int64_t seq);
  // The table of `seq`, padded to the plan's width with block 0 (entries
  // past a sequence's tokens are never read).
  std::vector<int32_t> padded_table(int64_t seq) const;

  int64_t free_blocks() const { return int64_t(free_.size()); }
  int64_t used_blocks() const { return blocks_ - free_blocks(); }
  int64_t block_tokens() const { return block_tokens_; }
  int64_t table_width() const { return table_width_; }

private:
  int64_t blocks_, block_tokens_, table_width_;
  // Lowest ids first, so a run's block use is easy to read in traces.
  std::vector<int32_t> free_;
  std::map<int64_t, std::vector<int32_t>> tables_;
};

} // namespace llmc::serve
