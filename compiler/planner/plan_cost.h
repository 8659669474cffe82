// The predicted time of one step of a compiled plan on one device of a
// cluster: every kernel of the (sharded, fused) plan on the roofline by its
// own shapes, and every collective by α-β over the links its mesh axis uses.
// This is the cost model driven by the compiled graph: per-op FLOPs and bytes
// come from the plan, not from a closed formula of the model.
#pragma once

#include "compiler/planner/cluster_spec.h"
#include "runtime/plan/plan.pb.h"

#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace llmc::planner {

struct PlanCost {
  double gemm_s = 0;        // GEMMs and attention, by GEMM efficiency
  double elementwise_s = 0; // everything else, by memory bandwidth
  double comm_s = 0;        // collectives, unhidden
  double flops = 0;         // of the GEMMs and attention
  std::map<std::string, double> seconds_by_kernel; // summed per kernel name
  std::vector<double> seconds;                     // per kernel of the plan
  double total() const { return gemm_s + elementwise_s + comm_s; }
};

// The seconds of `plan`'s program `name` by `cost` (0 when it has none).
double program_seconds(const planfile::Plan &plan, const PlanCost &cost,
                       const std::string &name);

// The GEMM a matmul kernel runs (as runtime/cpu_dispatch.cpp's gemm_of): a
// weight shared by the batch makes one GEMM of all rows.
struct GemmShape {
  double m, n, k, batch;
};
GemmShape matmul_shape(const planfile::Plan &plan, const planfile::Kernel &k);

// FLOPs of an attention kernel: its GEMMs (forward QKᵀ and PV; backward
// recomputes P, then dV, dP, dQ and dK), halved under a causal mask.
double attention_flops(const planfile::Plan &plan, const planfile::Kernel &k);

// Bytes a kernel reads and writes: all of its ins and outs, once.
double kernel_bytes(const planfile::Plan &plan, const planfile::Kernel &k);

// In math type `type` (fp32, as the CPU runtime runs plans, by default;
// tensors then move that type's bytes). The dp and tp groups are placed on
// one node when they fit in it (tp innermost), as the runtime numbers ranks.
PlanCost cost_plan(const planfile::Plan &plan, const ClusterSpec &cluster,
                   DType type = DType::FP32);

// A pipelined plan's step: each model chunk's forward and backward program
// per microbatch (costed as above, plus sending its output over the pp
// link), the ranks' schedules simulated against each other, then the
// slowest rank's gradients and update programs.
struct PipelineCost {
  double schedule_s = 0; // the schedule's makespan
  double busy_s = 0;     // of which the busiest rank computes
  double update_s = 0;   // the slowest rank's gradients + update programs
  std::vector<double> forward_s, backward_s; // per model chunk
  double total() const { return schedule_s + update_s; }
};
PipelineCost cost_pipeline(const planfile::Plan &plan,
                           const ClusterSpec &cluster,
                           DType type = DType::FP32);

// The prediction as `llmc explain --cluster` prints it: the total, its
// parts, and the time of each kernel (or each pipeline chunk).
void print_plan_cost(const PlanCost &cost, const std::string &cluster,
                     std::ostream &os);
void print_pipeline_cost(const PipelineCost &cost, const std::string &cluster,
                         std::ostream &os);

} // namespace llmc::planner
