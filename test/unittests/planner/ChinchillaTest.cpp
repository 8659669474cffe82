// Tests the compute-budget advisor against Hoffmann et al. 2022's fit, worked
// by hand from the published constants, and against brute force.

#include "compiler/planner/chinchilla.h"

#include "TestClusters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

using namespace llmc::planner;

namespace {

// The minimum of L(N, C/(6N)) over a log grid of N from 1e6 to 1e15, 1e5
// points (a step of 0.02% in N): the compute-optimal N found by brute force.
double brute_force_optimal_params(double compute) {
  constexpr int kSteps = 100000;
  double lo = std::log(1e6), hi = std::log(1e15);
  double best_n = 0, best_loss = INFINITY;
  for (int i = 0; i <= kSteps; ++i) {
    double n = std::exp(lo + (hi - lo) * i / kSteps);
    double loss = chinchilla_loss(n, compute / (6 * n));
    if (loss < best_loss) {
      best_loss = loss;
      best_n = n;
    }
  }
  return best_n;
}

ClusterSpec a100_cluster() {
  return load_cluster_spec(std::string(LLMC_SOURCE_DIR) +
                           "/examples/clusters/dgx-a100-80gb-hdr.json");
}

// Expects `call` to throw PlannerError whose message contains `needle`.
template <typename F> void expect_error(F call, const std::string &needle) {
  try {
    call();
    FAIL() << "no PlannerError, expected one naming '" << needle << "'";
  } catch (const PlannerError &error) {
    EXPECT_NE(std::string(error.what()).find(needle), std::string::npos)
        << error.what();
  }
}

} // namespace

// Tests L at Chinchilla's own size, N = 70e9, D = 1.4e12, by hand:
// 406.4 / 70e9^0.34 = 0.08349, 410.7 / 1.4e12^0.28 = 0.16316, so
// L = 1.69 + 0.08349 + 0.16316 = 1.93665.
TEST(Chinchilla, LossAtChinchillaSize) {
  double by_hand =
      1.69 + 406.4 / std::pow(70e9, 0.34) + 410.7 / std::pow(1.4e12, 0.28);
  EXPECT_DOUBLE_EQ(chinchilla_loss(70e9, 1.4e12), by_hand);
  EXPECT_NEAR(chinchilla_loss(70e9, 1.4e12), 1.93665, 1e-5);
}

// Tests the closed form at Gopher's budget, C = 5.76e23 (Hoffmann et al.,
// Table 3). From the published constants: a = 0.28/0.62 = 0.45161,
// G = (0.34·406.4 / (0.28·410.7))^(1/0.62) = 1.20157^1.6129 = 1.34471, so
// N = 1.34471 · (9.6e22)^0.45161 = 32.19e9 and D = 9.6e22 / N = 2.982e12
// (93 tokens per parameter), L = 1.9307. The paper's Figure 1 and Table A3
// put Approach 3's optimum near 40B params: its fit was made with unrounded
// constants, and the rounded ones quoted in Eq. (10) move the optimum (as
// Besiroglu et al. 2024 note in their replication); we follow Eq. (10).
TEST(Chinchilla, ClosedFormAtGopherBudget) {
  Allocation opt = compute_optimal(5.76e23);
  EXPECT_NEAR(opt.params / 32.19e9, 1, 1e-3);
  EXPECT_NEAR(opt.tokens / 2.982e12, 1, 1e-3);
  EXPECT_DOUBLE_EQ(6 * opt.params * opt.tokens, 5.76e23);
  EXPECT_NEAR(chinchilla_loss(opt.params, opt.tokens), 1.9307, 1e-4);
  // The exponents of the closed form: D = G⁻¹ · (C/6)^b, b = 0.34/0.62.
  double g = std::pow(0.34 * 406.4 / (0.28 * 410.7), 1 / 0.62);
  EXPECT_NEAR(g, 1.34471, 1e-5);
  EXPECT_NEAR(opt.tokens / (std::pow(9.6e22, 0.34 / 0.62) / g), 1, 1e-12);
}

// Tests that the closed form is the minimum of L on the C = 6ND curve, to
// within 1% of a brute-force search, from 1e18 to 1e26 FLOPs.
TEST(Chinchilla, ClosedFormMinimisesLossOnComputeCurve) {
  for (double compute : {1e18, 1e20, 5.76e23, 1e24, 1e26}) {
    double closed = compute_optimal(compute).params;
    EXPECT_NEAR(brute_force_optimal_params(compute) / closed, 1, 0.01)
        << "C = " << compute;
    // Moving 10% either way along the curve costs loss.
    double at = chinchilla_loss(closed, compute / (6 * closed));
    for (double factor : {0.9, 1.1}) {
      double n = closed * factor;
      EXPECT_GT(chinchilla_loss(n, compute / (6 * n)), at);
    }
  }
}

// Tests the 20-tokens rule: N = sqrt(C/120), so C = 1.2e22 gives N = 1e10,
// D = 2e11.
TEST(Chinchilla, TwentyTokensPerParam) {
  Allocation rule = twenty_tokens_per_param(1.2e22);
  EXPECT_DOUBLE_EQ(rule.params, 1e10);
  EXPECT_DOUBLE_EQ(rule.tokens, 2e11);
}

// Tests the budget in FLOPs: 1000 device-hours at 100 TF and 40% MFU is
// 1000 · 3600 · 1e14 · 0.4 = 1.44e20.
TEST(Chinchilla, BudgetFlops) {
  ClusterSpec cluster = llmc::planner::testing::two_node_cluster();
  EXPECT_DOUBLE_EQ(budget_flops(1000, cluster), 1.44e20);
  EXPECT_DOUBLE_EQ(budget_flops(1000, cluster, 1.0), 3.6e20);
}

// Tests that the shapes keep to the family and within 5% of the request,
// from 56M to 1T parameters.
TEST(Chinchilla, ShapeForParams) {
  for (double params : {5.6e7, 1e8, 1e9, 1e10, 70e9, 175e9, 1e12}) {
    ModelShape shape = shape_for_params(params);
    double count = 12.0 * shape.layers * double(shape.hidden) * shape.hidden +
                   double(shape.vocab) * shape.hidden;
    EXPECT_DOUBLE_EQ(shape.params, count);
    EXPECT_NEAR(shape.params / params, 1, 0.05) << "N = " << params;
    EXPECT_EQ(shape.hidden % 128, 0);
    EXPECT_EQ(shape.heads, shape.hidden / 128);
    EXPECT_TRUE(shape.heads < 8 || shape.heads % 2 == 0) << shape.heads;
    double aspect = double(shape.hidden) / shape.layers;
    EXPECT_GE(aspect, 64);
    EXPECT_LE(aspect, 128);
    EXPECT_EQ(shape.vocab, 51200);
    EXPECT_EQ(shape.seq, 2048);
  }
}

// Tests that proposed shapes split their heads over a node's tensor
// parallelism: near 6.97e9 parameters the shape of the best aspect ratio had
// hidden 3712, 29 heads (a prime), which only tp=1 divides; now 28 heads
// (hidden 3584, 44 layers, 0.1% off), which tp=4 splits. Hidden 4096 (tp=8)
// is 1.2% off. And that a given sequence length and vocabulary are kept.
TEST(Chinchilla, ShapesTheSearchCanSplit) {
  ShapeFamily node_of_8;
  ModelShape shape = shape_for_params(6.97e9, node_of_8);
  EXPECT_EQ(shape.heads, 28);
  EXPECT_EQ(shape.layers, 44);
  EXPECT_NEAR(shape.params / 6.97e9, 1, 0.01);
  ShapeFamily llama{4096, 32000, 8};
  ModelShape own = shape_for_params(1e9, llama);
  EXPECT_EQ(own.vocab, 32000);
  EXPECT_EQ(own.seq, 4096);
  EXPECT_DOUBLE_EQ(own.params,
                   12.0 * own.layers * double(own.hidden) * own.hidden +
                       32000.0 * own.hidden);
  // 70B: hidden 8192 (64 heads, 86 layers) splits 8 ways.
  EXPECT_EQ(shape_for_params(70e9, node_of_8).heads % 8, 0);
}

// Tests the advice for 100,000 A100-hours at 40% MFU:
// C = 1e5 · 3600 · 312e12 · 0.4 = 4.4928e22, N = 1.34471 · (7.488e21)^0.45161
// = 10.17e9, D = 7.36e11 (72 tokens/param), L = 2.0462; the 20-tokens rule
// gives N = sqrt(4.4928e22 / 120) = 19.35e9. The shape: hidden 4096,
// 49 layers, 12·49·4096² + 51200·4096 = 10.07e9 (1% under N).
TEST(Chinchilla, AdviceFor100kA100Hours) {
  BudgetAdvice advice = advise_budget(1e5, a100_cluster());
  EXPECT_DOUBLE_EQ(advice.compute_flops, 4.4928e22);
  EXPECT_NEAR(advice.params / 10.171e9, 1, 1e-3);
  EXPECT_NEAR(advice.tokens / 7.3619e11, 1, 1e-3);
  EXPECT_NEAR(advice.tokens_per_param, 72.38, 0.01);
  EXPECT_NEAR(advice.loss, 2.0462, 1e-4);
  EXPECT_EQ(advice.model.hidden, 4096);
  EXPECT_EQ(advice.model.layers, 49);
  EXPECT_EQ(advice.model.heads, 32);
  EXPECT_NEAR(advice.model.params / advice.params, 1, 0.05);
  EXPECT_NEAR(advice.twenty_tokens.params / 19.349e9, 1, 1e-3);
}

// Tests that more budget gives a larger model, more tokens and a lower loss.
TEST(Chinchilla, MoreBudgetMoreParamsAndTokens) {
  ClusterSpec cluster = a100_cluster();
  BudgetAdvice previous = advise_budget(100, cluster);
  for (double hours : {1e3, 1e4, 1e5, 1e6, 1e7}) {
    BudgetAdvice advice = advise_budget(hours, cluster);
    EXPECT_GT(advice.params, previous.params) << hours << " hours";
    EXPECT_GT(advice.tokens, previous.tokens) << hours << " hours";
    EXPECT_GE(advice.model.params, previous.model.params) << hours << " hours";
    EXPECT_LT(advice.loss, previous.loss) << hours << " hours";
    previous = advice;
  }
}

// Tests that bad budgets fail with the option and the constraint.
TEST(Chinchilla, Errors) {
  ClusterSpec cluster = a100_cluster();
  expect_error([&] { advise_budget(0, cluster); },
               "device_hours=0 must be positive");
  expect_error([&] { advise_budget(-5, cluster); },
               "device_hours=-5 must be positive");
  expect_error([&] { advise_budget(100, cluster, 0); },
               "mfu=0 must be in (0, 1]");
  expect_error([&] { advise_budget(100, cluster, 1.5); },
               "mfu=1.5 must be in (0, 1]");
  ClusterSpec no_bf16 = cluster;
  no_bf16.peak_flops.bf16 = 0;
  expect_error([&] { advise_budget(100, no_bf16); }, "no bf16 peak");
  // 2e7 parameters: the embedding alone (51200·256) is most of it, and no
  // shape of the family comes within 5%.
  expect_error([&] { shape_for_params(2e7); }, "within 5% of 2e+07");
  expect_error([&] { compute_optimal(-1); }, "compute=-1 must be positive");
}
