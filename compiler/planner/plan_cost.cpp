// Kernel costs from a plan's shapes; see plan_cost.h.

#include "compiler/planner/plan_cost.h"

#include "compiler/planner/collectives.h"
#include "compiler/planner/compute.h"

#include <algorithm>
#include <vector>

namespace llmc::planner {
namespace {

std::vector<double> shape_of(const planfile::Plan &plan, uint32_t tensor) {
  const auto &s = plan.tensors(tensor).shape();
  return {s.begin(), s.end()};
}

double elements(const planfile::Plan &plan, uint32_t tensor) {
  double n = 1;
  for (double d : shape_of(plan, tensor))
    n *= d;
  return n;
}

double product(const std::vector<double> &v, size_t begin, size_t end) {
  double n = 1;
  for (size_t i = begin; i < end; ++i)
    n *= v[i];
  return n;
}

bool flag(const planfile::Kernel &k, const char *name) {
  auto it = k.params().find(name);
  return it != k.params().end() && it->second.b();
}

std::string axis_of(const planfile::Kernel &k, const char *name = "axis") {
  auto it = k.params().find(name);
  return it == k.params().end() ? "" : it->second.s();
}

// The GEMM a matmul kernel runs (runtime/cpu_dispatch.cpp's gemm_of): a
// weight shared by the batch makes one GEMM of all rows.
double matmul_time(const planfile::Plan &plan, const planfile::Kernel &k,
                   const ClusterSpec &cluster, double &flops) {
  auto lhs = shape_of(plan, k.ins(0)), rhs = shape_of(plan, k.ins(1)),
       out = shape_of(plan, k.outs(0));
  size_t r = out.size();
  double batch = product(out, 0, r - 2), m = out[r - 2], n = out[r - 1];
  double kk = flag(k, "transpose_lhs") ? lhs[lhs.size() - 2] : lhs.back();
  if (rhs.size() == 2) {
    m *= batch;
    batch = 1;
  }
  flops += 2 * m * n * kk * batch;
  return gemm_time(cluster, DType::FP32, m, n, kk, batch);
}

// Attention as its GEMMs: forward QKᵀ and PV; backward recomputes P, then
// dV, dP, dQ and dK: 5 GEMMs. Causal masks skip half of each.
double attention_time(const planfile::Plan &plan, const planfile::Kernel &k,
                      const ClusterSpec &cluster, bool backward,
                      double &flops) {
  auto q = shape_of(plan, k.ins(backward ? 1 : 0));
  auto v = shape_of(plan, k.ins(backward ? 3 : 2));
  auto kshape = shape_of(plan, k.ins(backward ? 2 : 1));
  double heads = q[0] * q[1], tq = q[2], tk = kshape[2], d = q[3], dv = v[3];
  double share = flag(k, "causal") ? 0.5 : 1.0;
  double gemms = backward ? 2.5 : 1.0;
  double t = gemms * share *
             (gemm_time(cluster, DType::FP32, tq, tk, d, heads) +
              gemm_time(cluster, DType::FP32, tq, dv, tk, heads));
  flops += gemms * share * 2 * heads * tq * tk * (d + dv);
  return t;
}

} // namespace

PlanCost cost_plan(const planfile::Plan &plan, const ClusterSpec &cluster) {
  PlanCost cost;
  int dp = int(std::max<int64_t>(1, plan.model().dp()));
  int tp = int(std::max<int64_t>(1, plan.model().tp()));
  int per_node = std::max(1, cluster.devices_per_node);
  auto link_of = [&](const std::string &axis) {
    int span = axis == "tp" ? tp : dp * tp; // ranks are dp-major
    return span <= per_node ? cluster.intra_node : cluster.inter_node;
  };
  auto ranks_of = [&](const std::string &axis) {
    return axis == "tp" ? tp : dp;
  };
  for (const planfile::Kernel &k : plan.kernels()) {
    const std::string &name = k.name();
    double t = 0;
    double bytes = 0;
    for (uint32_t in : k.ins())
      bytes += 4 * elements(plan, in);
    for (uint32_t out : k.outs())
      bytes += 4 * elements(plan, out);
    if (name == "matmul" || name == "matmul_bias_gelu") {
      t = matmul_time(plan, k, cluster, cost.flops);
      if (name == "matmul_bias_gelu") // the epilogue reads and writes C
        t += elementwise_time(cluster, 3 * 4 * elements(plan, k.outs(0)));
      cost.gemm_s += t;
    } else if (name == "attention_forward" || name == "attention_backward") {
      t = attention_time(plan, k, cluster, name == "attention_backward",
                         cost.flops);
      cost.gemm_s += t;
    } else if (name == "all_reduce_sum" || name == "all_reduce_mean_start" ||
               name == "all_gather" || name == "reduce_scatter" ||
               name == "all_gather_inplace") {
      std::string axis = axis_of(k);
      int p = ranks_of(axis);
      Collective kind = name == "all_gather" || name == "all_gather_inplace"
                            ? Collective::AllGather
                        : name == "reduce_scatter" ? Collective::ReduceScatter
                                                   : Collective::AllReduce;
      // The full buffer: the all-gather's output, the reduce-scatter's
      // input, the all-reduced tensors.
      double full = 0;
      if (name == "all_gather")
        full = 4 * elements(plan, k.outs(0));
      else if (name == "reduce_scatter")
        full = 4 * elements(plan, k.ins(0));
      else
        for (uint32_t out : k.outs())
          full += 4 * elements(plan, out);
      t = ring_time(kind, p, full, link_of(axis));
      cost.comm_s += t;
    } else if (name == "all_reduce_mean_wait") {
      continue; // its time is counted at the start
    } else {
      t = elementwise_time(cluster, bytes);
      if (name == "grad_norm" && !axis_of(k).empty()) {
        double sync = ring_time(Collective::AllReduce, ranks_of(axis_of(k)), 4,
                                link_of(axis_of(k)));
        cost.comm_s += sync;
        t += sync;
        cost.elementwise_s += t - sync;
      } else {
        cost.elementwise_s += t;
      }
    }
    cost.seconds_by_kernel[name] += t;
  }
  return cost;
}

} // namespace llmc::planner
