// Tests the memory estimator against the ZeRO paper's Figure 1 and the
// activation formulas of Korthikanti et al. 2022 ("Reducing Activation
// Recomputation in Large Transformer Models", Table 2 and §4).

#include "compiler/planner/memory.h"
#include "compiler/planner/stage_split.h"

#include "compiler/planner/cluster_spec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include <cmath>

using namespace llmc::planner;

namespace {

// GPT-3 175B as in Korthikanti et al. Table 3: a = 96, h = 12288, L = 96,
// s = 2048, t = 8, p = 8, b = 1. Then sbh = 25,165,824 and 5as/h = 80.
ModelShape gpt3() { return {175e9, 96, 12288, 96, 2048, 51200}; }
constexpr double kSbh = 2048.0 * 12288.0;

Layout gpt3_layout(Recompute recompute, bool sp) {
  Layout layout;
  layout.tp = 8;
  layout.pp = 8;
  layout.microbatches = 64;
  layout.recompute = recompute;
  layout.sequence_parallel = sp;
  return layout;
}

double gb(double bytes) { return std::round(bytes / 1e8) / 10; }

} // namespace

//===----------------------------------------------------------------------===//
// Model states
//===----------------------------------------------------------------------===//

// The ZeRO paper's mixed precision: fp16 parameters and gradients, and
// K = 12 bytes of fp32 master weights, momentum and variance.
constexpr StateBytes kZeroPaperMixed{2, 2, 12};

// Tests the ZeRO paper's worked example (Figure 1): Ψ = 7.5B, Nd = 64,
// K = 12: 120 GB, 31.4 GB, 16.6 GB and 1.9 GB per device.
TEST(Memory, ZeroPaperFigure1) {
  double psi = 7.5e9;
  auto total = [&](int stage) {
    return model_state_bytes(psi, 64, stage, kZeroPaperMixed).total();
  };
  EXPECT_DOUBLE_EQ(total(0), 16 * psi);                // (2+2+K)Ψ
  EXPECT_DOUBLE_EQ(total(1), 4 * psi + 12 * psi / 64); // 2Ψ+2Ψ+KΨ/Nd
  EXPECT_DOUBLE_EQ(total(2), 2 * psi + 14 * psi / 64); // 2Ψ+(2+K)Ψ/Nd
  EXPECT_DOUBLE_EQ(total(3), 16 * psi / 64);           // (2+2+K)Ψ/Nd
  EXPECT_EQ(gb(total(0)), 120.0);
  EXPECT_EQ(gb(total(1)), 31.4);
  EXPECT_EQ(gb(total(2)), 16.6);
  EXPECT_EQ(gb(total(3)), 1.9);
}

// Tests the split into params, grads and optimizer under stage 2.
TEST(Memory, ZeroStage2Breakdown) {
  MemoryBreakdown m = model_state_bytes(1e9, 8, 2, kZeroPaperMixed);
  EXPECT_DOUBLE_EQ(m.params, 2e9);
  EXPECT_DOUBLE_EQ(m.grads, 2e9 / 8);
  EXPECT_DOUBLE_EQ(m.optimizer, 12e9 / 8);
}

// Tests fp32 training: 4Ψ params + 4Ψ grads + 8Ψ Adam moments.
TEST(Memory, Fp32ModelStates) {
  MemoryBreakdown m = model_state_bytes(1e9, 4, 0, kLlmcStateBytes);
  EXPECT_DOUBLE_EQ(m.params, 4e9);
  EXPECT_DOUBLE_EQ(m.grads, 4e9);
  EXPECT_DOUBLE_EQ(m.optimizer, 8e9);
  EXPECT_DOUBLE_EQ(model_state_bytes(1e9, 4, 3, kLlmcStateBytes).total(),
                   16e9 / 4);
}

//===----------------------------------------------------------------------===//
// Activations per layer
//===----------------------------------------------------------------------===//

// Tests Eq. 1 (t = 1, no recompute): sbh·(34 + 5as/h) = 114·sbh for GPT-3.
TEST(Memory, ActivationsEquation1) {
  Layout layout;
  EXPECT_DOUBLE_EQ(layer_activation_bytes(gpt3(), layout), 114 * kSbh);
}

// Tests each row of Table 2 with t = 8:
//   no SP, no recompute: sbh(10 + 24/8 + 80/8)  = 23·sbh
//   SP:                  sbh(34/8 + 80/8)       = 14.25·sbh
//   no SP, selective:    sbh(10 + 24/8)         = 13·sbh
//   SP, selective:       sbh·34/8               = 4.25·sbh
//   full:                2·sbh (2·sbh/8 with SP, kept sequence-sharded)
TEST(Memory, ActivationsTable2) {
  auto per_layer = [](Recompute recompute, bool sp) {
    return layer_activation_bytes(gpt3(), gpt3_layout(recompute, sp));
  };
  EXPECT_DOUBLE_EQ(per_layer(Recompute::None, false), 23 * kSbh);
  EXPECT_DOUBLE_EQ(per_layer(Recompute::None, true), 14.25 * kSbh);
  EXPECT_DOUBLE_EQ(per_layer(Recompute::Selective, false), 13 * kSbh);
  EXPECT_DOUBLE_EQ(per_layer(Recompute::Selective, true), 4.25 * kSbh);
  EXPECT_DOUBLE_EQ(per_layer(Recompute::Full, false), 2 * kSbh);
  EXPECT_DOUBLE_EQ(per_layer(Recompute::Full, true), 2 * kSbh / 8);
  // 23·sbh = 578,813,952 bytes, i.e. ~0.58 GB per layer and microbatch.
  EXPECT_DOUBLE_EQ(per_layer(Recompute::None, false), 578813952.0);
}

// Tests the fp32 convention: every activation byte count doubles.
TEST(Memory, ActivationsFp32Double) {
  Layout layout = gpt3_layout(Recompute::Selective, true);
  layout.precision = Precision::FP32;
  EXPECT_DOUBLE_EQ(layer_activation_bytes(gpt3(), layout), 8.5 * kSbh);
}

//===----------------------------------------------------------------------===//
// Pipeline schedules
//===----------------------------------------------------------------------===//

// Tests stage 0's microbatches in flight: GPipe m; 1F1B min(p, m);
// interleaved p·(1 + (p-1)/(p·v)) (Korthikanti §4.2.3), 8·(1 + 7/16) = 11.5.
TEST(Memory, MicrobatchesInFlight) {
  Layout layout = gpt3_layout(Recompute::None, false);
  EXPECT_EQ(microbatches_in_flight(layout), 8);
  layout.microbatches = 4;
  EXPECT_EQ(microbatches_in_flight(layout), 4);
  layout.schedule = Schedule::GPipe;
  layout.microbatches = 64;
  EXPECT_EQ(microbatches_in_flight(layout), 64);
  layout.schedule = Schedule::Interleaved;
  layout.virtual_stages = 2;
  EXPECT_DOUBLE_EQ(microbatches_in_flight(layout), 11.5);
}

// Tests GPT-3 on t = 8, p = 8 with SP and selective recompute, 1F1B: stage 0
// holds 12 layers × 8 microbatches × 4.25·sbh, plus the embedding dropout
// mask sbh·p/t (§4.3) = 409·sbh; the attention core of one layer,
// 5as²b/t = 10·sbh, is a temporary. Model states: Ψ/64 = 2.734375e9 params
// at 16 bytes.
TEST(Memory, Gpt3StageZero) {
  MemoryBreakdown m =
      estimate_memory(gpt3(), gpt3_layout(Recompute::Selective, true));
  EXPECT_DOUBLE_EQ(m.activations, 409 * kSbh);
  EXPECT_DOUBLE_EQ(m.temporaries, 10 * kSbh);
  EXPECT_DOUBLE_EQ(m.params + m.grads + m.optimizer, 16 * 175e9 / 64);
}

// Tests a single-stage toy model by hand, where stage 0 also holds the output
// layer: s = 4, b = 2, h = 8, a = 2, v = 16, L = 2, t = 1, so sbh = 64 and
// 5as/h = 5.
//   layers: 2 × sbh(34 + 5) = 4992; embedding mask: sbh = 64;
//   output (§4.3): 4·sbh + 4·sbv = 256 + 512.
TEST(Memory, ToyModelWithOutputLayer) {
  ModelShape model{1000, 2, 8, 2, 4, 16};
  Layout layout;
  layout.micro_batch = 2;
  MemoryBreakdown m = estimate_memory(model, layout);
  EXPECT_DOUBLE_EQ(m.activations, 4992 + 64 + 768);
  EXPECT_DOUBLE_EQ(m.temporaries, 0);
  // Full recompute: 2 × 2·sbh kept + the same outer terms; one layer's
  // 39·sbh recomputed as a temporary.
  layout.recompute = Recompute::Full;
  m = estimate_memory(model, layout);
  EXPECT_DOUBLE_EQ(m.activations, 256 + 64 + 768);
  EXPECT_DOUBLE_EQ(m.temporaries, 39 * 64);
  // ZeRO-3 adds one layer's gathered params, which bf16-mixed GEMMs read
  // gathered in bf16: 1000 / 2 × 2 bytes (in fp32 × 4, and the recomputed
  // layer's activations twice as large).
  layout.zero_stage = 3;
  EXPECT_DOUBLE_EQ(estimate_memory(model, layout).temporaries, 39 * 64 + 1000);
  layout.precision = Precision::FP32;
  EXPECT_DOUBLE_EQ(estimate_memory(model, layout).temporaries,
                   2 * 39 * 64 + 2000);
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

namespace {
ModelShape model() { return ModelShape{1e9, 24, 1024, 8, 1024, 50000}; }

// Tests llmc's bf16-mixed states: fp32 master parameters, gradients and
// moments as in fp32, plus a bf16 copy of the weights for the step (2Ψ)
// where llmc-mixed-precision keeps one: not under ZeRO-3, nor in a
// pipeline; ZeRO-3 gathers bf16 weights for the GEMMs, one layer at a
// time (half fp32's gathered bytes).
TEST(Memory, Bf16MixedModelStatesAreLlmcs) {
  Layout fp32, bf16;
  fp32.precision = Precision::FP32;
  bf16.precision = Precision::BF16Mixed;
  double psi = model().params;
  auto states = [](const MemoryBreakdown &m) {
    return m.params + m.grads + m.optimizer;
  };
  EXPECT_DOUBLE_EQ(states(estimate_memory(model(), bf16)),
                   states(estimate_memory(model(), fp32)) + 2 * psi);
  fp32.dp = bf16.dp = 4;
  fp32.zero_stage = bf16.zero_stage = 3;
  EXPECT_DOUBLE_EQ(states(estimate_memory(model(), bf16)), 16 * psi / 4);
  EXPECT_DOUBLE_EQ(estimate_memory(model(), bf16).temporaries,
                   estimate_memory(model(), fp32).temporaries / 2);
  fp32.zero_stage = bf16.zero_stage = 0;
  fp32.dp = bf16.dp = 1;
  fp32.pp = bf16.pp = 2;
  fp32.microbatches = bf16.microbatches = 4;
  EXPECT_DOUBLE_EQ(states(estimate_memory(model(), bf16)),
                   states(estimate_memory(model(), fp32)));
}

std::string layout_error(Layout layout) {
  try {
    validate_layout(model(), layout);
  } catch (const PlannerError &error) {
    return error.what();
  }
  return "";
}
} // namespace

// Tests that bad layouts name the option and the constraint.
// Tests uneven pipeline stages: the split is the compiler's (balanced by
// cost, the LM head on the last stage); the memory is the fullest stage's,
// an even split's when the layers divide.
TEST(Memory, UnevenStagesSplitAsTheCompilerDoes) {
  // Equal costs: ties leave the later stages fewer layers, as Megatron.
  EXPECT_EQ(balanced_stage_layers(6, 4, 1, 0, 0),
            (std::vector<int64_t>{2, 2, 1, 1}));
  // A head as heavy as 1.5 layers moves a layer off the last stage.
  EXPECT_EQ(balanced_stage_layers(6, 4, 1, 0, 1.5),
            (std::vector<int64_t>{2, 2, 1, 1}));
  EXPECT_EQ(balanced_stage_layers(7, 2, 1, 0, 3), (std::vector<int64_t>{5, 2}));
  Layout even, uneven;
  even.pp = 4;
  uneven.pp = 5;
  EXPECT_EQ(stage_layers(model(), even), (std::vector<int64_t>(4, 6)));
  std::vector<int64_t> split = stage_layers(model(), uneven);
  ASSERT_EQ(split.size(), 5u);
  EXPECT_EQ(std::accumulate(split.begin(), split.end(), int64_t(0)), 24);
  // 24 layers on 5 stages: some stage holds 5, so a device's share of the
  // parameters is 5/24 of them, more than an even 1/5.
  double most = double(*std::max_element(split.begin(), split.end()));
  EXPECT_GE(most, 5);
  MemoryBreakdown m = estimate_memory(model(), uneven);
  MemoryBreakdown fifth =
      model_state_bytes(model().params / 5, 1, 0, kLlmcStateBytes);
  EXPECT_GT(m.params, fifth.params);
}

TEST(Memory, RejectsBadLayouts) {
  Layout layout;
  EXPECT_EQ(layout_error(layout), "");
  layout.tp = 3;
  EXPECT_EQ(layout_error(layout), "layout: tp=3 does not divide heads=8");
  layout = Layout();
  layout.pp = 25;
  EXPECT_EQ(layout_error(layout), "layout: pp*virtual_stages=25 is more "
                                  "stages than layers=24 (each holds at "
                                  "least one)");
  // Uneven stages are costed; uneven interleaved chunks are not.
  layout.pp = 5;
  EXPECT_EQ(layout_error(layout), "");
  layout.pp = 5;
  layout.virtual_stages = 2;
  layout.schedule = Schedule::Interleaved;
  layout.microbatches = 5;
  EXPECT_EQ(layout_error(layout),
            "layout: pp*virtual_stages=10 does not divide layers=24");
  layout = Layout();
  layout.zero_stage = 4;
  EXPECT_EQ(layout_error(layout), "layout: zero_stage=4 must be 0, 1, 2 or 3");
  layout = Layout();
  layout.pp = 4;
  layout.virtual_stages = 2;
  EXPECT_EQ(layout_error(layout),
            "layout: virtual_stages=2 needs the interleaved schedule");
  layout.schedule = Schedule::Interleaved;
  layout.microbatches = 6;
  EXPECT_EQ(layout_error(layout),
            "layout: interleaved: pp=4 does not divide microbatches=6");
  layout = Layout();
  layout.dp = 0;
  EXPECT_EQ(layout_error(layout), "layout: dp=0 must be at least 1");
}
