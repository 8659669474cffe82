//===- gemm_shape.h - The GEMM a matmul kernel asks for ---------*- C++ -*-===//
//
// The sizes of a plan's matmul-family kernel, read from its operand shapes
// and transpose flags the same way by every backend (the CPU dispatch and
// the cuBLASLt descriptors of runtime/cuda/gemm.h):
//   out (batch..., M, N) = op(lhs) (batch..., M, K) · op(rhs) (K, N) + bias
// row-major, op a transpose when the flag says so; rhs carries the batch
// dimensions too when it has more than two (b_batched), else it is shared.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace llmc::kernels {

struct GemmShape {
  int64_t batch, M, N, K;
  bool trans_a, trans_b, b_batched;
};

inline GemmShape gemm_shape(const std::vector<int64_t> &lhs,
                            const std::vector<int64_t> &rhs,
                            const std::vector<int64_t> &out, bool trans_a,
                            bool trans_b) {
  size_t r = out.size();
  int64_t batch = 1;
  for (size_t d = 0; d + 2 < r; ++d)
    batch *= out[d];
  return {batch,         out[r - 2],
          out[r - 1],    trans_a ? lhs[lhs.size() - 2] : lhs.back(),
          trans_a,       trans_b,
          rhs.size() > 2};
}

} // namespace llmc::kernels
