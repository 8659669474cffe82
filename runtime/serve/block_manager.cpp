// The KV-cache block manager; see block_manager.h.
#include "runtime/serve/block_manager.h"

#include <stdexcept>
#include <string>

namespace llmc::serve {

BlockManager::BlockManager(int64_t blocks, int64_t block_tokens,
                           int64_t table_width)
    : blocks_(blocks), block_tokens_(block_tokens), table_width_(table_width) {
  for (int64_t b = blocks; b-- > 0;)
    free_.push_back(int32_t(b));
}

bool BlockManager::reserve(int64_t seq, int64_t tokens) {
  int64_t need = blocks_for(tokens);
  if (need > table_width_)
    throw std::runtime_error("sequence of " + std::to_string(tokens) +
                             " tokens is longer than the plan's " +
                             std::to_string(table_width_ * block_tokens_));
  std::vector<int32_t> &table = tables_[seq];
  int64_t more = need - int64_t(table.size());
  if (more <= 0)
    return true;
  if (more > free_blocks())
    return false;
  for (int64_t i = 0; i < more; ++i) {
    table.push_back(free_.back());
    free_.pop_back();
  }
  return true;
}

void BlockManager::release(int64_t seq) {
  auto it = tables_.find(seq);
  if (it == tables_.end())
    return;
  // Back in reverse, so the lowest ids are handed out first again.
  for (auto b = it->second.rbegin(); b != it->second.rend(); ++b)
    free_.push_back(*b);
  tables_.erase(it);
}

std::vector<int32_t> BlockManager::padded_table(int64_t seq) const {
  std::vector<int32_t> table(size_t(table_width_), 0);
  auto it = tables_.find(seq);
  if (it != tables_.end())
    std::copy(it->second.begin(), it->second.end(), table.begin());
  return table;
}

} // namespace llmc::serve
