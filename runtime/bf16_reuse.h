// A bf16-mixed plan's GEMMs round their fp32 operands to bf16 as they run
// (runtime/cpu/onednn_matmul.h). Where a GEMM multiplies bytes an earlier
// GEMM just rounded, and no kernel wrote them since, it can take that
// rounding instead of making its own: the backward's dX GEMM rounds the
// output gradient dY as its lhs, and the dW GEMM right after multiplies the
// same dY as its rhs. This finds those pairs once, when a plan is loaded;
// the executor keeps the roundings between them (cpu::Bf16Operands).
#pragma once

#include "runtime/plan/plan.pb.h"

#include <array>
#include <vector>

namespace llmc {

// Operand `slot` (0: lhs, 1: rhs) of plan kernel `kernel`; kernel -1: none.
struct OperandRef {
  int kernel = -1, slot = 0;
  bool valid() const { return kernel >= 0; }
};

struct Bf16Reuse {
  // from[k][s]: the earlier operand whose rounding operand s of kernel k
  // takes (the first GEMM of a chain that multiplies the same bytes).
  std::vector<std::array<OperandRef, 2>> from;
  // last_use[k][s]: the last kernel that takes the rounding of kernel k's
  // operand s, or -1 when none does (it is not kept).
  std::vector<std::array<int, 2>> last_use;
};

// Pairs of plain `matmul` kernels with math = "bf16" at most `window`
// kernels apart, operands of the same bytes (the same buffer and element
// count; stashed buffers apart from the rest), with no kernel between them
// (nor the earlier GEMM itself) writing any of the buffer. Empty when the
// plan has none.
Bf16Reuse find_bf16_reuse(const planfile::Plan &plan, int window = 4);

} // namespace llmc
