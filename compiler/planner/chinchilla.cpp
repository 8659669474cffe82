// The compute-budget advisor; formulas and sources in chinchilla.h.

#include "compiler/planner/chinchilla.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace llmc::planner {

namespace {

// Options are named as on the command line, `llmc plan --budget-*`.
[[noreturn]] void fail(const std::string &message) {
  throw PlannerError("budget: " + message);
}

// %g-style, so that 1e-300 and 5.76e+23 both read well in a message.
std::string show(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

void require_positive(const char *what, double value) {
  if (!(value > 0) || !std::isfinite(value))
    fail(std::string(what) + "=" + show(value) +
         " must be positive and finite");
}

} // namespace

//===----------------------------------------------------------------------===//
// The parametric loss fit
//===----------------------------------------------------------------------===//

double chinchilla_loss(double params, double tokens, const LossFit &fit) {
  require_positive("params", params);
  require_positive("tokens", tokens);
  return fit.E + fit.A / std::pow(params, fit.alpha) +
         fit.B / std::pow(tokens, fit.beta);
}

Allocation compute_optimal(double compute_flops, const LossFit &fit) {
  require_positive("compute", compute_flops);
  double sum = fit.alpha + fit.beta;
  double g = std::pow(fit.alpha * fit.A / (fit.beta * fit.B), 1 / sum);
  double c6 = compute_flops / 6;
  Allocation opt;
  opt.params = g * std::pow(c6, fit.beta / sum);
  // D = (C/6)/N rather than G⁻¹·(C/6)^b: the same in exact arithmetic, and
  // it keeps 6·N·D = C to the last bit.
  opt.tokens = c6 / opt.params;
  return opt;
}

Allocation twenty_tokens_per_param(double compute_flops) {
  require_positive("compute", compute_flops);
  Allocation rule;
  rule.params = std::sqrt(compute_flops / (6 * kTokensPerParamRule));
  rule.tokens = kTokensPerParamRule * rule.params;
  return rule;
}

//===----------------------------------------------------------------------===//
// Budgets and shapes
//===----------------------------------------------------------------------===//

double budget_flops(double device_hours, const ClusterSpec &cluster,
                    double assumed_mfu) {
  require_positive("device_hours", device_hours);
  if (!(assumed_mfu > 0 && assumed_mfu <= 1))
    fail("mfu=" + show(assumed_mfu) + " must be in (0, 1]");
  double peak = cluster.peak_flops.bf16;
  if (!(peak > 0))
    fail("cluster '" + cluster.name +
         "' has no bf16 peak (peak_flops.bf16=" + show(peak) + ")");
  return device_hours * 3600 * peak * assumed_mfu;
}

namespace {

struct ShapeChoice {
  ModelShape shape;
  double error = std::numeric_limits<double>::infinity(); // |Ψ - N| / N
  double aspect_distance = 0;                             // |ln((h/L) / 90.5)|
  int tp = 1; // the widest tensor parallelism of a node the heads allow
};

// The preference order of shape_for_params: within 1% first, then the
// widest tensor parallelism, then the aspect ratio nearest the middle, else
// the smaller error.
bool better(const ShapeChoice &a, const ShapeChoice &b) {
  constexpr double kClose = 0.01;
  bool a_close = a.error <= kClose, b_close = b.error <= kClose;
  if (a_close != b_close)
    return a_close;
  if (a_close && a.tp != b.tp)
    return a.tp > b.tp;
  if (a_close)
    return a.aspect_distance < b.aspect_distance;
  return a.error < b.error;
}

} // namespace

ModelShape shape_for_params(double params, const ShapeFamily &family) {
  require_positive("params", params);
  constexpr double kTolerance = 0.05;
  const double v = family.vocab;
  const double mid_aspect = std::sqrt(kMinAspect * kMaxAspect);
  ShapeChoice best;
  for (long long k = 1;; ++k) {
    double h = double(kAdvisedHeadDim) * k;
    double per_layer = 12 * h * h;
    double min_layers = std::max(1.0, std::ceil(h / kMaxAspect));
    double max_layers = std::floor(h / kMinAspect);
    // The smallest model of this width only grows with h: stop once it is
    // past the tolerance.
    if (min_layers * per_layer + v * h > params * (1 + kTolerance))
      break;
    // An odd number of heads (29, say) leaves tensor parallelism nothing
    // to split; models narrower than a node's tensor parallelism (hidden
    // below 1024 on 8 devices per node) fit one device and need none.
    if (max_layers < min_layers || (k >= family.max_tp && k % 2 != 0))
      continue;
    double layers = std::round((params - v * h) / per_layer);
    layers = std::min(std::max(layers, min_layers), max_layers);
    ShapeChoice choice;
    choice.shape.params = per_layer * layers + v * h;
    choice.shape.layers = int(layers);
    choice.shape.hidden = int(h);
    choice.shape.heads = int(k);
    choice.shape.seq = family.seq;
    choice.shape.vocab = family.vocab;
    choice.error = std::abs(choice.shape.params - params) / params;
    choice.aspect_distance = std::abs(std::log(h / layers / mid_aspect));
    // Tensor-parallel groups take a power of two of a node's devices.
    while (choice.tp * 2 <= family.max_tp && k % (choice.tp * 2) == 0)
      choice.tp *= 2;
    if (better(choice, best))
      best = choice;
  }
  if (!(best.error <= kTolerance))
    fail("no model with hidden a multiple of 128, hidden/layers in [64, 128], "
         "an even number of heads (from " +
         std::to_string(family.max_tp) + ") and vocab " +
         std::to_string(family.vocab) + " has within 5% of " + show(params) +
         " parameters");
  return best.shape;
}

//===----------------------------------------------------------------------===//
// The advice
//===----------------------------------------------------------------------===//

BudgetAdvice advise_budget(double device_hours, const ClusterSpec &cluster,
                           double assumed_mfu, ShapeFamily family) {
  family.max_tp = cluster.devices_per_node;
  BudgetAdvice advice;
  advice.compute_flops = budget_flops(device_hours, cluster, assumed_mfu);
  Allocation opt = compute_optimal(advice.compute_flops);
  advice.params = opt.params;
  advice.tokens = opt.tokens;
  advice.loss = chinchilla_loss(opt.params, opt.tokens);
  advice.model = shape_for_params(opt.params, family);
  advice.tokens_per_param = opt.tokens / opt.params;
  advice.twenty_tokens = twenty_tokens_per_param(advice.compute_flops);
  return advice;
}

} // namespace llmc::planner
