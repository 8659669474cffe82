// Tests the layout of tensor-parallel pieces in a full Hugging Face tensor:
// GPT-2's fused c_attn (Q, K, V blocks, each split over the ranks), a
// row split, and that the pieces of all ranks reassemble the tensor.

#include "runtime/io/shard.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace llmc::io;

namespace {

TEST(ShardTest, FusedQkvTakesEachBlocksPiece) {
  // [C=2, 3C'=12]: Q, K, V blocks of 4 columns, split over 2 ranks.
  ShardLayout layout{/*dim=*/1, /*parts=*/2, /*blocks=*/3};
  std::vector<float> full(2 * 12);
  std::iota(full.begin(), full.end(), 0.0f);
  std::vector<int64_t> local_shape = {2, 6};
  EXPECT_EQ(full_shape(local_shape, layout), (std::vector<int64_t>{2, 12}));
  std::vector<float> piece(12);
  copy_shard(full.data(), piece.data(), local_shape, layout, 1, true);
  // Rank 1 takes columns 2-3 of Q, 6-7 of K, 10-11 of V, in every row.
  EXPECT_EQ(piece, (std::vector<float>{2, 3, 6, 7, 10, 11, //
                                       14, 15, 18, 19, 22, 23}));
}

TEST(ShardTest, RowSplitIsContiguous) {
  ShardLayout layout{/*dim=*/0, /*parts=*/4, /*blocks=*/1};
  std::vector<float> full(8 * 3);
  std::iota(full.begin(), full.end(), 0.0f);
  std::vector<float> piece(6);
  copy_shard(full.data(), piece.data(), {2, 3}, layout, 2, true);
  EXPECT_EQ(piece, (std::vector<float>{12, 13, 14, 15, 16, 17}));
}

TEST(ShardTest, PiecesReassembleTheTensor) {
  ShardLayout layout{/*dim=*/1, /*parts=*/3, /*blocks=*/2};
  std::vector<int64_t> local_shape = {2, 4, 5}; // full [2, 12, 5]
  std::vector<float> full(2 * 12 * 5), rebuilt(full.size(), -1.0f);
  std::iota(full.begin(), full.end(), 0.0f);
  for (int64_t r = 0; r < layout.parts; ++r) {
    std::vector<float> piece(2 * 4 * 5);
    copy_shard(full.data(), piece.data(), local_shape, layout, r, true);
    copy_shard(rebuilt.data(), piece.data(), local_shape, layout, r, false);
  }
  EXPECT_EQ(rebuilt, full);
}

} // namespace
