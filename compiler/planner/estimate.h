// One training step of a transformer on a cluster: memory per device, step
// time from GEMM rooflines, TP/PP/DP communication and the pipeline bubble,
// and the resulting TFLOP/s and MFU.
#pragma once

#include "compiler/planner/cluster_spec.h"
#include "compiler/planner/memory.h"

#include <functional>
#include <optional>

namespace llmc::planner {

// Where a step's time goes, in seconds, on the slowest (last) stage.
struct StepTime {
  double compute = 0;    // GEMMs of all microbatches (incl. recompute)
  double tp_comm = 0;    // TP all-reduces (or all-gathers + reduce-scatters)
  double pp_comm = 0;    // activations and their gradients between stages,
                         // and a tied embedding's gradient (first + last)
  double bubble = 0;     // pipeline fill and drain
  double dp_comm = 0;    // exposed part of the gradient sync
  double accumulate = 0; // each microbatch's gradients into the step's sum
  double update = 0;     // the optimizer step (AdamW and the gradient norm)
  // The part of the gradient sync that overlaps the backward: it costs no
  // step time, so total() leaves it out.
  double dp_comm_hidden = 0;
  double total() const {
    return compute + tp_comm + pp_comm + bubble + dp_comm + accumulate + update;
  }
  // Communication on the critical path: every TP and PP transfer and the
  // gradient sync the backward cannot hide.
  double exposed_comm() const { return tp_comm + pp_comm + dp_comm; }
};

struct EstimateResult {
  MemoryBreakdown memory;
  bool fits = false; // memory.total() <= device memory
  StepTime time;
  double step_time_s = 0;
  double model_flops = 0;       // per step, Megatron's count (no recompute)
  double tflops_per_device = 0; // model FLOPs / (step time · devices)
  double mfu = 0; // against the peak of the math type: bf16 for bf16_mixed,
                  // fp32 for fp32 (tf32 is not used yet)
};

// The gradient bucket of llmc's data-parallel all-reduce (and ZeRO's
// reduce-scatter): buckets go out as their gradients are ready, the last
// (the first layers') only when the backward pass ends.
inline constexpr double kDpBucketBytes = 25.0 * 1024 * 1024;

// Forward FLOPs of one transformer layer for b sequences (Narayanan et al.
// 2021, §5.1): 24·b·s·h² (QKV, projection, MLP) + 4·b·s²·h (QKᵀ and AV).
double layer_forward_flops(const ModelShape &model, double b);

// Megatron's model FLOPs per step: (6·Ψ + 12·L·h·s) per token, tokens =
// dp · microbatches · micro_batch · s. Recomputation is not model work.
double model_flops_per_step(const ModelShape &model, const Layout &layout);

// The compiled costs of a layout's microbatch, or nullopt where the layout
// cannot be compiled (the estimate then uses its closed forms).
using CompiledComputeFn =
    std::function<std::optional<CompiledCompute>(const Layout &)>;

// The math type of a precision: bf16 GEMMs under bf16_mixed.
DType math_type(Precision precision);

// Throws PlannerError when the layout does not fit the model or the cluster.
// With `compiled`, the compute time comes from the compiled graph.
EstimateResult estimate(const ModelShape &model, const ClusterSpec &cluster,
                        const Layout &layout,
                        const CompiledComputeFn &compiled = {});

} // namespace llmc::planner
