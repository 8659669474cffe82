// The step estimate: per-microbatch stage time from GEMM rooflines plus TP
// and PP communication, stretched by the pipeline bubble, plus the exposed
// DP gradient sync. Assumes Megatron's rank order (tp fastest, then dp, then
// pp) and tp groups inside a node.

#include "compiler/planner/estimate.h"

#include "compiler/planner/collectives.h"
#include "compiler/planner/compute.h"

#include <algorithm>
#include <string>

namespace llmc::planner {

double layer_forward_flops(const ModelShape &model, double b) {
  double s = model.seq, h = model.hidden;
  return 24 * b * s * h * h + 4 * b * s * s * h;
}

double model_flops_per_step(const ModelShape &model, const Layout &layout) {
  double tokens =
      double(layout.dp) * layout.microbatches * layout.micro_batch * model.seq;
  return (6 * model.params + 12.0 * model.layers * model.hidden * model.seq) *
         tokens;
}

DType math_type(Precision precision) {
  return precision == Precision::BF16Mixed ? DType::BF16 : DType::FP32;
}

namespace {

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

// Forward GEMMs of one layer on one tp rank for one microbatch; their FLOPs
// sum to layer_forward_flops / t. Returns {dense GEMMs, attention core}.
std::pair<double, double> layer_forward_time(const ModelShape &model,
                                             const ClusterSpec &cluster,
                                             const Layout &layout) {
  DType type = math_type(layout.precision);
  double tokens = double(layout.micro_batch) * model.seq;
  double h = model.hidden, t = layout.tp, s = model.seq;
  double head_dim = h / model.heads;
  double heads = double(layout.micro_batch) * model.heads / t;
  double dense = gemm_time(cluster, type, tokens, 3 * h / t, h) + // QKV
                 gemm_time(cluster, type, tokens, h, h / t) +     // proj
                 gemm_time(cluster, type, tokens, 4 * h / t, h) + // fc1
                 gemm_time(cluster, type, tokens, h, 4 * h / t);  // fc2
  double core = gemm_time(cluster, type, s, s, head_dim, heads) + // QKᵀ
                gemm_time(cluster, type, s, head_dim, s, heads);  // AV
  return {dense, core};
}

// Bytes Megatron-LM's layer moves through memory outside its GEMMs in one
// forward pass of one microbatch on one tp rank: its fused elementwise
// kernels each read their inputs and write their output (and a dropout its
// 1-byte mask), the tensors Korthikanti et al. count in their Table 2.
//   rest: two layernorms (read, write: 2 sbh each), two bias-dropout-adds
//         (read the GEMM's output and the residual, write the sum and the
//         mask: 3 sbh + the mask), all /t under SP; bias-GeLU (read and
//         write 4sbh/t);
//   core: the fused scale-mask-softmax over the a·s²·b/t scores (read,
//         write) and the attention dropout (read, write, mask).
// The attention core's GEMMs move the scores themselves (gemm_time's bytes).
struct LayerTraffic {
  double core = 0, rest = 0;
};
LayerTraffic layer_forward_traffic(const ModelShape &model,
                                   const Layout &layout) {
  double e = dtype_bytes(math_type(layout.precision)), mask = 1;
  double t = layout.tp, s = model.seq, b = layout.micro_batch;
  double sbh = s * b * model.hidden;
  double scores = double(model.heads) * s * s * b / t;
  double replicated = layout.sequence_parallel ? t : 1;
  LayerTraffic bytes;
  bytes.rest =
      (2 * 2 * e + 2 * (3 * e + mask)) * sbh / replicated + 2 * e * 4 * sbh / t;
  bytes.core = (2 * e + 2 * e + mask) * scores;
  return bytes;
}

// An elementwise op's backward reads the incoming gradient and the input it
// saved and writes one gradient: three tensors where its forward moved two.
constexpr double kBackwardTraffic = 1.5;

// Forward + backward (2× forward) + recomputation of one microbatch on
// each pipeline rank: its layers, and the logits on the last rank. Returns
// the slowest rank's (with equal stages, the last) and its backward part.
double stage_compute_time(const ModelShape &model, const ClusterSpec &cluster,
                          const Layout &layout, double *backward,
                          std::vector<double> *per_rank,
                          const CompiledComputeFn &compiled) {
  // Per layer and for the part outside the layers (logits; the compiled
  // graph's embedding, head and loss), forward and backward.
  double layer_fwd, layer_bwd, outside_fwd, outside_bwd;
  if (std::optional<CompiledCompute> c =
          compiled ? compiled(layout) : std::nullopt) { // cached
    // The compiled backward pass already reruns what the layout recomputes.
    layer_fwd = c->layer_forward, layer_bwd = c->layer_backward;
    outside_fwd = c->outside_forward, outside_bwd = c->outside_backward;
  } else {
    auto [dense, core] = layer_forward_time(model, cluster, layout);
    LayerTraffic bytes = layer_forward_traffic(model, layout);
    double core_traffic = elementwise_time(cluster, bytes.core);
    double traffic = core_traffic + elementwise_time(cluster, bytes.rest);
    double forward = dense + core + traffic;
    double recompute = layout.recompute == Recompute::Full ? forward
                       : layout.recompute == Recompute::Selective
                           ? core + core_traffic
                           : 0;
    DType type = math_type(layout.precision);
    double tokens = double(layout.micro_batch) * model.seq;
    double vocab = double(model.vocab) / layout.tp;
    double logits = gemm_time(cluster, type, tokens, vocab, model.hidden);
    // The vocab-parallel cross-entropy reads and writes the logits.
    double loss =
        elementwise_time(cluster, 2 * dtype_bytes(type) * tokens * vocab);
    layer_fwd = forward;
    layer_bwd = 2 * (dense + core) + kBackwardTraffic * traffic + recompute;
    outside_fwd = logits + loss;
    outside_bwd = 2 * logits + kBackwardTraffic * loss;
  }
  std::vector<int64_t> layers = rank_layers(model, layout);
  double slowest = 0;
  for (int s = 0; s < layout.pp; ++s) {
    double n = double(layers[size_t(s)]);
    bool last = s == layout.pp - 1;
    double bwd = n * layer_bwd + (last ? outside_bwd : 0);
    double total = n * layer_fwd + (last ? outside_fwd : 0) + bwd;
    per_rank->push_back(total);
    if (total > slowest) {
      slowest = total;
      *backward = bwd;
    }
  }
  return slowest;
}

//===----------------------------------------------------------------------===//
// Communication
//===----------------------------------------------------------------------===//

// Megatron's TP traffic per layer and microbatch: 2 all-reduces of b·s·h
// forward and 2 backward (+2 when the forward is recomputed); with SP each
// becomes an all-gather plus a reduce-scatter of the same bytes.
double tp_comm_per_layer(const ModelShape &model, const ClusterSpec &cluster,
                         const Layout &layout) {
  double bytes = double(layout.micro_batch) * model.seq * model.hidden *
                 dtype_bytes(math_type(layout.precision));
  int t = layout.tp;
  double one =
      layout.sequence_parallel
          ? collective_time(Collective::AllGather, t, bytes, cluster, t)
                    .seconds +
                collective_time(Collective::ReduceScatter, t, bytes, cluster, t)
                    .seconds
          : collective_time(Collective::AllReduce, t, bytes, cluster, t)
                .seconds;
  int count = layout.recompute == Recompute::Full ? 6 : 4;
  return count * one;
}

// One activation forward and one gradient backward per microbatch between
// neighbouring stages, v times over when interleaved (each model chunk hands
// on); neighbours share a node only if tp·dp < devices_per_node.
double pp_comm_time(const ModelShape &model, const ClusterSpec &cluster,
                    const Layout &layout) {
  if (layout.pp == 1)
    return 0;
  double bytes = double(layout.micro_batch) * model.seq * model.hidden *
                 dtype_bytes(math_type(layout.precision)) /
                 (layout.sequence_parallel ? layout.tp : 1);
  int per_node = layout.tp * layout.dp < cluster.devices_per_node ? 2 : 1;
  double sends = 2.0 * layout.virtual_stages;
  return sends *
         collective_time(Collective::Send, 2, bytes, cluster, per_node).seconds;
}

// Megatron's embedding group: with tied embeddings, the first and last stage
// all-reduce the embedding's gradient (this tp shard of v·h) once per step,
// after the last backward; they share a node only if the whole pipeline does.
double tied_embedding_time(const ModelShape &model, const ClusterSpec &cluster,
                           const Layout &layout) {
  if (layout.pp == 1 || !model.tied_embeddings)
    return 0;
  double bytes = double(model.vocab) * model.hidden / layout.tp *
                 dtype_bytes(math_type(layout.precision));
  long long span = 1LL * layout.pp * layout.dp * layout.tp;
  int per_node = span <= cluster.devices_per_node ? 2 : 1;
  return collective_time(Collective::AllReduce, 2, bytes, cluster, per_node)
      .seconds;
}

// Gradient sync of the stage's tp shard over dp: an all-reduce; ZeRO-1/2
// reduce-scatter the grads and all-gather the updated params; ZeRO-3 gathers
// params for forward and again for backward (ZeRO paper §7).
/// The data-parallel traffic of one step as llmc's runtime sends it.
struct DpTraffic {
  double sync = 0;        // the gradients' all-reduce or reduce-scatter
  double last_bucket = 0; // its last bucket's share, sent when backward ends
  double gathers = 0;     // ZeRO's parameter all-gathers
};

DpTraffic dp_traffic(const ModelShape &model, const ClusterSpec &cluster,
                     const Layout &layout) {
  int dp = layout.dp;
  // llmc's gradients and master weights are fp32 in either precision;
  // ZeRO-1/2 gather the updated masters, ZeRO-3 the weights for the GEMMs.
  double params = model.params / (double(layout.tp) * layout.pp);
  double bytes = params * kLlmcStateBytes.grads;
  double gathered =
      params * (layout.zero_stage == 3 ? zero3_gathered_bytes(layout.precision)
                                       : kLlmcStateBytes.params);
  int per_node = std::clamp(cluster.devices_per_node / layout.tp, 1, dp);
  auto cost = [&](Collective c, double n) {
    return collective_time(c, dp, n, cluster, per_node).seconds;
  };
  Collective sync = layout.zero_stage == 0 ? Collective::AllReduce
                                           : Collective::ReduceScatter;
  DpTraffic t;
  t.sync = cost(sync, bytes);
  t.last_bucket = cost(sync, std::min(bytes, kDpBucketBytes));
  // ZeRO-1/2 gather the updated slices once; ZeRO-3 gathers the parameters
  // in every microbatch's forward and backward programs too.
  int gathers = layout.zero_stage == 3 ? 2 * layout.microbatches : 1;
  if (layout.zero_stage > 0)
    t.gathers = gathers * cost(Collective::AllGather, gathered);
  return t;
}

// Gradient accumulation: with several microbatches a step, each one's
// backward pass adds the stage's weight gradients (the math type) into the
// step's fp32 running sum (read both, write the sum), as llmc's
// accumulate_grad kernels and Megatron-LM's main_grad buffers do.
double accumulate_time(const ModelShape &model, const ClusterSpec &cluster,
                       const Layout &layout) {
  if (layout.microbatches == 1)
    return 0;
  double params = model.params / (double(layout.tp) * layout.pp);
  double bytes = dtype_bytes(math_type(layout.precision)) + 4 + 4;
  return layout.microbatches * elementwise_time(cluster, bytes * params);
}

// The optimizer step after the last backward, bound by memory: AdamW reads
// the stage's fp32 weights, both moments and the gradients and writes the
// first three back, and the gradient norm reads the gradients once more (32
// bytes a parameter); ZeRO-1 and up update the rank's 1/dp of them.
double update_time(const ModelShape &model, const ClusterSpec &cluster,
                   const Layout &layout) {
  double params = model.params / (double(layout.tp) * layout.pp);
  if (layout.zero_stage > 0)
    params /= layout.dp;
  return elementwise_time(cluster, 32 * params);
}

void check_fits_cluster(const ClusterSpec &cluster, const Layout &layout) {
  long long devices = 1LL * layout.dp * layout.tp * layout.pp;
  if (devices > cluster.devices())
    throw PlannerError("layout: dp*tp*pp=" + std::to_string(devices) +
                       " exceeds the " + std::to_string(cluster.devices()) +
                       " devices of cluster '" + cluster.name + "'");
  if (layout.tp > cluster.devices_per_node ||
      cluster.devices_per_node % layout.tp != 0)
    throw PlannerError("layout: tp=" + std::to_string(layout.tp) +
                       " does not divide devices_per_node=" +
                       std::to_string(cluster.devices_per_node) +
                       " (tp groups stay inside a node)");
}

} // namespace

//===----------------------------------------------------------------------===//
// Estimate
//===----------------------------------------------------------------------===//

EstimateResult estimate(const ModelShape &model, const ClusterSpec &cluster,
                        const Layout &layout,
                        const CompiledComputeFn &compiled) {
  EstimateResult result;
  std::optional<CompiledCompute> c = compiled ? compiled(layout) : std::nullopt;
  // Validates the layout.
  result.memory = estimate_memory(model, layout, c ? &*c : nullptr);
  check_fits_cluster(cluster, layout);
  result.fits = result.memory.total() <= cluster.device_memory;

  double backward = 0;
  std::vector<double> rank_compute;
  double compute = stage_compute_time(model, cluster, layout, &backward,
                                      &rank_compute, compiled);
  double tp_layer = tp_comm_per_layer(model, cluster, layout);
  double pp = pp_comm_time(model, cluster, layout);
  // One microbatch on each rank; the step runs at the slowest one's pace,
  // and the others' fill and drain around its m microbatches (1F1B: with p
  // equal stages (p-1)/m of the step, Narayanan et al. §2.2), a v-th of it
  // when interleaved.
  std::vector<int64_t> layers = rank_layers(model, layout);
  double slowest = 0, all = 0, tp = 0;
  for (size_t r = 0; r < rank_compute.size(); ++r) {
    double microbatch = rank_compute[r] + tp_layer * double(layers[r]) + pp;
    all += microbatch;
    if (microbatch > slowest)
      slowest = microbatch, tp = tp_layer * double(layers[r]);
  }
  double v =
      layout.schedule == Schedule::Interleaved ? layout.virtual_stages : 1;
  double m = layout.microbatches;
  StepTime &time = result.time;
  time.compute = m * compute;
  time.tp_comm = m * tp;
  time.pp_comm = m * pp + tied_embedding_time(model, cluster, layout);
  time.bubble = (all - slowest) / v;
  // What the runtime overlaps: one microbatch on one stage sends each
  // bucket as the backward pass completes it, all but the last behind the
  // rest of the backward; gradients summed over microbatches or stages are
  // complete only at the end, and ZeRO's gathers run where they are needed.
  DpTraffic dp = dp_traffic(model, cluster, layout);
  bool pipelined = layout.microbatches > 1 || layout.pp > 1;
  time.dp_comm_hidden =
      pipelined ? 0 : std::min(dp.sync - dp.last_bucket, backward);
  time.dp_comm = dp.sync + dp.gathers - time.dp_comm_hidden;
  time.accumulate = accumulate_time(model, cluster, layout);
  time.update = update_time(model, cluster, layout);

  result.step_time_s = time.total();
  double devices = double(layout.dp) * layout.tp * layout.pp;
  result.model_flops = model_flops_per_step(model, layout);
  double achieved = result.model_flops / (result.step_time_s * devices);
  result.tflops_per_device = achieved / 1e12;
  result.mfu = achieved / cluster.peak_flops.of(math_type(layout.precision));
  return result;
}

} // namespace llmc::planner
