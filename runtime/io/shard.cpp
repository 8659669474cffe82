// The full tensor viewed as [outer, blocks, parts, piece]: `piece` runs over
// the rank's rows of `dim` and every dimension after it, so each (outer,
// block) pair is one contiguous copy.
#include "runtime/io/shard.h"

#include <cstring>

namespace llmc::io {

std::vector<int64_t> full_shape(const std::vector<int64_t> &local_shape,
                                const ShardLayout &layout) {
  std::vector<int64_t> shape = local_shape;
  shape[size_t(layout.dim)] *= layout.parts;
  return shape;
}

void copy_shard(float *full, float *local,
                const std::vector<int64_t> &local_shape,
                const ShardLayout &layout, int64_t rank, bool to_local) {
  int64_t outer = 1, piece = 1;
  for (size_t d = 0; d < local_shape.size(); ++d)
    (int64_t(d) < layout.dim ? outer : piece) *= local_shape[d];
  piece /= layout.blocks; // each block's share of the local rows
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t b = 0; b < layout.blocks; ++b) {
      float *f = full + ((o * layout.blocks + b) * layout.parts + rank) * piece;
      float *l = local + (o * layout.blocks + b) * piece;
      if (to_local)
        std::memcpy(l, f, size_t(piece) * sizeof(float));
      else
        std::memcpy(f, l, size_t(piece) * sizeof(float));
    }
}

} // namespace llmc::io
