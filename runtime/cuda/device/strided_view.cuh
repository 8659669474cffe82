// A strided view: how the GPU's general and layout kernels find their
// operands. Element e of a box of `rank` sizes (row-major) sits, in operand
// k, at offset[k] + sum_d coord_d(e) * strides[k][d] (a stride of 0
// repeats, a negative one walks backwards). One view describes a numpy
// broadcast, a permutation, a strided slice, a block of a split or a
// concat; the host builders below make each one from the shapes the plan
// gives. Device code for nvcc and the SIMT emulator; the builders are host
// code.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cpu/general.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::cuda::device {

constexpr int kMaxViewRank = 8;
constexpr int kMaxViewOperands = 4;

struct StridedView {
  int rank = 0;
  long long sizes[kMaxViewRank] = {};
  long long offset[kMaxViewOperands] = {};
  long long strides[kMaxViewOperands][kMaxViewRank] = {};
};

// The offsets of element e in the first `operands` operands of `v`.
__device__ __forceinline__ void view_offsets(const StridedView &v, long long e,
                                             int operands, long long *off) {
  for (int k = 0; k < operands; ++k)
    off[k] = v.offset[k];
  for (int d = v.rank - 1; d >= 0; --d) {
    long long coord = e % v.sizes[d];
    e /= v.sizes[d];
    for (int k = 0; k < operands; ++k)
      off[k] += coord * v.strides[k][d];
  }
}

// Grid-stride launch shape of the elementwise and layout kernels.
constexpr int kElementwiseThreads = 256;
inline int elementwise_blocks(long long n) {
  long long blocks = (n + kElementwiseThreads - 1) / kElementwiseThreads;
  return int(blocks < 65535 ? blocks : blocks > 0 ? 65535 : 1);
}

//===----------------------------------------------------------------------===//
// Host builders. Each returns an empty string, or one line saying why the
// GPU cannot take the shape (more than kMaxViewRank dimensions).
//===----------------------------------------------------------------------===//

inline std::vector<int64_t> row_major_strides(const std::vector<int64_t> &s) {
  std::vector<int64_t> strides(s.size(), 1);
  for (size_t d = s.size(); d-- > 1;)
    strides[d - 1] = strides[d] * s[d];
  return strides;
}

inline std::string set_sizes(StridedView &v, const std::vector<int64_t> &s) {
  if (s.size() > size_t(kMaxViewRank))
    return "the GPU's strided views take at most " +
           std::to_string(kMaxViewRank) + " dimensions, not " +
           std::to_string(s.size());
  v.rank = int(s.size());
  for (size_t d = 0; d < s.size(); ++d)
    v.sizes[d] = s[d];
  return "";
}

inline void set_strides(StridedView &v, int k,
                        const std::vector<int64_t> &strides) {
  for (size_t d = 0; d < strides.size(); ++d)
    v.strides[k][d] = strides[d];
}

// Over out_shape: operand 0 is out (row-major), operand k > 0 is input
// k - 1 broadcast as numpy does (cpu::broadcast_strides).
inline std::string
broadcast_view(StridedView &v, const std::vector<int64_t> &out_shape,
               const std::vector<std::vector<int64_t>> &ins) {
  if (std::string e = set_sizes(v, out_shape); !e.empty())
    return e;
  set_strides(v, 0, row_major_strides(out_shape));
  for (size_t k = 0; k < ins.size(); ++k)
    set_strides(v, int(k) + 1, cpu::broadcast_strides(ins[k], out_shape));
  return "";
}

// out = x.permute(perm) over out's shape: operand 0 is out, 1 is x.
inline std::string permute_view(StridedView &v,
                                const std::vector<int64_t> &x_shape,
                                const std::vector<int> &perm) {
  std::vector<int64_t> out_shape, x_strides = row_major_strides(x_shape), src;
  for (int p : perm) {
    out_shape.push_back(x_shape[size_t(p)]);
    src.push_back(x_strides[size_t(p)]);
  }
  if (std::string e = set_sizes(v, out_shape); !e.empty())
    return e;
  set_strides(v, 0, row_major_strides(out_shape));
  set_strides(v, 1, src);
  return "";
}

// The box offsets + steps * index(small) of `large`, over small's shape:
// operand 0 is small (row-major), 1 is large.
inline std::string slice_view(StridedView &v,
                              const std::vector<int64_t> &large_shape,
                              const std::vector<int64_t> &small_shape,
                              const std::vector<int64_t> &offsets,
                              const std::vector<int64_t> &steps) {
  if (std::string e = set_sizes(v, small_shape); !e.empty())
    return e;
  std::vector<int64_t> large = row_major_strides(large_shape), src;
  for (size_t d = 0; d < large.size(); ++d) {
    v.offset[1] += offsets[d] * large[d];
    src.push_back(steps[d] * large[d]);
  }
  set_strides(v, 0, row_major_strides(small_shape));
  set_strides(v, 1, src);
  return "";
}

// Block k of `width` along the middle axis of an (outer, total, inner)
// tensor, starting at `first` (a split's part, a concat's input, a tensor-
// parallel rank's block): operand 0 is the block (row-major), 1 the whole.
inline StridedView block_view(long long outer, long long total, long long first,
                              long long width, long long inner) {
  StridedView v;
  v.rank = 2;
  v.sizes[0] = outer;
  v.sizes[1] = width * inner;
  v.strides[0][0] = width * inner;
  v.strides[0][1] = 1;
  v.offset[1] = first * inner;
  v.strides[1][0] = total * inner;
  v.strides[1][1] = 1;
  return v;
}

// A reduction of x over `axes` (increasing): `kept` walks the outputs in
// order (operand 0: x's offset of each), `folded` the box of reduced axes
// (operand 0: x's offsets inside it, in increasing index order).
inline std::string reduce_views(StridedView &kept, StridedView &folded,
                                const std::vector<int64_t> &x_shape,
                                const std::vector<int64_t> &axes) {
  std::vector<int64_t> strides = row_major_strides(x_shape);
  std::vector<int64_t> kept_sizes, kept_strides, folded_sizes, folded_strides;
  for (size_t d = 0; d < x_shape.size(); ++d) {
    bool reduced = false;
    for (int64_t a : axes)
      reduced = reduced || a == int64_t(d);
    (reduced ? folded_sizes : kept_sizes).push_back(x_shape[d]);
    (reduced ? folded_strides : kept_strides).push_back(strides[d]);
  }
  if (std::string e = set_sizes(kept, kept_sizes); !e.empty())
    return e;
  if (std::string e = set_sizes(folded, folded_sizes); !e.empty())
    return e;
  set_strides(kept, 0, kept_strides);
  set_strides(folded, 0, folded_strides);
  return "";
}

// Operands 0 and 1 swapped: a view that reads what another writes.
inline StridedView swapped(StridedView v) {
  for (int d = 0; d < kMaxViewRank; ++d) {
    long long s = v.strides[0][d];
    v.strides[0][d] = v.strides[1][d];
    v.strides[1][d] = s;
  }
  long long o = v.offset[0];
  v.offset[0] = v.offset[1];
  v.offset[1] = o;
  return v;
}

} // namespace llmc::cuda::device
