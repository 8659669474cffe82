//===- Patterns.cpp - Recomposition patterns over an ONNX graph -----------===//
//
// Exporters differ in operand order and in how they spell a constant (Div by
// √2 or Mul by 1/√2, Reciprocal(Sqrt) or Div(1, Sqrt)), so commutative ops
// are tried both ways, and elementwise activations are recognised by what
// they compute: the chain of scalar ops between the activation's input and
// its output is evaluated at sample points and compared with GELU (tanh and
// erf forms) and SiLU. Constants that carry meaning (epsilon, the attention
// scale, the causal mask, RoPE's cos/sin tables) are read and checked.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/Patterns.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <functional>
#include <map>

using namespace llmc::onnx_import;

Attempt::~Attempt() {
  if (committed)
    return;
  while (m.log_.size() > mark) {
    m.matched_.erase(m.log_.back());
    m.log_.pop_back();
  }
}

namespace {

bool isFloatCast(const Node *n) {
  return n->op == "Cast" && n->outputs[0]->type == ElementType::Float &&
         n->input(0) && n->input(0)->type == ElementType::Float;
}

bool near(double a, double b, double tol = 1e-5) {
  return std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b));
}

std::optional<double> scalarOf(const Value *v) {
  if (!v || !v->isConstant || v->data.empty())
    return std::nullopt;
  // A constant of one repeated value (a broadcast scalar) counts too.
  for (double d : v->data)
    if (d != v->data[0])
      return std::nullopt;
  return v->data[0];
}

bool isWeightVector(const Value *v) {
  return v && v->isWeight && v->rank() == 1;
}

/// The scalar function an elementwise chain computes, evaluated at `x`.
/// `leaf` is the chain's one dynamic input.
std::optional<double> evalChain(const Value *v, const Value *leaf, double x,
                                int depth = 0) {
  if (v == leaf)
    return x;
  if (auto c = scalarOf(v))
    return *c;
  if (!v->producer || depth > 32)
    return std::nullopt;
  const Node &n = *v->producer;
  auto arg = [&](size_t i) {
    return evalChain(n.input(i), leaf, x, depth + 1);
  };
  if (n.op == "Cast" || n.op == "Identity")
    return arg(0);
  static const std::map<std::string, std::function<double(double)>> unary = {
      {"Tanh", [](double a) { return std::tanh(a); }},
      {"Erf", [](double a) { return std::erf(a); }},
      {"Sigmoid", [](double a) { return 1 / (1 + std::exp(-a)); }},
      {"Sqrt", [](double a) { return std::sqrt(a); }},
      {"Neg", [](double a) { return -a; }},
      {"Reciprocal", [](double a) { return 1 / a; }},
      {"Exp", [](double a) { return std::exp(a); }},
  };
  static const std::map<std::string, std::function<double(double, double)>>
      binary = {
          {"Add", [](double a, double b) { return a + b; }},
          {"Sub", [](double a, double b) { return a - b; }},
          {"Mul", [](double a, double b) { return a * b; }},
          {"Div", [](double a, double b) { return a / b; }},
          {"Pow", [](double a, double b) { return std::pow(a, b); }},
      };
  if (auto it = unary.find(n.op); it != unary.end()) {
    auto a = arg(0);
    return a ? std::optional<double>(it->second(*a)) : std::nullopt;
  }
  if (auto it = binary.find(n.op); it != binary.end()) {
    auto a = arg(0), b = arg(1);
    return a && b ? std::optional<double>(it->second(*a, *b)) : std::nullopt;
  }
  return std::nullopt;
}

bool isChainOp(llvm::StringRef op) {
  return llvm::is_contained({"Tanh", "Erf", "Sigmoid", "Sqrt", "Neg",
                             "Reciprocal", "Exp", "Add", "Sub", "Mul", "Div",
                             "Pow", "Cast", "Identity"},
                            op);
}

/// Collects the nodes of the elementwise chain that computes `v` and its one
/// dynamic input `leaf`; false when the chain has several dynamic inputs.
bool chainLeaf(Value *v, Value *&leaf, std::vector<const Node *> &nodes,
               int depth = 0) {
  if (v->isConstant)
    return true;
  Node *n = v->producer;
  bool inner = n && isChainOp(n->op) && depth < 32 &&
               (n->op != "Cast" || isFloatCast(n));
  if (!inner) {
    if (leaf && leaf != v)
      return false;
    leaf = v;
    return true;
  }
  nodes.push_back(n);
  for (Value *in : n->inputs)
    if (!in || !chainLeaf(in, leaf, nodes, depth + 1))
      return false;
  return true;
}

double geluTanh(double x) {
  return 0.5 * x *
         (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}
double geluErf(double x) {
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}
double silu(double x) { return x / (1 + std::exp(-x)); }

} // namespace

//===----------------------------------------------------------------------===//
// Navigation
//===----------------------------------------------------------------------===//

namespace {

/// The one input of a Concat whose other inputs are empty (a cached
/// export's past of length 0 before this step's keys or values).
Value *onlyNonEmptyInput(const Node *n) {
  if (n->op != "Concat")
    return nullptr;
  Value *only = nullptr;
  for (Value *in : n->inputs) {
    if (!in || (in->isConstant && in->numElements() == 0))
      continue;
    if (only)
      return nullptr;
    only = in;
  }
  return only && only->shape == n->outputs[0]->shape ? only : nullptr;
}

/// x of x + 0 (either order) where the zeros do not broadcast x: the
/// padding mask of a sequence without padding, (1 - 1) · finfo.min.
Value *zeroAddend(const Node *n) {
  if (n->op != "Add" || n->inputs.size() != 2)
    return nullptr;
  for (int i = 0; i < 2; ++i) {
    Value *zeros = n->input(i), *x = n->input(1 - i);
    if (zeros && x && zeros->isConstant && x->shape == n->outputs[0]->shape &&
        llvm::all_of(zeros->data, [](double d) { return d == 0; }))
      return x;
  }
  return nullptr;
}

} // namespace

bool llmc::onnx_import::repeatsOneSlice(const Value *v, int64_t sliceElements) {
  if (!v->isConstant || sliceElements <= 0 ||
      v->numElements() % sliceElements != 0)
    return false;
  for (size_t i = sliceElements; i < v->data.size(); ++i)
    if (v->data[i] != v->data[i % sliceElements])
      return false;
  return true;
}

Value *PatternMatcher::skipNoOps(Value *v) {
  while (v && v->producer) {
    Node *n = v->producer;
    bool fullSlice =
        n->op == "Slice" && n->input(0) && n->input(0)->shape == v->shape;
    Value *through = n->op == "Identity" || isFloatCast(n) || fullSlice
                         ? n->input(0)
                         : onlyNonEmptyInput(n);
    if (!through)
      through = zeroAddend(n);
    if (!through)
      break;
    if (matched_.insert(n).second)
      log_.push_back(n);
    v = through;
  }
  return v;
}

Value *PatternMatcher::skipReshapes(Value *v) {
  v = skipNoOps(v);
  while (v && v->producer && v->producer->op == "Reshape") {
    if (matched_.insert(v->producer).second)
      log_.push_back(v->producer);
    v = skipNoOps(v->producer->input(0));
  }
  return v;
}

Node *PatternMatcher::def(Value *v, llvm::StringRef op) {
  v = skipNoOps(v);
  if (!v || !v->producer || v->producer->op != op)
    return nullptr;
  if (matched_.insert(v->producer).second)
    log_.push_back(v->producer);
  return v->producer;
}

//===----------------------------------------------------------------------===//
// Linear layers, norms, activations
//===----------------------------------------------------------------------===//

std::optional<LinearMatch> PatternMatcher::linear(Value *v) {
  Attempt attempt(*this);
  Value *product = skipReshapes(v);
  LinearMatch m;
  if (Node *gemm = def(product, "Gemm")) {
    if (gemm->attrInt("transA", 0) || gemm->attrFloat("alpha", 1) != 1 ||
        gemm->attrFloat("beta", 1) != 1 || !gemm->input(1)->isWeight)
      return std::nullopt;
    m.weight = gemm->input(1);
    m.input = gemm->input(0);
    m.transposed = gemm->attrInt("transB", 0);
    m.bias = gemm->input(2);
    if (m.bias && !isWeightVector(m.bias))
      return std::nullopt;
  } else {
    Node *mm = def(product, "MatMul");
    if (Node *add = mm ? nullptr : def(product, "Add")) {
      for (int i = 0; i < 2 && !mm; ++i) {
        Attempt side(*this);
        if (isWeightVector(add->input(1 - i)) &&
            (mm = side.commit(def(add->input(i), "MatMul"))))
          m.bias = add->input(1 - i);
      }
    }
    if (!mm || !mm->input(1)->isWeight || mm->input(1)->rank() != 2)
      return std::nullopt;
    m.input = mm->input(0);
    m.weight = mm->input(1);
  }
  // Look through the flattening to [rows, in]: Reshapes that keep the
  // feature axis (not the one that merges attention heads into it).
  int64_t in = m.transposed ? m.weight->shape[1] : m.weight->shape[0];
  m.input = skipNoOps(m.input);
  while (m.input->producer && m.input->producer->op == "Reshape") {
    Value *before = skipNoOps(m.input->producer->input(0));
    if (before->shape.empty() || before->shape.back() != in)
      break;
    if (matched_.insert(m.input->producer).second)
      log_.push_back(m.input->producer);
    m.input = before;
  }
  if (!m.input || m.input->shape.empty() || m.input->shape.back() != in)
    return std::nullopt;
  return attempt.commit(std::optional<LinearMatch>(m));
}

std::optional<NormMatch> PatternMatcher::layerNorm(Value *v) {
  Attempt attempt(*this);
  if (Node *ln = def(v, "LayerNormalization")) {
    int64_t rank = ln->input(0)->rank();
    if (ln->attrInt("axis", -1) != -1 && ln->attrInt("axis", -1) != rank - 1)
      return std::nullopt;
    if (!isWeightVector(ln->input(1)) || !isWeightVector(ln->input(2)))
      return std::nullopt;
    return attempt.commit(std::optional<NormMatch>(
        NormMatch{ln->input(0), ln->input(1), ln->input(2),
                  ln->attrFloat("epsilon", 1e-5f)}));
  }
  // (x - mean) / sqrt(var + eps) * w + b, var = mean((x - mean)^2).
  Node *add = def(v, "Add");
  if (!add)
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    Attempt side(*this);
    Value *bias = add->input(1 - i);
    Node *mul = isWeightVector(bias) ? def(add->input(i), "Mul") : nullptr;
    if (!mul)
      continue;
    for (int j = 0; j < 2; ++j) {
      Attempt inner(*this);
      Value *weight = mul->input(1 - j);
      Node *div = isWeightVector(weight) ? def(mul->input(j), "Div") : nullptr;
      Node *sub = div ? def(div->input(0), "Sub") : nullptr;
      Node *sqrt = div ? def(div->input(1), "Sqrt") : nullptr;
      Node *addEps = sqrt ? def(sqrt->input(0), "Add") : nullptr;
      if (!sub || !addEps)
        continue;
      Value *x = skipNoOps(sub->input(0));
      Node *mean = def(sub->input(1), "ReduceMean");
      if (!mean || skipNoOps(mean->input(0)) != x)
        continue;
      std::optional<double> eps;
      Node *var = nullptr;
      for (int k = 0; k < 2 && !var; ++k)
        if ((eps = scalarOf(addEps->input(1 - k))))
          var = def(addEps->input(k), "ReduceMean");
      Node *pow = var ? def(var->input(0), "Pow") : nullptr;
      if (!pow || scalarOf(pow->input(1)) != 2.0 ||
          skipNoOps(pow->input(0)) != skipNoOps(div->input(0)))
        continue;
      inner.commit(true);
      side.commit(true);
      return attempt.commit(
          std::optional<NormMatch>(NormMatch{x, weight, bias, *eps}));
    }
  }
  return std::nullopt;
}

std::optional<NormMatch> PatternMatcher::rmsNorm(Value *v) {
  // w * (x * rsqrt(mean(x^2) + eps)), rsqrt as Reciprocal(Sqrt) or
  // Div(1, Sqrt), or x / Sqrt(...).
  Attempt attempt(*this);
  Node *outer = def(v, "Mul");
  if (!outer)
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    Attempt side(*this);
    Value *weight = outer->input(i);
    if (!isWeightVector(weight))
      continue;
    Value *normed = outer->input(1 - i);
    Value *x = nullptr;
    Node *sqrt = nullptr;
    if (Node *div = def(normed, "Div")) {
      x = skipNoOps(div->input(0));
      sqrt = def(div->input(1), "Sqrt");
    } else if (Node *mul = def(normed, "Mul")) {
      for (int j = 0; j < 2 && !sqrt; ++j) {
        Attempt inner(*this);
        Value *inv = mul->input(1 - j);
        if (Node *rec = def(inv, "Reciprocal"))
          sqrt = def(rec->input(0), "Sqrt");
        else if (Node *one = def(inv, "Div");
                 one && scalarOf(one->input(0)) == 1.0)
          sqrt = def(one->input(1), "Sqrt");
        if (sqrt) {
          inner.commit(true);
          x = skipNoOps(mul->input(j));
        }
      }
    }
    Node *addEps = sqrt ? def(sqrt->input(0), "Add") : nullptr;
    if (!addEps)
      continue;
    std::optional<double> eps;
    Node *mean = nullptr;
    for (int k = 0; k < 2 && !mean; ++k)
      if ((eps = scalarOf(addEps->input(1 - k))))
        mean = def(addEps->input(k), "ReduceMean");
    if (!mean || mean->attrInt("keepdims", 1) != 1)
      continue;
    Value *squared = mean->input(0);
    bool ok = false;
    if (Node *pow = def(squared, "Pow"))
      ok = scalarOf(pow->input(1)) == 2.0 && skipNoOps(pow->input(0)) == x;
    else if (Node *sq = def(squared, "Mul"))
      ok = skipNoOps(sq->input(0)) == x && skipNoOps(sq->input(1)) == x;
    if (!ok)
      continue;
    side.commit(true);
    return attempt.commit(
        std::optional<NormMatch>(NormMatch{x, weight, nullptr, *eps}));
  }
  return std::nullopt;
}

std::optional<ActivationMatch> PatternMatcher::activation(Value *v) {
  Value *leaf = nullptr;
  std::vector<const Node *> nodes;
  if (!chainLeaf(v, leaf, nodes) || !leaf || nodes.empty() ||
      leaf->shape != v->shape)
    return std::nullopt;
  struct Candidate {
    Activation kind;
    double (*f)(double);
  };
  for (Candidate c : {Candidate{Activation::GeluTanh, geluTanh},
                      Candidate{Activation::GeluErf, geluErf},
                      Candidate{Activation::Silu, silu}}) {
    bool same = true;
    for (double x : {-4.0, -1.7, -0.6, -0.05, 0.0, 0.3, 0.9, 2.2, 5.0}) {
      std::optional<double> y = evalChain(v, leaf, x);
      same &= y && std::fabs(*y - c.f(x)) <= 1e-6 * std::max(1.0, std::fabs(x));
    }
    if (same) {
      for (const Node *n : nodes)
        if (matched_.insert(n).second)
          log_.push_back(n);
      return ActivationMatch{leaf, c.kind};
    }
  }
  return std::nullopt;
}

std::optional<std::pair<ActivationMatch, Value *>>
PatternMatcher::gatedProduct(Value *v) {
  Attempt attempt(*this);
  Node *mul = def(v, "Mul");
  if (!mul)
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    Attempt side(*this);
    Value *up = skipNoOps(mul->input(1 - i));
    auto act = activation(mul->input(i));
    if (!act || act->input == up)
      continue;
    side.commit(true);
    return attempt.commit(std::optional<std::pair<ActivationMatch, Value *>>(
        std::make_pair(*act, up)));
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

std::optional<HeadsMatch>
PatternMatcher::heads(Value *v, const std::vector<int64_t> &perm) {
  Attempt attempt(*this);
  Node *t = def(v, "Transpose");
  if (!t || t->attrInts("perm") != perm)
    return std::nullopt;
  Node *r = def(t->input(0), "Reshape");
  if (!r || r->outputs[0]->rank() != 4)
    return std::nullopt;
  Value *source = skipNoOps(r->input(0));
  const std::vector<int64_t> &s = r->outputs[0]->shape; // [B, T, H, D]
  if (source->rank() != 3 || source->shape[2] != s[2] * s[3] ||
      source->shape[0] != s[0] || source->shape[1] != s[1])
    return std::nullopt;
  return attempt.commit(
      std::optional<HeadsMatch>(HeadsMatch{source, s[2], s[3]}));
}

Value *PatternMatcher::repeatKvInput(Value *v, int64_t &repeat) {
  // [B, Hkv, T, D] -> Unsqueeze(2) -> Expand [B, Hkv, n, T, D] -> Reshape
  // [B, Hkv·n, T, D] (HF repeat_kv).
  Attempt attempt(*this);
  Node *r = def(v, "Reshape");
  Node *e = r ? def(r->input(0), "Expand") : nullptr;
  Node *u = e ? def(e->input(0), "Unsqueeze") : nullptr;
  if (!u)
    return nullptr;
  const std::vector<int64_t> &big = e->outputs[0]->shape;
  Value *x = skipNoOps(u->input(0));
  if (big.size() != 5 || x->rank() != 4 || u->outputs[0]->shape[2] != 1 ||
      big[0] != x->shape[0] || big[1] != x->shape[1] || big[3] != x->shape[2] ||
      big[4] != x->shape[3])
    return nullptr;
  repeat = big[2];
  return attempt.commit(x);
}

Value *PatternMatcher::ropeInput(Value *v, double &theta) {
  // x·cos + rotate_half(x)·sin, rotate_half(x) = cat(-x[D/2:], x[:D/2]).
  Attempt attempt(*this);
  Node *add = def(v, "Add");
  if (!add)
    return nullptr;
  for (int i = 0; i < 2; ++i) {
    Attempt side(*this);
    Node *mulCos = def(add->input(i), "Mul");
    Node *mulSin = def(add->input(1 - i), "Mul");
    if (!mulCos || !mulSin)
      continue;
    for (int j = 0; j < 2; ++j) {
      for (int k = 0; k < 2; ++k) {
        Attempt inner(*this);
        Value *x = skipNoOps(mulCos->input(j));
        Value *cos = mulCos->input(1 - j), *sin = mulSin->input(1 - k);
        Node *cat = def(mulSin->input(k), "Concat");
        if (!cos->isConstant || !sin->isConstant || !cat ||
            cat->inputs.size() != 2 || x->rank() != 4)
          continue;
        Node *neg = def(cat->input(0), "Neg");
        Node *hi = neg ? def(neg->input(0), "Slice") : nullptr;
        Node *lo = def(cat->input(1), "Slice");
        int64_t D = x->shape[3], T = x->shape[2];
        if (!hi || !lo || skipNoOps(hi->input(0)) != x ||
            skipNoOps(lo->input(0)) != x || hi->outputs[0]->shape[3] != D / 2 ||
            lo->outputs[0]->shape[3] != D / 2)
          continue;
        // Which half each Slice took: compare starts.
        if (!hi->input(1)->isConstant || !lo->input(1)->isConstant ||
            hi->input(1)->data[0] != D / 2 || lo->input(1)->data[0] != 0)
          continue;
        // The tables, [.., T, D], must be cos/sin of t·θ^(-2j/D).
        // One [T, D] table, or copies of it per sequence (computed from
        // position_ids [batch, T]).
        if (!repeatsOneSlice(cos, T * D) || !repeatsOneSlice(sin, T * D) ||
            cos->shape.back() != D || sin->shape.back() != D || T < 2 || D < 4)
          continue;
        // θ from the slowest frequency θ^(-2j/D), j = D/2 - 1, at position
        // 1: its exponent is near 1, so the tables' float32 rounding moves
        // θ least (j = 1 would magnify it D/2 times).
        int64_t j = D / 2 - 1;
        double f = std::atan2(sin->data[D + j], cos->data[D + j]);
        double t = std::pow(f, -double(D) / (2 * j));
        bool ok = true;
        for (int64_t p = 0; p < T && ok; ++p)
          for (int64_t d = 0; d < D && ok; ++d) {
            double angle = p * std::pow(t, -2.0 * (d % (D / 2)) / D);
            ok = std::fabs(cos->data[p * D + d] - std::cos(angle)) < 1e-4 &&
                 std::fabs(sin->data[p * D + d] - std::sin(angle)) < 1e-4;
          }
        if (!ok) {
          hint_ = "RoPE tables are not cos/sin of position x theta^(-2j/D)";
          continue;
        }
        theta = t;
        inner.commit(true);
        side.commit(true);
        return attempt.commit(x);
      }
    }
  }
  return nullptr;
}

bool PatternMatcher::causalMask(Value *cond, bool maskIsFuture) {
  if (!cond->isConstant || cond->rank() < 2)
    return false;
  int64_t T = cond->shape.back();
  // One [T, T] mask, or copies of it per sequence of the batch.
  if (cond->shape[cond->rank() - 2] != T || !repeatsOneSlice(cond, T * T))
    return false;
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j)
      if ((cond->data[i * T + j] != 0) != (maskIsFuture ? j > i : j <= i))
        return false;
  return true;
}

std::optional<HeadsMatch>
PatternMatcher::transposedKeyHeads(Value *v, bool &rope, double &theta,
                                   int64_t &repeat, Value *&cached) {
  Attempt attempt(*this);
  // Kᵀ as Transpose(Reshape(src), 0231) ...
  if (auto h = heads(v, {0, 2, 3, 1}))
    return attempt.commit(h);
  // ... or as Transpose(K, 0132) of K's heads, RoPE'd and repeated.
  Node *t = def(v, "Transpose");
  if (!t || t->attrInts("perm") != std::vector<int64_t>{0, 1, 3, 2})
    return std::nullopt;
  Value *k = skipNoOps(t->input(0));
  if (Value *x = repeatKvInput(k, repeat))
    k = x;
  cached = k;
  if (Value *x = ropeInput(k, theta)) {
    rope = true;
    k = x;
  }
  return attempt.commit(heads(k, {0, 2, 1, 3}));
}

std::optional<AttentionMatch> PatternMatcher::attention(Value *v) {
  Attempt attempt(*this);
  // merged = Transpose(P·V, 0213) reshaped to [B, T, H·D].
  Value *merged = skipReshapes(v);
  Node *t = def(merged, "Transpose");
  if (!t || t->attrInts("perm") != std::vector<int64_t>{0, 2, 1, 3})
    return std::nullopt;
  Node *pv = def(t->input(0), "MatMul");
  Node *softmax = pv ? def(pv->input(0), "Softmax") : nullptr;
  if (!softmax)
    return std::nullopt;
  int64_t rank = softmax->outputs[0]->rank();
  int64_t axis = softmax->attrInt("axis", -1);
  if (axis != -1 && axis != rank - 1)
    return std::nullopt;
  // The causal mask: Where(future, -inf, S), Where(past, S, -inf) or S + M.
  Value *scores = nullptr;
  if (Node *where = def(softmax->input(0), "Where")) {
    for (int side = 0; side < 2 && !scores; ++side) {
      Value *fill = where->input(1 + side), *kept = where->input(2 - side);
      std::optional<double> f = scalarOf(fill);
      if (f && *f <= -1e4 && causalMask(where->input(0), side == 0))
        scores = kept;
    }
  } else if (Node *add = def(softmax->input(0), "Add")) {
    for (int side = 0; side < 2 && !scores; ++side) {
      Value *m = add->input(side);
      if (!m->isConstant || m->rank() < 2)
        continue;
      int64_t T = m->shape.back();
      bool ok = m->shape[m->rank() - 2] == T && repeatsOneSlice(m, T * T);
      for (int64_t i = 0; ok && i < T; ++i)
        for (int64_t j = 0; ok && j < T; ++j)
          ok = j > i ? m->data[i * T + j] <= -1e4 : m->data[i * T + j] == 0;
      if (ok)
        scores = add->input(1 - side);
    }
  }
  if (!scores) {
    hint_ = "attention without a causal mask";
    return std::nullopt;
  }
  AttentionMatch m;
  Node *qk = nullptr;
  if (Node *div = def(scores, "Div")) {
    if (auto c = scalarOf(div->input(1)))
      m.scale = 1 / *c, qk = def(div->input(0), "MatMul");
  } else if (Node *mul = def(scores, "Mul")) {
    for (int i = 0; i < 2 && !qk; ++i)
      if (auto c = scalarOf(mul->input(1 - i)))
        m.scale = *c, qk = def(mul->input(i), "MatMul");
  }
  if (!qk)
    return std::nullopt;
  double thetaQ = 0, thetaK = 0;
  bool ropeK = false;
  int64_t repeatK = 1, repeatV = 1;
  Value *q = skipNoOps(qk->input(0));
  Value *qx = ropeInput(q, thetaQ);
  auto qh = heads(qx ? qx : q, {0, 2, 1, 3});
  Value *cachedKey = nullptr;
  auto kh = transposedKeyHeads(qk->input(1), ropeK, thetaK, repeatK, cachedKey);
  Value *vv = skipNoOps(pv->input(1));
  if (Value *x = repeatKvInput(vv, repeatV))
    vv = x;
  auto vh = heads(vv, {0, 2, 1, 3});
  if (!qh || !kh || !vh || bool(qx) != ropeK || repeatK != repeatV ||
      (qx && !near(thetaQ, thetaK)) || kh->heads != vh->heads ||
      qh->heads != kh->heads * repeatK || qh->headDim != kh->headDim)
    return std::nullopt;
  m.q = *qh;
  m.k = *kh;
  m.v = *vh;
  m.cachedKey = cachedKey;
  m.cachedValue = vv;
  if (qx)
    m.ropeTheta = thetaQ;
  return attempt.commit(std::optional<AttentionMatch>(m));
}
