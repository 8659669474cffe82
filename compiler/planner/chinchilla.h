// The compute-budget advisor of `llmc plan --budget-device-hours`: turns a
// budget of device-hours into the compute-optimal model size, token count and
// predicted loss of Hoffmann et al. 2022 ("Chinchilla"), and a model shape.
#pragma once

#include "compiler/planner/cluster_spec.h"
#include "compiler/planner/memory.h"

namespace llmc::planner {

//===----------------------------------------------------------------------===//
// The parametric loss fit
//===----------------------------------------------------------------------===//

// Hoffmann et al. 2022, §3.3 (Approach 3), Eq. (10), published constants:
//   L(N, D) = E + A / N^α + B / D^β
// with N parameters and D training tokens.
struct LossFit {
  double E = 1.69;
  double A = 406.4;
  double B = 410.7;
  double alpha = 0.34;
  double beta = 0.28;
};

// A split of a compute budget into parameters and tokens.
struct Allocation {
  double params = 0; // N
  double tokens = 0; // D
};

// L(N, D). Throws PlannerError unless N and D are positive.
double chinchilla_loss(double params, double tokens, const LossFit &fit = {});

// The minimum of L(N, D) on the compute curve C = 6·N·D (Kaplan et al.
// 2020's 6 FLOPs per parameter and token). Substituting D = C/(6N),
//   dL/dN = -α·A·N^(-α-1) + β·B·(C/6)^(-β)·N^(β-1) = 0
//   ⇔ N^(α+β) = (α·A / (β·B)) · (C/6)^β,
// so N_opt = G·(C/6)^a and D_opt = (C/6)/N_opt = G^(-1)·(C/6)^b with
//   a = β/(α+β), b = α/(α+β), G = (α·A / (β·B))^(1/(α+β)).
// L is convex in log N along the curve, so this is the only minimum.
// With the published constants a = 0.4516, b = 0.5484, G = 1.3447.
// Throws PlannerError unless C is positive.
Allocation compute_optimal(double compute_flops, const LossFit &fit = {});

// The paper's rule of thumb, about 20 tokens per parameter (Approaches 1
// and 2, Table 3): D = 20·N on C = 6·N·D, so N = sqrt(C / 120).
inline constexpr double kTokensPerParamRule = 20;
Allocation twenty_tokens_per_param(double compute_flops);

//===----------------------------------------------------------------------===//
// Budgets and shapes
//===----------------------------------------------------------------------===//

// Model FLOPs a budget buys: C = device_hours · 3600 s · peak bf16 FLOP/s of
// one device · assumed MFU. The devices used do not matter: N devices for
// H/N hours is the same budget. Throws PlannerError for a non-positive
// budget, an MFU outside (0, 1] or a cluster without a bf16 peak.
double budget_flops(double device_hours, const ClusterSpec &cluster,
                    double assumed_mfu = 0.4);

// The shape family: GPT-3 / Chinchilla proportions (Brown et al. 2020,
// Table 2.1; Hoffmann et al. 2022, Table A9): hidden a multiple of 128,
// heads = hidden/128 (head size 128), aspect ratio hidden/layers in
// [64, 128] (Kaplan et al. 2020 find loss flat over that range; GPT-3 175B
// is 128, Chinchilla 70B is 102). By default the sequence is 2048, as
// Chinchilla was trained, and the vocabulary 51200, GPT-2's 50257 padded to
// a multiple of 128 as Megatron does, so that the embedding GEMM tiles well;
// a user's own sequence length and vocabulary replace them.
inline constexpr int kAdvisedVocab = 51200;
inline constexpr int kAdvisedSeq = 2048;
inline constexpr int kAdvisedHeadDim = 128;
inline constexpr double kMinAspect = 64, kMaxAspect = 128;

struct ShapeFamily {
  int seq = kAdvisedSeq;
  int vocab = kAdvisedVocab;
  // The widest tensor parallelism the cluster offers (its devices per
  // node). From max_tp heads up the heads are even (29 heads could only
  // run tp=1; narrower models fit one device and need none), and among
  // shapes within 1% of the request those whose heads split over more of a
  // node's devices come first.
  int max_tp = 8;
};

// The shape whose params = 12·L·h² + vocab·h (Kaplan's count: attention
// 4h², MLP 8h² per layer, tied embedding) is nearest to `params`. In order
// of preference: within 1% of `params`, then the widest tensor parallelism
// (up to max_tp) the heads allow, then the aspect ratio nearest to
// sqrt(64·128) ≈ 90.5 (the middle of the range on a log scale), else the
// smallest error. The result's params is that count, not the request.
// Throws PlannerError when no shape of the family is within 5%.
ModelShape shape_for_params(double params, const ShapeFamily &family = {});

//===----------------------------------------------------------------------===//
// The advice
//===----------------------------------------------------------------------===//

// compute_flops is C; params, tokens and loss are Approach 3's optimum
// N_opt, D_opt and L(N_opt, D_opt); model is shape_for_params(N_opt) (whose
// params is within 5% of N_opt); tokens_per_param is D_opt / N_opt.
// twenty_tokens is the rule-of-thumb split of the same C, for comparison.
struct BudgetAdvice {
  double compute_flops = 0, params = 0, tokens = 0, loss = 0;
  ModelShape model;
  double tokens_per_param = 0;
  Allocation twenty_tokens;
};

// Throws PlannerError as budget_flops and shape_for_params do.
// The family's max_tp is the cluster's devices per node.
BudgetAdvice advise_budget(double device_hours, const ClusterSpec &cluster,
                           double assumed_mfu = 0.4, ShapeFamily family = {});

} // namespace llmc::planner
