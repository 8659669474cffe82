// Tests every gradient rule of the llm dialect end to end: each case is a
// scalar loss `@loss`, differentiated by llmc-autodiff, lowered to a plan and
// run by the CPU executor; its gradients must match central finite
// differences of the lowered `@loss` itself.

#include "compiler/PlanExport.h"
#include "compiler/Registration.h"
#include "dialects/llm/IR/LLMDialect.h"
#include "passes/Passes.h"
#include "runtime/executor.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace mlir;
using llmc::Executor;
namespace planfile = llmc::planfile;

namespace {

//===----------------------------------------------------------------------===//
// Tolerances
//===----------------------------------------------------------------------===//

// Every kernel computes in float32 and the loss (a mean cross-entropy of
// order 1) is read back as a float, so one evaluation carries a rounding
// error of ~1e-6. With h = 1e-2 the central difference's rounding error is
// at most ~1e-6 / h = 1e-4 and its truncation error h^2/6 * f''' ~ 2e-5
// (values are of order 1, logits at most ~4). A gradient element passes when
//   |analytic - numeric| <= 2e-3 * max(1, |numeric|);
// correct rules stay below 2e-5 in every case here. The cases keep few
// tokens, so gradient elements are of order 0.05-0.5 and a wrong transpose,
// a missing batch sum or a dropped term is off by far more than 2e-3
// (AutodiffFDMetaTest shows the check rejecting such mistakes).
constexpr float kStep = 1e-2f;
constexpr double kTolerance = 2e-3;
// Tensors up to this size are checked element by element; larger ones along
// one random direction plus kSampledElements random elements.
constexpr int64_t kFullCheckElements = 160;
constexpr int kSampledElements = 12;
// Some element of every parameter's gradient must be at least this large, so
// a loss that does not depend on a parameter cannot pass vacuously.
constexpr double kMinGradient = 1e-2;

//===----------------------------------------------------------------------===//
// Compiling and running a loss
//===----------------------------------------------------------------------===//

MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    llmc::registerDialects(registry);
    auto *c = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

/// One argument of @loss: a parameter (llm.param) or an input (llm.input).
struct Argument {
  std::string name;
  bool isParam = false;
  bool isInt = false;
};

/// A parsed loss with seeded values for every argument.
struct Case {
  OwningOpRef<ModuleOp> module;
  std::vector<Argument> args;
  std::map<std::string, std::vector<float>> floats;
  std::map<std::string, std::vector<int32_t>> ints;
};

/// Reads the name and kind of argument `i` of @loss.
::testing::AssertionResult describeArgument(func::FuncOp loss, unsigned i,
                                            Argument &out) {
  auto param =
      loss.getArgAttrOfType<StringAttr>(i, llm::LLMDialect::kParamAttrName);
  auto input =
      loss.getArgAttrOfType<StringAttr>(i, llm::LLMDialect::kInputAttrName);
  if (!param && !input)
    return ::testing::AssertionFailure()
           << "argument " << i << " has neither llm.param nor llm.input";
  out.isParam = bool(param);
  out.name = (param ? param : input).str();
  out.isInt = getElementTypeOrSelf(loss.getArgumentTypes()[i]).isInteger(32);
  return ::testing::AssertionSuccess();
}

/// Parses `ir` and draws values: floats uniform in [-amplitude, amplitude),
/// integer inputs uniform in [0, idBounds[name]).
::testing::AssertionResult makeCase(const std::string &ir,
                                    const std::map<std::string, int> &idBounds,
                                    float amplitude, uint32_t seed, Case &out) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context(), [&](Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return success();
  });
  out.module = parseSourceString<ModuleOp>(ir, &context());
  if (!out.module)
    return ::testing::AssertionFailure() << "cannot parse:\n" << diagnostics;
  auto loss = out.module->lookupSymbol<func::FuncOp>("loss");
  if (!loss)
    return ::testing::AssertionFailure() << "no func @loss";
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-amplitude, amplitude);
  for (unsigned i = 0; i < loss.getNumArguments(); ++i) {
    Argument a;
    if (auto ok = describeArgument(loss, i, a); !ok)
      return ok;
    int64_t n =
        cast<RankedTensorType>(loss.getArgumentTypes()[i]).getNumElements();
    if (!a.isInt) {
      std::vector<float> &values = out.floats[a.name];
      for (int64_t e = 0; e < n; ++e)
        values.push_back(uniform(rng));
    } else if (auto bound = idBounds.find(a.name); bound != idBounds.end()) {
      std::uniform_int_distribution<int32_t> id(0, bound->second - 1);
      std::vector<int32_t> &values = out.ints[a.name];
      for (int64_t e = 0; e < n; ++e)
        values.push_back(id(rng));
    } else {
      return ::testing::AssertionFailure() << "no id bound for " << a.name;
    }
    out.args.push_back(a);
  }
  return ::testing::AssertionSuccess();
}

/// Lowers a clone of `source`'s @loss (with `differentiate`, the @loss_grad
/// llmc-autodiff builds from it) to a plan and loads it into an executor.
::testing::AssertionResult lower(ModuleOp source, bool differentiate,
                                 std::unique_ptr<Executor> &out) {
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context(), [&](Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module = source.clone();
  auto loss = module->lookupSymbol<func::FuncOp>("loss");
  // Names the forward program's result so the lowering makes it an output.
  loss.setResultAttr(0, llm::kOutputAttrName,
                     StringAttr::get(&context(), "loss"));
  std::string program = differentiate ? "loss_grad" : "loss";
  PassManager pm(&context());
  if (differentiate)
    pm.addPass(llm::createAutodiff(llm::AutodiffOptions{"loss"}));
  pm.addPass(llm::createLowerToPlan(llm::LowerToPlanOptions{program}));
  pm.addNestedPass<func::FuncOp>(llm::createPlanMemory());
  if (failed(pm.run(*module)))
    return ::testing::AssertionFailure()
           << "lowering @" << program << " failed:\n"
           << diagnostics;
  llvm::Expected<planfile::Plan> plan = llmc::exportPlan(
      module->lookupSymbol<func::FuncOp>(program), planfile::ModelInfo{});
  if (!plan)
    return ::testing::AssertionFailure() << llvm::toString(plan.takeError());
  out = std::make_unique<Executor>(std::move(*plan));
  return ::testing::AssertionSuccess();
}

/// Copies the case's values into the executor's parameter and input buffers.
::testing::AssertionResult load(Executor &exec, const Case &c) {
  for (const Argument &a : c.args) {
    int t =
        exec.find_tensor(a.name, a.isParam ? planfile::PARAM : planfile::INPUT);
    if (t < 0)
      return ::testing::AssertionFailure() << "no buffer for " << a.name;
    if (a.isInt)
      std::copy(c.ints.at(a.name).begin(), c.ints.at(a.name).end(),
                exec.i32(t));
    else
      std::copy(c.floats.at(a.name).begin(), c.floats.at(a.name).end(),
                exec.f32(t));
  }
  return ::testing::AssertionSuccess();
}

/// The loss and every parameter's gradient from one run of @loss_grad.
struct Gradients {
  float loss = 0;
  std::map<std::string, std::vector<float>> grads;
};

::testing::AssertionResult analyticGradients(const Case &c, Gradients &out) {
  std::unique_ptr<Executor> exec;
  if (auto ok = lower(*c.module, /*differentiate=*/true, exec); !ok)
    return ok;
  if (auto ok = load(*exec, c); !ok)
    return ok;
  exec->run({});
  out.loss = exec->output("loss");
  // Read right after run(): gradients are the program's persistent results.
  for (const Argument &a : c.args) {
    if (!a.isParam)
      continue;
    int t = exec->find_tensor(a.name, planfile::GRAD);
    if (t < 0)
      return ::testing::AssertionFailure()
             << "the plan of @loss_grad has no GRAD buffer named '" << a.name
             << "'";
    const float *g = exec->f32(t);
    out.grads[a.name].assign(g, g + exec->num_elements(t));
  }
  return ::testing::AssertionSuccess();
}

//===----------------------------------------------------------------------===//
// Finite differences
//===----------------------------------------------------------------------===//

/// The worst mismatch seen, for the failure message.
struct Worst {
  std::string where;
  double analytic = 0, numeric = 0, excess = -1, largestNumeric = 0;
  int checked = 0;

  void add(const std::string &at, double a, double n) {
    ++checked;
    largestNumeric = std::max(largestNumeric, std::abs(n));
    double e = std::abs(a - n) / std::max(1.0, std::abs(n));
    if (e > excess) {
      where = at;
      analytic = a;
      numeric = n;
      excess = e;
    }
  }
};

/// Compares `analytic` with central differences of `loss` in the parameter
/// buffer `x` of `n` elements.
Worst compareParam(const std::string &name, float *x, int64_t n,
                   const std::vector<float> &analytic,
                   const std::function<double()> &loss, std::mt19937 &rng) {
  Worst worst;
  auto element = [&](int64_t i) {
    float x0 = x[i], up = x0 + kStep, down = x0 - kStep;
    x[i] = up;
    double lossUp = loss();
    x[i] = down;
    double lossDown = loss();
    x[i] = x0;
    worst.add(llvm::formatv("{0}[{1}]", name, i).str(), analytic[i],
              (lossUp - lossDown) / (double(up) - double(down)));
  };
  if (n <= kFullCheckElements) {
    for (int64_t i = 0; i < n; ++i)
      element(i);
    return worst;
  }
  std::uniform_int_distribution<int64_t> index(0, n - 1);
  for (int s = 0; s < kSampledElements; ++s)
    element(index(rng));
  // Along a random +-1 direction v: <grad, v> against (L(x+hv) - L(x-hv))/2h.
  std::vector<float> x0(x, x + n), sign(n);
  std::bernoulli_distribution coin;
  for (float &s : sign)
    s = coin(rng) ? 1.0f : -1.0f;
  double directional = 0;
  for (int64_t i = 0; i < n; ++i) {
    float up = x0[i] + kStep * sign[i], down = x0[i] - kStep * sign[i];
    directional += analytic[i] * (double(up) - double(down));
    x[i] = up;
  }
  double lossUp = loss();
  for (int64_t i = 0; i < n; ++i)
    x[i] = x0[i] - kStep * sign[i];
  double lossDown = loss();
  std::copy(x0.begin(), x0.end(), x);
  worst.add(name + " along a random direction", directional / (2 * kStep),
            (lossUp - lossDown) / (2 * kStep));
  return worst;
}

/// Checks `g` against finite differences of the lowered forward @loss.
::testing::AssertionResult
matchesFiniteDifferences(const Case &c, const Gradients &g,
                         double tolerance = kTolerance) {
  std::unique_ptr<Executor> exec;
  if (auto ok = lower(*c.module, /*differentiate=*/false, exec); !ok)
    return ok;
  if (auto ok = load(*exec, c); !ok)
    return ok;
  auto loss = [&] {
    exec->run({});
    return double(exec->output("loss"));
  };
  double forward = loss();
  if (std::abs(forward - g.loss) > 1e-5 * std::max(1.0, std::abs(forward)))
    return ::testing::AssertionFailure() << "@loss_grad's loss " << g.loss
                                         << " differs from @loss's " << forward;
  std::mt19937 rng(1234);
  for (const Argument &a : c.args) {
    if (!a.isParam)
      continue;
    int t = exec->find_tensor(a.name, planfile::PARAM);
    if (g.grads.at(a.name).size() != size_t(exec->num_elements(t)))
      return ::testing::AssertionFailure()
             << "the gradient of " << a.name << " has "
             << g.grads.at(a.name).size() << " elements, the parameter "
             << exec->num_elements(t);
    Worst w = compareParam(a.name, exec->f32(t), exec->num_elements(t),
                           g.grads.at(a.name), loss, rng);
    if (w.excess > tolerance)
      return ::testing::AssertionFailure()
             << w.where << ": analytic " << w.analytic << " vs numeric "
             << w.numeric << " (worst of " << w.checked << " checks)";
    if (w.largestNumeric < kMinGradient)
      return ::testing::AssertionFailure()
             << "the loss barely depends on " << a.name
             << " (largest numeric gradient " << w.largestNumeric << ")";
  }
  return ::testing::AssertionSuccess();
}

/// The whole check of one loss: analytic gradients, then finite differences.
/// Float arguments are drawn from [-amplitude, amplitude).
::testing::AssertionResult
gradientsMatch(const std::string &ir,
               const std::map<std::string, int> &idBounds = {},
               float amplitude = 1.0f, double tolerance = kTolerance) {
  Case c;
  if (auto ok = makeCase(ir, idBounds, amplitude, /*seed=*/7, c); !ok)
    return ok;
  Gradients g;
  if (auto ok = analyticGradients(c, g); !ok)
    return ok;
  return matchesFiniteDifferences(c, g, tolerance);
}

/// Most cases end in a cross-entropy whose targets are in [0, V).
std::map<std::string, int> targets(int vocab) { return {{"targets", vocab}}; }

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

/// The rhs of a matmul: one matrix for a rank-2 lhs, one matrix shared by a
/// batched lhs (a weight), or a batch of matrices like the lhs.
enum class Rhs { Matrix, Shared, Batched };

struct MatmulCase {
  bool transposeLhs, transposeRhs;
  Rhs rhs;
  bool bias;
};

/// op(lhs) is 3x5 and op(rhs) 5x4 (M, K, N all different), batched by 2.
std::string matmulLoss(const MatmulCase &m) {
  std::string lhsBatch = m.rhs == Rhs::Matrix ? "" : "2x";
  std::string rhsBatch = m.rhs == Rhs::Batched ? "2x" : "";
  std::string lhs = lhsBatch + (m.transposeLhs ? "5x3" : "3x5");
  std::string rhs = rhsBatch + (m.transposeRhs ? "4x5" : "5x4");
  std::string flags = std::string(m.transposeLhs ? " transpose_lhs" : "") +
                      (m.transposeRhs ? " transpose_rhs" : "");
  return llvm::formatv(R"mlir(
func.func @loss(%a: tensor<{0}xf32> {{llm.param = "p0"}, %b: tensor<{1}xf32> {{llm.param = "p1"},{6}
                %t: tensor<{2}3xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %y = llm.matmul %a, %b{3}{4} : (tensor<{0}xf32>, tensor<{1}xf32>{5}) -> tensor<{2}3x4xf32>
  %l = llm.cross_entropy %y, %t : (tensor<{2}3x4xf32>, tensor<{2}3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                       lhs, rhs, lhsBatch, m.bias ? ", %bias" : "", flags,
                       m.bias ? ", tensor<4xf32>" : "",
                       m.bias ? R"( %bias: tensor<4xf32> {llm.param = "p2"},)"
                              : "")
      .str();
}

class MatmulGradTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(MatmulGradTest, MatchesFiniteDifferences) {
  EXPECT_TRUE(gradientsMatch(matmulLoss(GetParam()), targets(4)));
}

void PrintTo(const MatmulCase &m, std::ostream *os) {
  const char *rhs[] = {"matrix", "shared", "batched"};
  *os << "{transpose_lhs=" << m.transposeLhs
      << ", transpose_rhs=" << m.transposeRhs << ", rhs=" << rhs[int(m.rhs)]
      << ", bias=" << m.bias << "}";
}

std::string matmulName(const ::testing::TestParamInfo<MatmulCase> &info) {
  const MatmulCase &m = info.param;
  const char *rhs[] = {"Matrix", "SharedRhs", "BatchedRhs"};
  return std::string(rhs[int(m.rhs)]) + (m.transposeLhs ? "_TransLhs" : "") +
         (m.transposeRhs ? "_TransRhs" : "") + (m.bias ? "_Bias" : "");
}

std::vector<MatmulCase> allMatmulCases() {
  std::vector<MatmulCase> cases;
  for (Rhs rhs : {Rhs::Matrix, Rhs::Shared, Rhs::Batched})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (bool bias : {false, true})
          cases.push_back({ta, tb, rhs, bias});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AutodiffFD, MatmulGradTest,
                         ::testing::ValuesIn(allMatmulCases()), matmulName);

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

// Six ids into five rows: some row repeats (its gradient is a sum) and
// likely some row is unused (its gradient is zero).
TEST(AutodiffFD, Embedding) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%w: tensor<5x6xf32> {llm.param = "p0"}, %ids: tensor<2x3xi32> {llm.input = "ids"},
                %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %x = llm.embedding %w[%ids] : (tensor<5x6xf32>, tensor<2x3xi32>) -> tensor<2x3x6xf32>
  %l = llm.cross_entropy %x, %t : (tensor<2x3x6xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             {{"ids", 5}, {"targets", 6}}));
}

// GPT-2's tied wte: the table feeds the embedding and the lm_head matmul,
// so its gradient is the sum of both rules'.
TEST(AutodiffFD, TiedEmbedding) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%w: tensor<5x6xf32> {llm.param = "p0"}, %ids: tensor<2x3xi32> {llm.input = "ids"},
                %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %x = llm.embedding %w[%ids] : (tensor<5x6xf32>, tensor<2x3xi32>) -> tensor<2x3x6xf32>
  %y = llm.matmul %x, %w transpose_rhs : (tensor<2x3x6xf32>, tensor<5x6xf32>) -> tensor<2x3x5xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x5xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             {{"ids", 5}, {"targets", 5}}));
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// A loss of one binary op `op` on a lhs of `lhs` and a rhs of `rhs` whose
/// result (of the lhs's shape, last dimension 6) is the logits.
std::string binaryLoss(const std::string &op, const std::string &lhs,
                       const std::string &rhs, const std::string &rows) {
  return llvm::formatv(R"mlir(
func.func @loss(%a: tensor<{1}xf32> {{llm.param = "p0"}, %b: tensor<{2}xf32> {{llm.param = "p1"},
                %t: tensor<{3}xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %y = llm.{0} %a, %b : tensor<{1}xf32>, tensor<{2}xf32>
  %l = llm.cross_entropy %y, %t : (tensor<{1}xf32>, tensor<{3}xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                       op, lhs, rhs, rows)
      .str();
}

// Both operands behind a silu, so the rule is checked apart from how a shared
// gradient is returned (see ParamGradientsSharingOneValue).
TEST(AutodiffFD, AddSameShape) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%a: tensor<4x6xf32> {llm.param = "p0"}, %b: tensor<4x6xf32> {llm.param = "p1"},
                %t: tensor<4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %sa = llm.silu %a : tensor<4x6xf32>
  %sb = llm.silu %b : tensor<4x6xf32>
  %y = llm.add %sa, %sb : tensor<4x6xf32>, tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(6)));
}

TEST(AutodiffFD, AddBroadcastRows) {
  EXPECT_TRUE(gradientsMatch(binaryLoss("add", "4x6", "6", "4"), targets(6)));
}

TEST(AutodiffFD, AddBroadcastBatch) {
  EXPECT_TRUE(
      gradientsMatch(binaryLoss("add", "2x3x6", "3x6", "2x3"), targets(6)));
}

TEST(AutodiffFD, MulSameShape) {
  EXPECT_TRUE(gradientsMatch(binaryLoss("mul", "4x6", "4x6", "4"), targets(6)));
}

TEST(AutodiffFD, MulBroadcastRows) {
  EXPECT_TRUE(gradientsMatch(binaryLoss("mul", "4x6", "6", "4"), targets(6)));
}

TEST(AutodiffFD, MulBroadcastBatch) {
  EXPECT_TRUE(
      gradientsMatch(binaryLoss("mul", "2x3x6", "3x6", "2x3"), targets(6)));
}

/// A loss of a unary op spelled `op` (up to the type) on a 4x6 parameter.
std::string unaryLoss(const std::string &op) {
  return llvm::formatv(R"mlir(
func.func @loss(%x: tensor<4x6xf32> {{llm.param = "p0"}, %t: tensor<4xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %y = {0} : tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                       op)
      .str();
}

// gelu's two forms differ in slope by at most 8.7e-4 (near |x| = 2), which
// kTolerance cannot see. So the gelu cases draw x from [-3, 3) and check to
// 5e-5: their finite differences are accurate to ~5e-6, and passing the
// wrong approximation to gelu_grad is off by 1.4e-4.
constexpr double kGeluTolerance = 5e-5;

TEST(AutodiffFD, GeluTanh) {
  EXPECT_TRUE(gradientsMatch(unaryLoss("llm.gelu %x approximate = tanh"),
                             targets(6), 3.0f, kGeluTolerance));
}

TEST(AutodiffFD, GeluErf) {
  EXPECT_TRUE(gradientsMatch(unaryLoss("llm.gelu %x approximate = none"),
                             targets(6), 3.0f, kGeluTolerance));
}

TEST(AutodiffFD, Silu) {
  EXPECT_TRUE(gradientsMatch(unaryLoss("llm.silu %x"), targets(6)));
}

TEST(AutodiffFD, Swiglu) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%g: tensor<4x6xf32> {llm.param = "p0"}, %u: tensor<4x6xf32> {llm.param = "p1"},
                %t: tensor<4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.swiglu %g, %u : tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(6)));
}

//===----------------------------------------------------------------------===//
// Normalization and softmax
//===----------------------------------------------------------------------===//

TEST(AutodiffFD, LayerNorm) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<2x3x8xf32> {llm.param = "p0"}, %w: tensor<8xf32> {llm.param = "p1"},
                %b: tensor<8xf32> {llm.param = "p2"}, %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64}
      : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x8xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(8)));
}

TEST(AutodiffFD, RmsNorm) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<2x3x8xf32> {llm.param = "p0"}, %w: tensor<8xf32> {llm.param = "p1"},
                %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.rms_norm %x, %w {epsilon = 1.0e-06 : f64}
      : (tensor<2x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x8xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(8)));
}

// Probabilities are in (0, 1); a constant factor of 4 makes the logits, and
// so the gradients, large enough to tell a wrong rule from rounding.
TEST(AutodiffFD, SoftmaxLastAxis) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<2x3x8xf32> {llm.param = "p0"}, %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %p = llm.softmax %x axis = -1 : tensor<2x3x8xf32>
  %c = arith.constant dense<4.0> : tensor<8xf32>
  %y = llm.mul %p, %c : tensor<2x3x8xf32>, tensor<8xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x8xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(8)));
}

//===----------------------------------------------------------------------===//
// Attention and rope
//===----------------------------------------------------------------------===//

/// Attention of q [B, Hq, Tq, 4] over k [B, Hkv, Tk, 4] and v [B, Hkv, Tk, 6];
/// the output (convex combinations of v) times 4 is the logits.
std::string attentionLoss(int b, int hq, int hkv, int tq, int tk,
                          const std::string &attrs) {
  std::string q = llvm::formatv("{0}x{1}x{2}x4", b, hq, tq).str();
  std::string k = llvm::formatv("{0}x{1}x{2}x4", b, hkv, tk).str();
  std::string v = llvm::formatv("{0}x{1}x{2}x6", b, hkv, tk).str();
  std::string y = llvm::formatv("{0}x{1}x{2}x6", b, hq, tq).str();
  std::string rows = llvm::formatv("{0}x{1}x{2}", b, hq, tq).str();
  return llvm::formatv(R"mlir(
func.func @loss(%q: tensor<{0}xf32> {{llm.param = "p0"}, %k: tensor<{1}xf32> {{llm.param = "p1"},
                %v: tensor<{2}xf32> {{llm.param = "p2"}, %t: tensor<{4}xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %o = llm.attention %q, %k, %v {5} : (tensor<{0}xf32>, tensor<{1}xf32>, tensor<{2}xf32>) -> tensor<{3}xf32>
  %c = arith.constant dense<4.0> : tensor<6xf32>
  %y = llm.mul %o, %c : tensor<{3}xf32>, tensor<6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<{3}xf32>, tensor<{4}xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                       q, k, v, y, rows, attrs)
      .str();
}

TEST(AutodiffFD, Attention) {
  EXPECT_TRUE(gradientsMatch(attentionLoss(1, 2, 2, 4, 4, ""), targets(6)));
}

TEST(AutodiffFD, AttentionCausal) {
  EXPECT_TRUE(
      gradientsMatch(attentionLoss(2, 2, 2, 4, 4, "causal"), targets(6)));
}

TEST(AutodiffFD, AttentionExplicitScale) {
  EXPECT_TRUE(gradientsMatch(
      attentionLoss(1, 2, 2, 4, 4, "causal {scale = 0.9 : f64}"), targets(6)));
}

TEST(AutodiffFD, AttentionGroupedQuery) {
  EXPECT_TRUE(gradientsMatch(attentionLoss(1, 4, 2, 3, 3, ""), targets(6)));
}

TEST(AutodiffFD, AttentionGroupedQueryCausal) {
  EXPECT_TRUE(
      gradientsMatch(attentionLoss(1, 4, 2, 3, 3, "causal"), targets(6)));
}

// A decode step against a longer past: query i sees keys j <= i + 3.
TEST(AutodiffFD, AttentionShorterQueryCausal) {
  EXPECT_TRUE(
      gradientsMatch(attentionLoss(1, 4, 2, 2, 5, "causal"), targets(6)));
}

TEST(AutodiffFD, Rope) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<2x2x4x6xf32> {llm.param = "p0"}, %t: tensor<2x2x4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.rope %x theta = 100.0 : tensor<2x2x4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x2x4x6xf32>, tensor<2x2x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(6)));
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

// Behind a silu, so the rule is checked apart from how a gradient that is a
// view is returned (see ParamGradientThroughReshape).
TEST(AutodiffFD, Reshape) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<4x6xf32> {llm.param = "p0"}, %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %s = llm.silu %x : tensor<4x6xf32>
  %y = llm.reshape %s : tensor<4x6xf32> -> tensor<2x3x4xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(4)));
}

// A 3-cycle, so using the permutation instead of its inverse would fail.
TEST(AutodiffFD, Transpose) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<2x3x4xf32> {llm.param = "p0"}, %t: tensor<4x2xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x2x3xf32>, tensor<4x2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(3)));
}

// The middle piece is unused: its gradient is zeros placed into the concat.
TEST(AutodiffFD, SplitWithUnusedResult) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<4x9xf32> {llm.param = "p0"}, %t0: tensor<4xi32> {llm.input = "t0"},
                %t2: tensor<4xi32> {llm.input = "t2"}) -> tensor<f32> {
  %a, %b, %c = llm.split %x axis = -1 : tensor<4x9xf32> -> tensor<4x3xf32>, tensor<4x2xf32>, tensor<4x4xf32>
  %l0 = llm.cross_entropy %a, %t0 : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  %l2 = llm.cross_entropy %c, %t2 : (tensor<4x4xf32>, tensor<4xi32>) -> tensor<f32>
  %l = llm.add %l0, %l2 : tensor<f32>, tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             {{"t0", 3}, {"t2", 4}}));
}

// Both pieces used, joined again in the other order.
TEST(AutodiffFD, SplitLeadingAxis) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<6x4xf32> {llm.param = "p0"}, %t: tensor<6xi32> {llm.input = "targets"}) -> tensor<f32> {
  %a, %b = llm.split %x axis = 0 : tensor<6x4xf32> -> tensor<2x4xf32>, tensor<4x4xf32>
  %y = llm.concat %b, %a axis = 0 : tensor<4x4xf32>, tensor<2x4xf32> -> tensor<6x4xf32>
  %l = llm.cross_entropy %y, %t : (tensor<6x4xf32>, tensor<6xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(4)));
}

TEST(AutodiffFD, ConcatLastAxis) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%a: tensor<2x3x2xf32> {llm.param = "p0"}, %b: tensor<2x3x5xf32> {llm.param = "p1"},
                %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.concat %a, %b axis = 2 : tensor<2x3x2xf32>, tensor<2x3x5xf32> -> tensor<2x3x7xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x7xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(7)));
}

TEST(AutodiffFD, ConcatMiddleAxis) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%a: tensor<2x1x4xf32> {llm.param = "p0"}, %b: tensor<2x2x4xf32> {llm.param = "p1"},
                %t: tensor<2x3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.concat %a, %b axis = 1 : tensor<2x1x4xf32>, tensor<2x2x4xf32> -> tensor<2x3x4xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x3x4xf32>, tensor<2x3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(4)));
}

// Offsets in every dimension; elements outside the slice get zero gradient.
TEST(AutodiffFD, ExtractSlice) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<2x4x6xf32> {llm.param = "p0"}, %t: tensor<1x2xi32> {llm.input = "targets"}) -> tensor<f32> {
  %s = tensor.extract_slice %x[1, 1, 2] [1, 2, 3] [1, 1, 1] : tensor<2x4x6xf32> to tensor<1x2x3xf32>
  %l = llm.cross_entropy %s, %t : (tensor<1x2x3xf32>, tensor<1x2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(3)));
}

//===----------------------------------------------------------------------===//
// General ops (graphs imported op by op)
//===----------------------------------------------------------------------===//

// Each llm.unary kind with a slope: behind exp where it needs x > 0.
TEST(AutodiffFD, GeneralUnary) {
  for (const char *kind :
       {"neg", "exp", "tanh", "sigmoid", "erf", "sin", "cos"})
    EXPECT_TRUE(gradientsMatch(
        unaryLoss(llvm::formatv("llm.unary %x kind = \"{0}\"", kind).str()),
        targets(6)))
        << kind;
  // Kinked at 0, moved to 0.3: this seed draws one element within the
  // step (1e-2) of 0, none near 0.3.
  for (const char *kind : {"abs", "relu"})
    EXPECT_TRUE(gradientsMatch(llvm::formatv(R"mlir(
func.func @loss(%x: tensor<4x6xf32> {{llm.param = "p0"}, %t: tensor<4xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %c = arith.constant dense<0.3> : tensor<f32>
  %s = llm.binary %x, %c kind = "sub" : (tensor<4x6xf32>, tensor<f32>) -> tensor<4x6xf32>
  %y = llm.unary %s kind = "{0}" : tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                                             kind)
                                   .str(),
                               targets(6)))
        << kind;
  for (const char *kind : {"log", "sqrt", "reciprocal"})
    EXPECT_TRUE(gradientsMatch(llvm::formatv(R"mlir(
func.func @loss(%x: tensor<4x6xf32> {{llm.param = "p0"}, %t: tensor<4xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %e = llm.unary %x kind = "exp" : tensor<4x6xf32>
  %y = llm.unary %e kind = "{0}" : tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                                             kind)
                                   .str(),
                               targets(6)))
        << kind;
}

/// logits = kind(a, b), broadcast to [rows..., 6]; the vocabulary axis is
/// never the broadcast one (a shift along it leaves the loss unchanged).
/// pow's base is exp(a) and div's divisor exp(b), both positive; max and
/// min read values drawn 20 wide, so no pair is within the finite
/// difference's step, behind sin to keep the logits of order 1.
std::string generalBinaryLoss(const std::string &kind, const std::string &lhs,
                              const std::string &rhs, const std::string &out,
                              const std::string &rows) {
  auto prepare = [](const char *v, const std::string &shape, bool exp) {
    return llvm::formatv("llm.unary {0} kind = \"{1}\" : tensor<{2}xf32>", v,
                         exp ? "exp" : "neg", shape)
        .str();
  };
  bool extreme = kind == "max" || kind == "min";
  return llvm::formatv(
             R"mlir(
func.func @loss(%a0: tensor<{1}xf32> {{llm.param = "p0"}, %b0: tensor<{2}xf32> {{llm.param = "p1"},
                %t: tensor<{4}xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %a = {5}
  %b = {6}
  %m = llm.binary %a, %b kind = "{0}" : (tensor<{1}xf32>, tensor<{2}xf32>) -> tensor<{3}xf32>
  %y = llm.unary %m kind = "{7}" : tensor<{3}xf32>
  %l = llm.cross_entropy %y, %t : (tensor<{3}xf32>, tensor<{4}xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
             kind, lhs, rhs, out, rows, prepare("%a0", lhs, kind == "pow"),
             prepare("%b0", rhs, kind == "div"), extreme ? "sin" : "neg")
      .str();
}

TEST(AutodiffFD, GeneralBinaryBroadcastBothWays) {
  for (const char *kind : {"add", "sub", "mul", "div", "pow", "max", "min"}) {
    float amplitude =
        std::string(kind) == "max" || std::string(kind) == "min" ? 20.0f : 1.0f;
    EXPECT_TRUE(gradientsMatch(generalBinaryLoss(kind, "4x6", "6", "4x6", "4"),
                               targets(6), amplitude))
        << kind;
    EXPECT_TRUE(
        gradientsMatch(generalBinaryLoss(kind, "2x1x6", "3x6", "2x3x6", "2x3"),
                       targets(6), amplitude))
        << kind << " both ways";
  }
}

TEST(AutodiffFD, GeneralReduce) {
  for (const char *kind : {"sum", "mean", "max", "min", "prod"}) {
    EXPECT_TRUE(gradientsMatch(llvm::formatv(R"mlir(
func.func @loss(%x: tensor<4x3x6xf32> {{llm.param = "p0"}, %t: tensor<4xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %y = llm.reduce %x kind = "{0}" axes = [1] : tensor<4x3x6xf32> -> tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                                             kind)
                                   .str(),
                               targets(6)))
        << kind;
    // Kept axes, reshaped back to the logits.
    EXPECT_TRUE(gradientsMatch(llvm::formatv(R"mlir(
func.func @loss(%x: tensor<4x6x2xf32> {{llm.param = "p0"}, %t: tensor<4xi32> {{llm.input = "targets"}) -> tensor<f32> {
  %r = llm.reduce %x kind = "{0}" axes = [2] keepdims : tensor<4x6x2xf32> -> tensor<4x6x1xf32>
  %y = llm.reshape %r : tensor<4x6x1xf32> -> tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                                             kind)
                                   .str(),
                               targets(6)))
        << kind << " keepdims";
  }
}

// The condition is relu of a float input: about half its elements 0.
TEST(AutodiffFD, GeneralWhere) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%a: tensor<4x6xf32> {llm.param = "p0"}, %b: tensor<6xf32> {llm.param = "p1"},
                %c0: tensor<4x6xf32> {llm.input = "c"}, %t: tensor<4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %c = llm.unary %c0 kind = "relu" : tensor<4x6xf32>
  %y = llm.where %c, %a, %b : (tensor<4x6xf32>, tensor<4x6xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(6)));
}

// A strided slice and a backward one (an ONNX Slice with steps 2 and -3):
// the gradient lands on every step-th element through insert_slice.
TEST(AutodiffFD, StridedSlices) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%a: tensor<6x8xf32> {llm.param = "p0"}, %t: tensor<3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %s = tensor.extract_slice %a[1, 7] [3, 3] [2, -3] : tensor<6x8xf32> to tensor<3x3xf32>
  %l = llm.cross_entropy %s, %t : (tensor<3x3xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(3)));
}

//===----------------------------------------------------------------------===//
// Values used more than once
//===----------------------------------------------------------------------===//

// x·x: both operand gradients of one op add up.
TEST(AutodiffFD, ValueUsedTwiceByOneOp) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<4x6xf32> {llm.param = "p0"}, %t: tensor<4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.mul %x, %x : tensor<4x6xf32>, tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(6)));
}

// silu(x) + x, a residual: the add's and the silu's gradients add up.
TEST(AutodiffFD, ValueUsedTwiceByTwoOps) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<4x6xf32> {llm.param = "p0"}, %t: tensor<4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %s = llm.silu %x : tensor<4x6xf32>
  %y = llm.add %s, %x : tensor<4x6xf32>, tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(6)));
}

//===----------------------------------------------------------------------===//
// Rules composed
//===----------------------------------------------------------------------===//

// A GPT-2 MLP block with its residual: the weights have more than
// kFullCheckElements elements, so they are checked along a random direction
// and at sampled elements. Values in [-0.3, 0.3) keep the logits of order 1
// (with [-1, 1) they reach ~20 and the truncation error exceeds 2e-3).
TEST(AutodiffFD, Gpt2MlpBlock) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<2x4x16xf32> {llm.param = "p0"}, %g: tensor<16xf32> {llm.param = "p1"},
                %beta: tensor<16xf32> {llm.param = "p2"}, %w1: tensor<16x32xf32> {llm.param = "p3"},
                %b1: tensor<32xf32> {llm.param = "p4"}, %w2: tensor<32x16xf32> {llm.param = "p5"},
                %wout: tensor<12x16xf32> {llm.param = "p6"},
                %t: tensor<2x4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %n = llm.layer_norm %x, %g, %beta {epsilon = 1.0e-05 : f64}
      : (tensor<2x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x4x16xf32>
  %h = llm.matmul %n, %w1, %b1 : (tensor<2x4x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<2x4x32xf32>
  %a = llm.gelu %h approximate = tanh : tensor<2x4x32xf32>
  %m = llm.matmul %a, %w2 : (tensor<2x4x32xf32>, tensor<32x16xf32>) -> tensor<2x4x16xf32>
  %r = llm.add %x, %m : tensor<2x4x16xf32>, tensor<2x4x16xf32>
  %y = llm.matmul %r, %wout transpose_rhs : (tensor<2x4x16xf32>, tensor<12x16xf32>) -> tensor<2x4x12xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x4x12xf32>, tensor<2x4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(12), /*amplitude=*/0.3f));
}

//===----------------------------------------------------------------------===//
// Gradients the lowering must keep: views, shared values, values read later
//
// Regression tests of how @loss_grad programs return gradients: each once
// failed (a view was never named, a buffer returned twice kept only the last
// name, a returned gradient that a later kernel read could be overwritten).
// LowerToPlan now copies such a gradient into its own live_out buffer.
//===----------------------------------------------------------------------===//

// add(p0, p1): both gradients are the same value, so one buffer is named
// twice and "p0" has no GRAD buffer.
TEST(AutodiffFD, ParamGradientsSharingOneValue) {
  EXPECT_TRUE(gradientsMatch(binaryLoss("add", "4x6", "4x6", "4"), targets(6)));
}

// The parameter's gradient is a view: the reshape of cross_entropy_grad's
// result, so "p0" has no GRAD buffer.
TEST(AutodiffFD, ParamGradientThroughReshape) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%x: tensor<4x6xf32> {llm.param = "p0"}, %t: tensor<2xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.reshape %x : tensor<4x6xf32> -> tensor<2x12xf32>
  %l = llm.cross_entropy %y, %t : (tensor<2x12xf32>, tensor<2xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             targets(12), /*amplitude=*/0.3f));
}

// p2's gradient is the add's incoming gradient, which silu_grad reads after
// it is complete. Plan memory then frees it, and the later [4, 64] matmul
// result (dE of the embedding) may be placed over it.
TEST(AutodiffFD, ParamGradientReadByLaterKernels) {
  EXPECT_TRUE(gradientsMatch(R"mlir(
func.func @loss(%table: tensor<5x64xf32> {llm.param = "p0"}, %w: tensor<64x6xf32> {llm.param = "p1"},
                %a: tensor<4x6xf32> {llm.param = "p2"}, %ids: tensor<4xi32> {llm.input = "ids"},
                %t: tensor<4xi32> {llm.input = "targets"}) -> tensor<f32> {
  %e = llm.embedding %table[%ids] : (tensor<5x64xf32>, tensor<4xi32>) -> tensor<4x64xf32>
  %h = llm.matmul %e, %w : (tensor<4x64xf32>, tensor<64x6xf32>) -> tensor<4x6xf32>
  %s = llm.silu %h : tensor<4x6xf32>
  %y = llm.add %a, %s : tensor<4x6xf32>, tensor<4x6xf32>
  %l = llm.cross_entropy %y, %t : (tensor<4x6xf32>, tensor<4xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir",
                             {{"ids", 5}, {"targets", 6}}));
}

//===----------------------------------------------------------------------===//
// The check itself rejects wrong gradients
//===----------------------------------------------------------------------===//

/// The gradients of a square 2-D matmul, for corrupting.
::testing::AssertionResult squareMatmul(Case &c, Gradients &g) {
  const char *ir = R"mlir(
func.func @loss(%a: tensor<3x5xf32> {llm.param = "p0"}, %b: tensor<5x5xf32> {llm.param = "p1"},
                %t: tensor<3xi32> {llm.input = "targets"}) -> tensor<f32> {
  %y = llm.matmul %a, %b : (tensor<3x5xf32>, tensor<5x5xf32>) -> tensor<3x5xf32>
  %l = llm.cross_entropy %y, %t : (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>
  return %l : tensor<f32>
}
)mlir";
  if (auto ok = makeCase(ir, targets(5), 1.0f, 7, c); !ok)
    return ok;
  return analyticGradients(c, g);
}

TEST(AutodiffFDMetaTest, AcceptsTheRealGradient) {
  Case c;
  Gradients g;
  ASSERT_TRUE(squareMatmul(c, g));
  EXPECT_TRUE(matchesFiniteDifferences(c, g));
}

// dB = Aᵀ·dY stored transposed, as a rule with a wrong transpose flag would.
TEST(AutodiffFDMetaTest, RejectsATransposedGradient) {
  Case c;
  Gradients g;
  ASSERT_TRUE(squareMatmul(c, g));
  std::vector<float> &db = g.grads["p1"];
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < i; ++j)
      std::swap(db[i * 5 + j], db[j * 5 + i]);
  EXPECT_FALSE(matchesFiniteDifferences(c, g));
}

TEST(AutodiffFDMetaTest, RejectsAFlippedSign) {
  Case c;
  Gradients g;
  ASSERT_TRUE(squareMatmul(c, g));
  for (float &v : g.grads["p0"])
    v = -v;
  EXPECT_FALSE(matchesFiniteDifferences(c, g));
}

// A gradient 10% too large, as a wrong mean or scale factor would give.
TEST(AutodiffFDMetaTest, RejectsAScaledGradient) {
  Case c;
  Gradients g;
  ASSERT_TRUE(squareMatmul(c, g));
  for (float &v : g.grads["p1"])
    v *= 1.1f;
  EXPECT_FALSE(matchesFiniteDifferences(c, g));
}

} // namespace
