// Tests the step estimate by hand on an ideal cluster (every GEMM at peak),
// where time is FLOPs / peak plus α-β communication.

#include "compiler/planner/estimate.h"

#include "TestClusters.h"

#include <gtest/gtest.h>

#include <string>

using namespace llmc::planner;
using llmc::planner::testing::ideal_cluster;

namespace {

// h = s = 1024, a = 16, L = 4, v = 1000 and Ψ = 12·L·h² + v·h exactly, so
// that Megatron's model FLOPs equal the GEMM FLOPs the estimate times.
ModelShape toy() {
  return {12.0 * 4 * 1024 * 1024 + 1000.0 * 1024, 4, 1024, 16, 1024, 1000};
}
// 24·b·s·h² + 4·b·s²·h = 28·2³⁰ per layer; logits 2·b·s·v·h.
constexpr double kLayerFlops = 28.0 * 1024 * 1024 * 1024;
constexpr double kLogitFlops = 2.0 * 1024 * 1000 * 1024;
constexpr double kPeak = 100e12;

} // namespace

TEST(Estimate, LayerAndModelFlops) {
  EXPECT_DOUBLE_EQ(layer_forward_flops(toy(), 1), kLayerFlops);
  Layout layout;
  layout.dp = 2;
  layout.microbatches = 3;
  // (6Ψ + 12·L·h·s) per token, tokens = dp·m·b·s.
  EXPECT_DOUBLE_EQ(model_flops_per_step(toy(), layout),
                   (6 * toy().params + 12.0 * 4 * 1024 * 1024) * 2 * 3 * 1024);
}

// Tests one device: step = 3·(L·F + logits) / peak, and since Ψ matches the
// shape, MFU is exactly 1 (100 TFLOP/s per device).
TEST(Estimate, SingleDeviceAtPeak) {
  EstimateResult r = estimate(toy(), ideal_cluster(), Layout());
  double expected = 3 * (4 * kLayerFlops + kLogitFlops) / kPeak;
  EXPECT_NEAR(r.step_time_s, expected, 1e-12);
  EXPECT_NEAR(r.time.compute, expected, 1e-12);
  EXPECT_EQ(r.time.tp_comm + r.time.pp_comm + r.time.bubble + r.time.dp_comm,
            0);
  EXPECT_NEAR(r.mfu, 1.0, 1e-9);
  EXPECT_NEAR(r.tflops_per_device, 100.0, 1e-6);
  EXPECT_TRUE(r.fits);
}

// Tests full recompute: one more forward of every layer; model FLOPs (and so
// MFU's numerator) do not count it.
TEST(Estimate, FullRecomputeCostsAForward) {
  Layout layout;
  layout.recompute = Recompute::Full;
  EstimateResult r = estimate(toy(), ideal_cluster(), layout);
  double hardware = 4 * 4 * kLayerFlops + 3 * kLogitFlops;
  EXPECT_NEAR(r.step_time_s, hardware / kPeak, 1e-12);
  EXPECT_NEAR(r.mfu, 3 * (4 * kLayerFlops + kLogitFlops) / hardware, 1e-9);
}

// Tests the closed form's memory traffic on a cluster whose GEMMs run at peak
// but whose memory moves 2 TB/s: Megatron's layer moves, in bf16 with 1-byte
// dropout masks, 38·s·b·h bytes outside the attention core (two layernorms,
// two bias-dropout-adds, bias-GeLU) and 9·a·s²·b over the scores (softmax,
// dropout) in its forward pass, and 1.5 times that backward; the loss
// reads and writes the logits (2.5 · 4·s·v bytes); the optimizer moves 32
// bytes a parameter.
TEST(Estimate, ClosedFormMemoryTraffic) {
  ClusterSpec cluster = ideal_cluster();
  cluster.memory_bandwidth = 2e12;
  EstimateResult r = estimate(toy(), cluster, Layout());
  double s = 1024, h = 1024, a = 16, v = 1000;
  double layer = 38 * s * h + 9 * a * s * s;
  double traffic = 2.5 * (4 * layer + 4 * s * v) / 2e12;
  EXPECT_NEAR(r.time.compute,
              3 * (4 * kLayerFlops + kLogitFlops) / kPeak + traffic, 1e-12);
  EXPECT_NEAR(r.time.update, 32 * toy().params / 2e12, 1e-12);
  EXPECT_EQ(r.time.accumulate, 0); // one microbatch writes the gradients
}

// Tests gradient accumulation and the optimizer's share: with m = 4, each
// microbatch adds its bf16 gradients into the fp32 sum (2 + 4 + 4 bytes a
// parameter); ZeRO-1 over dp = 2 updates half the parameters.
TEST(Estimate, AccumulationAndUpdate) {
  ClusterSpec cluster = ideal_cluster();
  cluster.memory_bandwidth = 2e12;
  cluster.devices_per_node = 1;
  Layout layout;
  layout.microbatches = 4;
  layout.dp = 2;
  layout.zero_stage = 1;
  EstimateResult r = estimate(toy(), cluster, layout);
  EXPECT_NEAR(r.time.accumulate, 4 * 10 * toy().params / 2e12, 1e-12);
  EXPECT_NEAR(r.time.update, 32 * toy().params / 2 / 2e12, 1e-12);
}

// Tests tp = 2: half the GEMM time, plus 4 all-reduces per layer of
// n = b·s·h·2 = 2,097,152 bytes on NVLink (100 GB/s, 1 µs), ring:
// 2·1 µs + 2·(1/2)·n/1e11 = 22.97152 µs; ×4 ×4 layers.
TEST(Estimate, TensorParallelAllReduces) {
  Layout layout;
  layout.tp = 2;
  EstimateResult r = estimate(toy(), ideal_cluster(), layout);
  double compute = 3 * (4 * kLayerFlops + kLogitFlops) / kPeak / 2;
  EXPECT_NEAR(r.time.compute, compute, 1e-12);
  EXPECT_NEAR(r.time.tp_comm, 16 * 22.97152e-6, 1e-12);
  // With SP: an all-gather + a reduce-scatter, each 1 µs + n/2/1e11, the
  // same bytes as the all-reduce.
  layout.sequence_parallel = true;
  EXPECT_NEAR(estimate(toy(), ideal_cluster(), layout).time.tp_comm,
              16 * 22.97152e-6, 1e-12);
}

// Tests pp = 2 with m = 4: each stage runs 2 layers (the last also the
// logits) per microbatch, plus a send forward and one backward of
// b·s·h·2 bytes on NVLink (1 µs + n/1e11 each). The step runs the last
// stage's 4 microbatches, and the first stage's one microbatch fills and
// drains around them: with equal stages, the bubble's (p-1)/m of the step.
TEST(Estimate, PipelineBubbleTime) {
  Layout layout;
  layout.pp = 2;
  layout.microbatches = 4;
  EstimateResult r = estimate(toy(), ideal_cluster(), layout);
  double send = 2 * (1e-6 + 2097152.0 / 1e11);
  double first = 3 * 2 * kLayerFlops / kPeak + send;
  double last = 3 * (2 * kLayerFlops + kLogitFlops) / kPeak + send;
  EXPECT_NEAR(r.time.bubble, first, 1e-12);
  EXPECT_NEAR(r.step_time_s, 4 * last + first, 1e-12);
  // Interleaved over 2 chunks a rank (layers 0 and 2 on the first): each
  // chunk hands on its activations, twice the sends, and the fill and
  // drain is half as long ((p-1)/(v·m), Narayanan et al. §2.2).
  layout.schedule = Schedule::Interleaved;
  layout.virtual_stages = 2;
  EXPECT_NEAR(estimate(toy(), ideal_cluster(), layout).time.bubble,
              (first + send) / 2, 1e-12);
}

// Tests that tied embeddings under pp = 2 add one all-reduce of the
// embedding's gradient between the first and last stage per step (not per
// microbatch): v·h·2 bytes on NVLink, ring on 2 ranks: 2 · 1 µs + n/1e11.
TEST(Estimate, PipelineTiedEmbeddingAllReduce) {
  Layout layout;
  layout.pp = 2;
  layout.microbatches = 4;
  ModelShape tied = toy();
  tied.tied_embeddings = true;
  double extra = estimate(tied, ideal_cluster(), layout).time.pp_comm -
                 estimate(toy(), ideal_cluster(), layout).time.pp_comm;
  EXPECT_NEAR(extra, 2e-6 + 1000.0 * 1024 * 2 / 1e11, 1e-12);
  layout.pp = 1; // one stage holds both uses
  EXPECT_EQ(estimate(tied, ideal_cluster(), layout).time.pp_comm, 0);
}

// Tests the DP all-reduce across two 1-device nodes: 2Ψ bytes over the NIC
// (10 GB/s, 10 µs), ring: 2·10 µs + Ψ·2/1e10. Buckets of 25 MiB go out as
// the backward pass completes them, so all but the last hide behind the
// backward (2·(L·F + logits) / peak) as far as it lasts; the last bucket is
// exposed, and so is everything when gradients are summed over microbatches
// (complete only after the last one), as llmc's runtime does.
TEST(Estimate, DataParallelOverlap) {
  ClusterSpec cluster = ideal_cluster();
  cluster.devices_per_node = 1;
  Layout layout;
  layout.dp = 2;
  EstimateResult r = estimate(toy(), cluster, layout);
  double sync = 2e-5 + toy().params * 4 / 1e10; // fp32 gradients
  double last = 2e-5 + kDpBucketBytes / 1e10;
  double backward = 2 * (4 * kLayerFlops + kLogitFlops) / kPeak;
  EXPECT_NEAR(r.time.dp_comm_hidden, std::min(sync - last, backward), 1e-12);
  EXPECT_NEAR(r.time.dp_comm, sync - r.time.dp_comm_hidden, 1e-12);
  EXPECT_GE(r.time.dp_comm, last - 1e-12);
  layout.microbatches = 2;
  EXPECT_EQ(estimate(toy(), cluster, layout).time.dp_comm_hidden, 0);
}

// Tests that ZeRO-3 gathers the parameters in every microbatch's forward
// and backward programs, as the compiled plans do (2·m all-gathers of Ψ
// a step, bf16 under bf16-mixed), where ZeRO-1 gathers the updated fp32
// slices once.
TEST(Estimate, ZeroThreeGathersPerMicrobatch) {
  ClusterSpec cluster = ideal_cluster();
  cluster.devices_per_node = 1;
  Layout layout;
  layout.dp = 2;
  layout.microbatches = 4;
  ASSERT_EQ(layout.precision, Precision::BF16Mixed);
  auto gather = [](double bytes) { // ring, 2 ranks
    return 1e-5 + toy().params * bytes / 2 / 1e10;
  };
  auto dp_comm = [&](int stage) {
    layout.zero_stage = stage;
    return estimate(toy(), cluster, layout).time.dp_comm;
  };
  EXPECT_NEAR(dp_comm(3) - dp_comm(1), 2 * 4 * gather(2) - gather(4), 1e-9);
}

// Tests that layouts the cluster cannot hold name the constraint.
TEST(Estimate, RejectsLayoutsBeyondCluster) {
  Layout layout;
  layout.dp = 4;
  layout.pp = 4;
  layout.microbatches = 4;
  ClusterSpec cluster = ideal_cluster(); // 16 devices
  layout.tp = 2;
  try {
    estimate(toy(), cluster, layout);
    FAIL() << "no error";
  } catch (const PlannerError &error) {
    EXPECT_STREQ(error.what(), "layout: dp*tp*pp=32 exceeds the 16 devices "
                               "of cluster 'two-node'");
  }
}

// Tests a realistic case for sanity: GPT-3 175B on 8 × 8 A100s-like devices
// with t = 8, p = 8, SP and selective recompute fits in 80 GB and lands at a
// plausible MFU.
TEST(Estimate, Gpt3Sanity) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  cluster.nodes = 8;
  Layout layout;
  layout.tp = 8;
  layout.pp = 8;
  layout.microbatches = 64;
  layout.sequence_parallel = true;
  layout.recompute = Recompute::Selective;
  EstimateResult r =
      estimate(ModelShape{175e9, 96, 12288, 96, 2048, 51200}, cluster, layout);
  EXPECT_TRUE(r.fits) << r.memory.total();
  EXPECT_GT(r.mfu, 0.3);
  EXPECT_LT(r.mfu, 0.8);
}
