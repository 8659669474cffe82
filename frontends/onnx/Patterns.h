//===- Patterns.h - Recomposition patterns over an ONNX graph ---*- C++ -*-===//
//
// Each pattern recognises, from its root value backwards, the primitive ops
// that an exporter wrote for one `llm` op (LayerNorm as
// ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add, GELU as Erf or Tanh arithmetic,
// attention as MatMul/Div/Where/Softmax/MatMul, ...) and returns the `llm`
// op's operands. Matched nodes are recorded, so the model recogniser can
// prove that no primitive arithmetic was left over.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_FRONTENDS_ONNX_PATTERNS_H
#define LLMC_FRONTENDS_ONNX_PATTERNS_H

#include "frontends/onnx/OnnxGraph.h"

#include <optional>
#include <set>

namespace llmc::onnx_import {

/// y = x·W (+ b): MatMul, MatMul+Add, or Gemm between the flattening
/// Reshapes exporters put around it. `weight` as stored: [in, out] unless
/// `transposed` (Gemm transB: [out, in]).
struct LinearMatch {
  Value *input = nullptr;
  Value *weight = nullptr;
  bool transposed = false;
  Value *bias = nullptr;
};

/// LayerNorm (x, weight, bias) or RMSNorm (x, weight; bias null).
struct NormMatch {
  Value *input = nullptr;
  Value *weight = nullptr;
  Value *bias = nullptr;
  double epsilon = 0;
};

enum class Activation { GeluTanh, GeluErf, Silu };

struct ActivationMatch {
  Value *input = nullptr;
  Activation kind = Activation::GeluTanh;
};

/// The heads of one of Q, K, V: `source` [B, T, heads·headDim] reshaped to
/// [B, T, heads, headDim] and transposed to [B, heads, T, headDim].
struct HeadsMatch {
  Value *source = nullptr;
  int64_t heads = 0;
  int64_t headDim = 0;
};

/// Causal scaled dot-product attention over split heads, merged back to
/// [B, T, heads·headDim]; optional rotate-half RoPE on Q and K and repeated
/// (grouped) K/V heads.
struct AttentionMatch {
  HeadsMatch q, k, v;
  double scale = 0;
  std::optional<double> ropeTheta; // set: RoPE on Q and K
  /// The keys (after RoPE) and values [B, kv heads, T, D] before grouped
  /// heads repeat them: what a cached export returns as present.N.key and
  /// .value. Null where the graph transposes K straight from the split.
  Value *cachedKey = nullptr;
  Value *cachedValue = nullptr;
};

/// Whether constant `v` is one slice of `sliceElements` (its trailing
/// dimensions) repeated over its leading ones.
bool repeatsOneSlice(const Value *v, int64_t sliceElements);

class PatternMatcher {
public:
  /// Nodes every successful match so far consumed.
  const std::set<const Node *> &matched() const { return matched_; }

  std::optional<LinearMatch> linear(Value *v);
  std::optional<NormMatch> layerNorm(Value *v);
  std::optional<NormMatch> rmsNorm(Value *v);
  std::optional<ActivationMatch> activation(Value *v);
  /// gate·up with an activation on the gate: returns {gate input, up}.
  std::optional<std::pair<ActivationMatch, Value *>> gatedProduct(Value *v);
  std::optional<AttentionMatch> attention(Value *v);

  /// The producer of `v` when it is an `op` node (looking through Identity
  /// and float-to-float Cast), recorded as matched.
  Node *def(Value *v, llvm::StringRef op);
  /// Looks through Identity, float-to-float Cast, full-range Slice, a
  /// Concat with empty inputs but one, an Add of zeros, and Reshape chains
  /// (to the first value that is not reshaped).
  Value *skipReshapes(Value *v);
  Value *skipNoOps(Value *v);

  /// Why the last failed pattern failed, when it can say more than "no".
  const std::string &hint() const { return hint_; }

private:
  friend class Attempt;
  std::optional<HeadsMatch> heads(Value *v, const std::vector<int64_t> &perm);
  std::optional<HeadsMatch> transposedKeyHeads(Value *v, bool &rope,
                                               double &theta, int64_t &repeat,
                                               Value *&cached);
  Value *ropeInput(Value *v, double &theta);
  Value *repeatKvInput(Value *v, int64_t &repeat);
  bool causalMask(Value *cond, bool maskIsFuture);

  std::set<const Node *> matched_;
  std::vector<const Node *> log_;
  std::string hint_;
};

/// Matched nodes recorded inside a scope are forgotten unless it commits, so
/// a pattern tried one way and then the other leaves no stray records.
class Attempt {
public:
  explicit Attempt(PatternMatcher &m) : m(m), mark(m.log_.size()) {}
  ~Attempt();
  template <typename T> T commit(T value) {
    committed = static_cast<bool>(value);
    return value;
  }

private:
  PatternMatcher &m;
  size_t mark;
  bool committed = false;
};

} // namespace llmc::onnx_import

#endif // LLMC_FRONTENDS_ONNX_PATTERNS_H
