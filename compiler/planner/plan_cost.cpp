// Kernel costs from a plan's shapes; see plan_cost.h.

#include "compiler/planner/plan_cost.h"

#include "compiler/planner/collectives.h"
#include "compiler/planner/compute.h"
#include "runtime/cpu/gemv.h"
#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/collectives.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/schedule.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace llmc::planner {
namespace {

using kernels::KernelId;

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

// A GEMM of a bf16-mixed plan (math = "bf16") runs at the bf16 rate.
double matmul_time(const planfile::Plan &plan, const planfile::Kernel &k,
                   const ClusterSpec &cluster, DType type, double &flops) {
  GemmShape g = matmul_shape(plan, k);
  flops += 2 * g.m * g.n * g.k * g.batch;
  if (plan::has_bf16_math(k))
    type = DType::BF16;
  return gemm_time(cluster, type, g.m, g.n, g.k, g.batch);
}

// An attention kernel as `scale` times its two batched GEMMs, QKᵀ and PV:
// the backward recomputes P, then runs dV, dP, dQ and dK (2.5 times the
// forward), and a causal mask skips half of each.
struct AttentionGemms {
  double heads, tq, tk, d, dv, scale;
};
AttentionGemms attention_gemms(const planfile::Plan &plan,
                               const planfile::Kernel &k) {
  bool backward = kernels::is(k.name(), KernelId::attention_backward);
  auto q = shape_of(plan, k.ins(backward ? 1 : 0));
  auto key = shape_of(plan, k.ins(backward ? 2 : 1));
  auto v = shape_of(plan, k.ins(backward ? 3 : 2));
  return {
      q[0] * q[1], q[2],
      key[2],      q[3],
      v[3],        (backward ? 2.5 : 1.0) * (flag(k, "causal") ? 0.5 : 1.0)};
}

// Attention on the GEMM roofline, unless the cluster measured its rate.
double attention_time(const planfile::Plan &plan, const planfile::Kernel &k,
                      const ClusterSpec &cluster, DType type, double &flops) {
  double f = attention_flops(plan, k);
  flops += f;
  auto measured = cluster.kernel_flops.find(k.name());
  if (measured != cluster.kernel_flops.end())
    return f / measured->second;
  AttentionGemms a = attention_gemms(plan, k);
  return a.scale * (gemm_time(cluster, type, a.tq, a.tk, a.d, a.heads) +
                    gemm_time(cluster, type, a.tq, a.dv, a.tk, a.heads));
}

} // namespace

GemmShape matmul_shape(const planfile::Plan &plan, const planfile::Kernel &k) {
  auto lhs = shape_of(plan, k.ins(0)), rhs = shape_of(plan, k.ins(1)),
       out = shape_of(plan, k.outs(0));
  size_t r = out.size();
  GemmShape g{out[r - 2], out[r - 1],
              flag(k, "transpose_lhs") ? lhs[lhs.size() - 2] : lhs.back(),
              product(out, 0, r - 2)};
  if (rhs.size() == 2) {
    g.m *= g.batch;
    g.batch = 1;
  }
  return g;
}

double attention_flops(const planfile::Plan &plan, const planfile::Kernel &k) {
  AttentionGemms a = attention_gemms(plan, k);
  return a.scale * 2 * a.heads * a.tq * a.tk * (a.d + a.dv);
}

double kernel_bytes(const planfile::Plan &plan, const planfile::Kernel &k) {
  // The KV cache's kernels touch their sequences' blocks, not the pool: a
  // write moves the step's keys or values; attention reads, per sequence,
  // every block of its table (the longest context the plan allows).
  auto bytes_of = [&](uint32_t t) {
    return double(plan::size_in_bytes(plan.tensors(int(t))));
  };
  if (kernels::is(k.name(), KernelId::kv_cache_write))
    return 2 * bytes_of(k.ins(0));
  if (kernels::is(k.name(), KernelId::paged_attention)) {
    auto cache = shape_of(plan, k.ins(1)), table = shape_of(plan, k.ins(3));
    double per_block = bytes_of(k.ins(1)) / std::max(1.0, cache[0]);
    return 2 * bytes_of(k.ins(0)) + 2 * table[0] * table[1] * per_block;
  }
  double bytes = 0;
  for (const auto *list : {&k.ins(), &k.outs()})
    for (uint32_t t : *list)
      bytes += bytes_of(t);
  return bytes;
}

PlanCost cost_plan(const planfile::Plan &plan, const ClusterSpec &cluster,
                   DType type) {
  PlanCost cost;
  // Plans hold fp32 tensors; other math types move their own element size.
  double bytes_scale = dtype_bytes(type) / 4.0;
  const planfile::ModelInfo &model = plan.model();
  int dp = plan::axis_size(model, "dp"), tp = plan::axis_size(model, "tp"),
      pp = plan::axis_size(model, "pp");
  int per_node = std::max(1, cluster.devices_per_node);
  // Ranks are numbered (stage·dp + d)·tp + t: an axis spans this many.
  auto link_of = [&](const std::string &axis) {
    int span = axis == "tp" ? tp : axis == "dp" ? dp * tp : pp * dp * tp;
    return span <= per_node ? cluster.intra_node : cluster.inter_node;
  };
  auto ranks_of = [&](const std::string &axis) {
    return plan::axis_size(model, axis);
  };
  for (const planfile::Kernel &k : plan.kernels()) {
    const std::string &name = k.name();
    double t = 0;
    if (kernels::is_fp32_gemm(name)) {
      t = matmul_time(plan, k, cluster, type, cost.flops);
      // The epilogue reads C (and SwiGLU's gate) and writes its output.
      if (kernels::is(name, KernelId::matmul_bias_gelu))
        t += elementwise_time(cluster,
                              3 * 4 * bytes_scale * elements(plan, k.outs(0)));
      if (kernels::is(name, KernelId::matmul_swiglu))
        t += elementwise_time(cluster,
                              4 * 4 * bytes_scale * elements(plan, k.outs(0)));
      cost.gemm_s += t;
    } else if (kernels::is(name, KernelId::matmul_i8w) ||
               kernels::is(name, KernelId::matmul_bf16w) ||
               kernels::is(name, KernelId::matmul_f32w)) {
      // The roofline of an fp32 GEMM whose weight is one byte an element
      // (int8), two (bf16) or four (fp32 stored (N, K)); with bf16 math
      // (bf16-mixed inference), of a bf16 GEMM above a decode step's rows,
      // which the fp32 GEMV multiplies.
      GemmShape g = matmul_shape(plan, k);
      const bool decode_rows = g.m <= cpu::kGemvMaxRows;
      DType rate = !decode_rows && plan::has_bf16_math(k) ? DType::BF16 : type;
      double flops = 2 * g.m * g.n * g.k;
      cost.flops += flops;
      double weight_bytes = kernels::is(name, KernelId::matmul_i8w)     ? 1.0
                            : kernels::is(name, KernelId::matmul_bf16w) ? 2.0
                                                                        : 4.0;
      double bytes =
          4 * (g.m * g.k + g.m * g.n + g.n) + weight_bytes * g.k * g.n;
      t = std::max(flops / (cluster.peak_flops.of(rate) *
                            gemm_efficiency(efficiency_of(cluster, rate), g.m,
                                            g.n, g.k)),
                   bytes / cluster.memory_bandwidth);
      // A few rows multiply int8 weights directly, at the rate `llmc
      // calibrate` measured for one row where it did.
      auto measured = cluster.kernel_flops.find(name);
      if (decode_rows && measured != cluster.kernel_flops.end())
        t = std::max(t, flops / measured->second);
      cost.gemm_s += t;
    } else if (kernels::is(name, KernelId::attention_forward) ||
               kernels::is(name, KernelId::attention_backward)) {
      t = attention_time(plan, k, cluster, type, cost.flops);
      cost.gemm_s += t;
    } else if (!plan::is_communication_kernel(name)) {
      auto measured = cluster.kernel_bandwidth.find(name);
      t = bytes_scale * kernel_bytes(plan, k) /
          (measured != cluster.kernel_bandwidth.end()
               ? measured->second
               : cluster.memory_bandwidth);
      cost.elementwise_s += t;
    }
    // What the kernel communicates (a non-blocking one at its start; the
    // norm its one-float sums), by the ring model on the axis's link.
    for (const plan::CollectiveCall &call : plan::kernel_collectives(plan, k)) {
      Collective kind = call.kind == plan::CollectiveKind::AllGather
                            ? Collective::AllGather
                        : call.kind == plan::CollectiveKind::ReduceScatter
                            ? Collective::ReduceScatter
                            : Collective::AllReduce;
      double comm = ring_time(kind, ranks_of(call.axis),
                              double(call.element_bytes) *
                                  double(call.elements) * bytes_scale,
                              link_of(call.axis));
      cost.comm_s += comm;
      t += comm;
    }
    cost.seconds_by_kernel[name] += t;
    cost.seconds.push_back(t);
  }
  return cost;
}

double program_seconds(const planfile::Plan &plan, const PlanCost &cost,
                       const std::string &name) {
  double s = 0;
  for (const planfile::Program &p : plan.programs())
    if (p.name() == name)
      for (uint32_t k = p.begin(); k < p.end(); ++k)
        s += cost.seconds[k];
  return s;
}

PipelineCost cost_pipeline(const planfile::Plan &plan,
                           const ClusterSpec &cluster, DType type) {
  PipelineCost out;
  int64_t ranks = std::max<int64_t>(plan.model().pp(), 1);
  int per_node = std::max(1, cluster.devices_per_node);
  int64_t span = ranks * std::max<int64_t>(plan.model().dp(), 1) *
                 std::max<int64_t>(plan.model().tp(), 1);
  const LinkSpec &link =
      span <= per_node ? cluster.intra_node : cluster.inter_node;
  std::vector<double> tail(size_t(ranks), 0.0);
  for (const planfile::Plan &chunk : plan.stages()) {
    PlanCost cost = cost_plan(chunk, cluster, type);
    auto program = [&](const std::string &name) {
      return program_seconds(chunk, cost, name);
    };
    // One residual stream of the microbatch leaves each program.
    double stream_bytes = 0;
    for (const planfile::Buffer &b : chunk.buffers())
      if (b.name() == plan::kHiddenIn || b.name() == plan::kHiddenOut)
        stream_bytes = double(b.size_bytes()) * dtype_bytes(type) / 4.0;
    double send =
        stream_bytes > 0 ? link.latency + stream_bytes / link.bandwidth : 0.0;
    out.forward_s.push_back(program("forward") + send);
    out.backward_s.push_back(program("backward") + send);
    tail[size_t(chunk.model().stage() % ranks)] +=
        program("gradients") + program("update");
  }
  plan::Simulation sim = plan::simulate_pipeline(plan::rank_schedules(plan),
                                                 out.forward_s, out.backward_s);
  out.schedule_s = sim.makespan;
  std::vector<double> busy(size_t(ranks), 0.0);
  for (const plan::TimedInstruction &t : sim.timeline)
    busy[size_t(t.stage)] += t.end - t.start;
  out.busy_s = *std::max_element(busy.begin(), busy.end());
  out.update_s = *std::max_element(tail.begin(), tail.end());
  return out;
}

namespace {
/// printf into a string: the reports' fixed-width columns.
template <typename... Args>
std::string format(const char *pattern, Args... args) {
  char line[512];
  std::snprintf(line, sizeof(line), pattern, args...);
  return line;
}
} // namespace

void print_pipeline_cost(const PipelineCost &cost, const std::string &cluster,
                         std::ostream &os) {
  double idle = cost.schedule_s - cost.busy_s;
  os << format("\npredicted step time on %s: %.2f ms (the schedule %.2f ms, "
               "of which the busiest stage idles %.2f ms; gradients and "
               "updates %.2f ms)\n",
               cluster.c_str(), 1e3 * cost.total(), 1e3 * cost.schedule_s,
               1e3 * idle, 1e3 * cost.update_s);
  for (size_t c = 0; c < cost.forward_s.size(); ++c)
    os << format("  chunk %-3zu forward %8.3f ms  backward %8.3f ms per "
                 "microbatch\n",
                 c, 1e3 * cost.forward_s[c], 1e3 * cost.backward_s[c]);
}

void print_plan_cost(const PlanCost &cost, const std::string &cluster,
                     std::ostream &os) {
  os << format("\npredicted step time on %s: %.2f ms (GEMMs and attention "
               "%.2f ms at %.1f GFLOP/s, elementwise %.2f ms, collectives "
               "%.2f ms)\n",
               cluster.c_str(), 1e3 * cost.total(), 1e3 * cost.gemm_s,
               cost.gemm_s > 0 ? cost.flops / cost.gemm_s / 1e9 : 0.0,
               1e3 * cost.elementwise_s, 1e3 * cost.comm_s);
  std::vector<std::pair<double, std::string>> rows;
  for (const auto &[name, seconds] : cost.seconds_by_kernel)
    rows.push_back({seconds, name});
  std::sort(rows.rbegin(), rows.rend());
  for (const auto &[seconds, name] : rows)
    os << format("  %-26s %10.3f ms\n", name.c_str(), 1e3 * seconds);
}

} // namespace llmc::planner
