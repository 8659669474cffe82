// What one microbatch of one transformer layer costs as llmc compiles it,
// for the estimate: produced by compiling the model (compiler/CompiledCosts),
// consumed here without MLIR.
#pragma once

namespace llmc::planner {

// One microbatch on one tensor-parallel rank, compiled with the layout's
// recomputation: the time of the plan's own kernels (plan_cost.h) in one
// transformer layer and outside the layers (embedding, final norm, LM head
// and loss), forward and backward (recomputed ops count as backward),
// without collectives or the optimizer; and the activation bytes the
// backward pass keeps, per layer and outside, as the plan stores them (a
// bf16-mixed plan's GEMM inputs in bf16, the rest fp32).
struct CompiledCompute {
  double layer_forward = 0, layer_backward = 0;
  double outside_forward = 0, outside_backward = 0;
  double layer_activation_bytes = 0, outside_activation_bytes = 0;
};

} // namespace llmc::planner
