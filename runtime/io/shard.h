// Where one rank's piece of a split tensor sits in the full Hugging Face
// tensor (plan.proto's Shard): the full tensor is `blocks` equal blocks along
// `dim`, each cut into `parts` consecutive pieces, and rank r holds piece r of
// every block. Loading slices full tensors this way; saving reassembles them.
#pragma once

#include <cstdint>
#include <vector>

namespace llmc::io {

struct ShardLayout {
  int64_t dim = 0;
  int64_t parts = 1;
  int64_t blocks = 1;
};

// The full shape of a tensor whose rank-local piece has `local_shape`.
std::vector<int64_t> full_shape(const std::vector<int64_t> &local_shape,
                                const ShardLayout &layout);

// Copies rank `rank`'s piece between `full` (full_shape(local_shape)) and
// `local`: into `local` when `to_local`, into `full` otherwise.
void copy_shard(float *full, float *local,
                const std::vector<int64_t> &local_shape,
                const ShardLayout &layout, int64_t rank, bool to_local);

} // namespace llmc::io
