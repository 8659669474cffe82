//===- OnnxPatternsTest.cpp - Each recomposition pattern, each variant ----===//
//
// Small ONNX graphs built here the ways different exporters write one op
// (operand orders, Div by √2 or Mul by 1/√2, Reciprocal or Div(1, ·), the
// mask as Where either way round or added), folded by Graph::build and
// matched by PatternMatcher: each variant must give the same operands, and
// near misses (a different activation, no causal mask, wrong RoPE tables)
// must not match.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/OnnxGraph.h"
#include "frontends/onnx/Patterns.h"

#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace llmc::onnx_import;

namespace {

constexpr int64_t B = 2, T = 5;

/// Writes an ONNX graph node by node; names are made up as needed.
class GraphWriter {
public:
  GraphWriter() {
    model.set_ir_version(8);
    model.add_opset_import()->set_version(17);
    g = model.mutable_graph();
    g->set_name("test");
  }

  std::string input(const std::string &name, std::vector<int64_t> shape,
                    int type = onnx::TensorProto::FLOAT) {
    onnx::ValueInfoProto *v = g->add_input();
    v->set_name(name);
    auto *t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(type);
    for (int64_t d : shape) // < 0: a symbolic dimension
      if (d < 0)
        t->mutable_shape()->add_dim()->set_dim_param("dim" +
                                                     std::to_string(-d));
      else
        t->mutable_shape()->add_dim()->set_dim_value(d);
    return name;
  }

  std::string weight(const std::string &name, std::vector<int64_t> shape) {
    onnx::TensorProto *t = g->add_initializer();
    fill(*t, name, shape, onnx::TensorProto::FLOAT, {});
    return name;
  }

  std::string constant(std::vector<double> values, std::vector<int64_t> shape,
                       int type = onnx::TensorProto::FLOAT) {
    std::string name = fresh();
    onnx::NodeProto *n = g->add_node();
    n->set_op_type("Constant");
    n->add_output(name);
    onnx::AttributeProto *a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    fill(*a->mutable_t(), name, shape, type, values);
    return name;
  }
  /// An int64 vector, written exactly (INT64_MAX does not survive a double).
  std::string ints(std::vector<int64_t> v) {
    std::string name = constant({}, {0}, onnx::TensorProto::INT64);
    onnx::TensorProto *t =
        g->mutable_node(g->node_size() - 1)->mutable_attribute(0)->mutable_t();
    t->clear_dims();
    t->add_dims(int64_t(v.size()));
    for (int64_t x : v)
      t->add_int64_data(x);
    return name;
  }
  std::string scalar(double v) { return constant({v}, {}); }

  std::string
  node(const std::string &op, std::vector<std::string> inputs,
       std::vector<std::pair<std::string, std::vector<int64_t>>> intAttrs = {},
       int outputs = 1) {
    onnx::NodeProto *n = g->add_node();
    n->set_op_type(op);
    n->set_name("/" + op + "_" + std::to_string(counter));
    for (const std::string &in : inputs)
      n->add_input(in);
    std::string first;
    for (int i = 0; i < outputs; ++i) {
      std::string out = fresh();
      n->add_output(out);
      if (i == 0)
        first = out;
    }
    for (auto &[name, values] : intAttrs) {
      onnx::AttributeProto *a = n->add_attribute();
      a->set_name(name);
      if (name == "perm" || name == "axes") {
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t v : values)
          a->add_ints(v);
      } else {
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(values[0]);
      }
    }
    return first;
  }
  std::string floatAttrNode(const std::string &op,
                            std::vector<std::string> inputs,
                            const std::string &attr, float value) {
    std::string out = node(op, inputs);
    onnx::AttributeProto *a =
        g->mutable_node(g->node_size() - 1)->add_attribute();
    a->set_name(attr);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
    return out;
  }
  /// The names of a multi-output node's outputs.
  std::vector<std::string> outputsOfLast() {
    const onnx::NodeProto &n = g->node(g->node_size() - 1);
    return {n.output().begin(), n.output().end()};
  }

  /// Builds the graph with `root` as its output and returns that value.
  Value *build(const std::string &root) {
    g->add_output()->set_name(root);
    auto built = Graph::build(model, {B, T});
    if (!built) {
      ADD_FAILURE() << llvm::toString(built.takeError());
      return nullptr;
    }
    graph = std::move(*built);
    return graph.outputs()[0];
  }

  onnx::ModelProto model;
  Graph graph;

private:
  std::string fresh() { return "v" + std::to_string(counter++); }
  static void fill(onnx::TensorProto &t, const std::string &name,
                   const std::vector<int64_t> &shape, int type,
                   const std::vector<double> &values) {
    t.set_name(name);
    t.set_data_type(type);
    int64_t n = 1;
    for (int64_t d : shape) {
      t.add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i) {
      double v = values.empty() ? 0.01 * (i % 7) : values[i];
      if (type == onnx::TensorProto::FLOAT)
        t.add_float_data(float(v));
      else if (type == onnx::TensorProto::BOOL)
        t.add_int32_data(v != 0);
      else
        t.add_int64_data(int64_t(v));
    }
  }
  onnx::GraphProto *g;
  int counter = 0;
};

//===----------------------------------------------------------------------===//
// Norms
//===----------------------------------------------------------------------===//

TEST(OnnxPatterns, LayerNormalizationNode) {
  GraphWriter w;
  std::string x = w.input("x", {B, T, 8});
  std::string y =
      w.floatAttrNode("LayerNormalization",
                      {x, w.weight("ln.weight", {8}), w.weight("ln.bias", {8})},
                      "epsilon", 1e-5f);
  Value *root = w.build(y);
  PatternMatcher pm;
  auto m = pm.layerNorm(root);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->input->name, "x");
  EXPECT_EQ(m->weight->name, "ln.weight");
  EXPECT_EQ(m->bias->name, "ln.bias");
  EXPECT_NEAR(m->epsilon, 1e-5, 1e-11);
}

/// (x - mean) / sqrt(var + eps) * w + b, with the operands of the last Mul
/// and Add in either order.
void decomposedLayerNorm(bool swapped) {
  GraphWriter w;
  std::string x = w.input("x", {B, T, 8});
  std::string mean = w.node("ReduceMean", {x}, {{"axes", {-1}}});
  std::string d = w.node("Sub", {x, mean});
  std::string var =
      w.node("ReduceMean", {w.node("Pow", {d, w.scalar(2)})}, {{"axes", {-1}}});
  std::string s = w.node("Sqrt", {w.node("Add", {var, w.scalar(1e-6)})});
  std::string n = w.node("Div", {d, s});
  std::string weight = w.weight("ln.weight", {8}),
              bias = w.weight("ln.bias", {8});
  std::string y = swapped ? w.node("Add", {bias, w.node("Mul", {weight, n})})
                          : w.node("Add", {w.node("Mul", {n, weight}), bias});
  Value *root = w.build(y);
  PatternMatcher pm;
  auto m = pm.layerNorm(root);
  ASSERT_TRUE(m) << "swapped=" << swapped;
  EXPECT_EQ(m->input->name, "x");
  EXPECT_EQ(m->weight->name, "ln.weight");
  EXPECT_EQ(m->bias->name, "ln.bias");
  EXPECT_NEAR(m->epsilon, 1e-6, 1e-12);
  EXPECT_EQ(pm.matched().size(), 9u);
}

TEST(OnnxPatterns, LayerNormDecomposed) {
  decomposedLayerNorm(false);
  decomposedLayerNorm(true);
}

enum class RsqrtForm { DivOne, Reciprocal, DivX, SquareByMul };

void rmsNorm(RsqrtForm form) {
  GraphWriter w;
  std::string x = w.input("x", {B, T, 8});
  std::string sq = form == RsqrtForm::SquareByMul
                       ? w.node("Mul", {x, x})
                       : w.node("Pow", {x, w.scalar(2)});
  std::string ms = w.node("ReduceMean", {sq}, {{"axes", {-1}}});
  std::string root = w.node("Sqrt", {w.node("Add", {w.scalar(1e-6), ms})});
  std::string normed;
  switch (form) {
  case RsqrtForm::DivOne:
  case RsqrtForm::SquareByMul:
    normed = w.node("Mul", {x, w.node("Div", {w.scalar(1), root})});
    break;
  case RsqrtForm::Reciprocal:
    normed = w.node("Mul", {w.node("Reciprocal", {root}), x});
    break;
  case RsqrtForm::DivX:
    normed = w.node("Div", {x, root});
    break;
  }
  std::string y = w.node("Mul", {w.weight("norm.weight", {8}), normed});
  Value *out = w.build(y);
  PatternMatcher pm;
  auto m = pm.rmsNorm(out);
  ASSERT_TRUE(m) << "form " << int(form);
  EXPECT_EQ(m->input->name, "x");
  EXPECT_EQ(m->weight->name, "norm.weight");
  EXPECT_EQ(m->bias, nullptr);
  EXPECT_NEAR(m->epsilon, 1e-6, 1e-12);
  // An RMSNorm is no LayerNorm.
  EXPECT_FALSE(PatternMatcher().layerNorm(out));
}

TEST(OnnxPatterns, RmsNormForms) {
  for (RsqrtForm f : {RsqrtForm::DivOne, RsqrtForm::Reciprocal, RsqrtForm::DivX,
                      RsqrtForm::SquareByMul})
    rmsNorm(f);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

std::optional<ActivationMatch> matchActivation(
    const std::function<std::string(GraphWriter &, std::string)> &f) {
  GraphWriter w;
  std::string x = w.input("x", {B, T, 8});
  Value *out = w.build(f(w, x));
  PatternMatcher pm;
  auto m = pm.activation(out);
  if (m)
    EXPECT_EQ(m->input->name, "x");
  return m;
}

TEST(OnnxPatterns, GeluTanhAsTorchExportsIt) {
  auto m = matchActivation([](GraphWriter &w, std::string x) {
    std::string cube =
        w.node("Mul", {w.node("Pow", {x, w.scalar(3)}), w.scalar(0.044715)});
    std::string inner = w.node(
        "Mul", {w.node("Add", {x, cube}), w.scalar(std::sqrt(2 / M_PI))});
    std::string half = w.node("Mul", {x, w.scalar(0.5)});
    return w.node(
        "Mul", {half, w.node("Add", {w.node("Tanh", {inner}), w.scalar(1)})});
  });
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, Activation::GeluTanh);
}

TEST(OnnxPatterns, GeluErfDivOrMul) {
  for (bool divide : {true, false}) {
    auto m = matchActivation([&](GraphWriter &w, std::string x) {
      std::string scaled =
          divide ? w.node("Div", {x, w.scalar(std::sqrt(2.0))})
                 : w.node("Mul", {w.scalar(1 / std::sqrt(2.0)), x});
      std::string t = w.node("Add", {w.scalar(1), w.node("Erf", {scaled})});
      return w.node("Mul", {w.node("Mul", {x, t}), w.scalar(0.5)});
    });
    ASSERT_TRUE(m) << "divide=" << divide;
    EXPECT_EQ(m->kind, Activation::GeluErf);
  }
}

TEST(OnnxPatterns, SiluAndNearMisses) {
  auto silu = matchActivation([](GraphWriter &w, std::string x) {
    return w.node("Mul", {w.node("Sigmoid", {x}), x});
  });
  ASSERT_TRUE(silu);
  EXPECT_EQ(silu->kind, Activation::Silu);
  // x·tanh(x) and a GELU with the wrong constant are neither.
  EXPECT_FALSE(matchActivation([](GraphWriter &w, std::string x) {
    return w.node("Mul", {w.node("Tanh", {x}), x});
  }));
  EXPECT_FALSE(matchActivation([](GraphWriter &w, std::string x) {
    std::string t =
        w.node("Add", {w.scalar(1),
                       w.node("Erf", {w.node("Div", {x, w.scalar(1.5)})})});
    return w.node("Mul", {w.node("Mul", {x, t}), w.scalar(0.5)});
  }));
}

//===----------------------------------------------------------------------===//
// Linear layers
//===----------------------------------------------------------------------===//

TEST(OnnxPatterns, GemmBetweenReshapes) {
  GraphWriter w;
  std::string x = w.input("x", {B, T, 8});
  std::string flat = w.node("Reshape", {x, w.ints({-1, 8})});
  std::string y = w.node(
      "Gemm", {flat, w.weight("fc.weight", {16, 8}), w.weight("fc.bias", {16})},
      {{"transB", {1}}});
  Value *out = w.build(w.node("Reshape", {y, w.ints({B, T, 16})}));
  PatternMatcher pm;
  auto m = pm.linear(out);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->input->name, "x");
  EXPECT_EQ(m->weight->name, "fc.weight");
  EXPECT_TRUE(m->transposed);
  EXPECT_EQ(m->bias->name, "fc.bias");
}

TEST(OnnxPatterns, MatMulPlusBiasEitherOrder) {
  for (bool biasFirst : {true, false}) {
    GraphWriter w;
    std::string x = w.input("x", {B, T, 8});
    std::string p = w.node("MatMul", {x, w.weight("w", {8, 16})});
    std::string b = w.weight("b", {16});
    Value *out =
        w.build(biasFirst ? w.node("Add", {b, p}) : w.node("Add", {p, b}));
    PatternMatcher pm;
    auto m = pm.linear(out);
    ASSERT_TRUE(m) << "biasFirst=" << biasFirst;
    EXPECT_EQ(m->input->name, "x");
    EXPECT_FALSE(m->transposed);
    EXPECT_EQ(m->bias->name, "b");
  }
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

enum class Mask { WhereFuture, WherePast, Additive, None };

struct AttentionSpec {
  int64_t heads = 2, kvHeads = 2, headDim = 4;
  Mask mask = Mask::WhereFuture;
  bool scaleByMul = false;
  double ropeTheta = 0; // 0: no RoPE
  bool badRopeTable = false;
  // A cached export's first step: masks and RoPE tables per sequence
  // [B, 1, T, ..], a zero padding mask added, K and V after an empty past.
  bool cached = false;
};

/// `slice` repeated for each of the B sequences: shape [B, 1, slice dims].
std::string perSequence(GraphWriter &w, const std::vector<double> &slice,
                        std::vector<int64_t> dims, bool tiled, int type) {
  if (!tiled)
    return w.constant(slice, dims, type);
  std::vector<double> all;
  for (int64_t b = 0; b < B; ++b)
    all.insert(all.end(), slice.begin(), slice.end());
  dims.insert(dims.begin(), {B, 1});
  return w.constant(all, dims, type);
}

std::string headsOf(GraphWriter &w, const std::string &src, int64_t h,
                    int64_t d) {
  std::string r = w.node("Reshape", {src, w.ints({B, T, h, d})});
  return w.node("Transpose", {r}, {{"perm", {0, 2, 1, 3}}});
}

std::string rope(GraphWriter &w, const std::string &x, const AttentionSpec &s) {
  int64_t D = s.headDim;
  std::vector<double> cos, sin;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < D; ++j) {
      double angle = t * std::pow(s.ropeTheta, -2.0 * (j % (D / 2)) / D);
      cos.push_back(std::cos(angle) + (s.badRopeTable && j == 1 ? 0.1 : 0));
      sin.push_back(std::sin(angle));
    }
  std::string hi =
      w.node("Slice", {x, w.ints({D / 2}), w.ints({INT64_MAX}), w.ints({3})});
  std::string lo =
      w.node("Slice", {x, w.ints({0}), w.ints({D / 2}), w.ints({3})});
  std::string rotated =
      w.node("Concat", {w.node("Neg", {hi}), lo}, {{"axis", {-1}}});
  auto table = [&](const std::vector<double> &t) {
    return perSequence(w, t, {T, D}, s.cached, onnx::TensorProto::FLOAT);
  };
  return w.node("Add", {w.node("Mul", {x, table(cos)}),
                        w.node("Mul", {rotated, table(sin)})});
}

std::string repeatKv(GraphWriter &w, const std::string &x, int64_t kvHeads,
                     int64_t n, int64_t D) {
  std::string u = w.node("Unsqueeze", {x, w.ints({2})});
  std::string e = w.node("Expand", {u, w.ints({B, kvHeads, n, T, D})});
  return w.node("Reshape", {e, w.ints({B, kvHeads * n, T, D})});
}

std::optional<AttentionMatch> matchAttention(const AttentionSpec &s,
                                             std::string *hint = nullptr) {
  GraphWriter w;
  int64_t H = s.heads, K = s.kvHeads, D = s.headDim, n = H / K;
  std::string q = headsOf(w, w.input("q_src", {B, T, H * D}), H, D);
  std::string k = headsOf(w, w.input("k_src", {B, T, K * D}), K, D);
  std::string v = headsOf(w, w.input("v_src", {B, T, K * D}), K, D);
  if (s.ropeTheta) {
    q = rope(w, q, s);
    k = rope(w, k, s);
  }
  if (s.cached) {
    auto afterPast = [&](const std::string &x, const char *name) {
      std::string past = w.input(name, {B, K, -1, D});
      return w.node("Concat", {past, x}, {{"axis", {2}}});
    };
    k = afterPast(k, "past_key_values.0.key");
    v = afterPast(v, "past_key_values.0.value");
  }
  if (n > 1) {
    k = repeatKv(w, k, K, n, D);
    v = repeatKv(w, v, K, n, D);
  }
  std::string kt = w.node("Transpose", {k}, {{"perm", {0, 1, 3, 2}}});
  std::string scores = w.node("MatMul", {q, kt});
  scores = s.scaleByMul
               ? w.node("Mul", {w.scalar(1 / std::sqrt(double(D))), scores})
               : w.node("Div", {scores, w.scalar(std::sqrt(double(D)))});
  std::vector<double> future, past, additive;
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) {
      future.push_back(j > i);
      past.push_back(j <= i);
      additive.push_back(j > i ? -1e9 : 0);
    }
  std::string inf = w.scalar(-INFINITY);
  auto mask = [&](const std::vector<double> &m, int type) {
    return perSequence(w, m, {T, T}, s.cached, type);
  };
  switch (s.mask) {
  case Mask::WhereFuture:
    scores =
        w.node("Where", {mask(future, onnx::TensorProto::BOOL), inf, scores});
    break;
  case Mask::WherePast:
    scores =
        w.node("Where", {mask(past, onnx::TensorProto::BOOL), scores, inf});
    break;
  case Mask::Additive:
    scores = w.node("Add", {scores, mask(additive, onnx::TensorProto::FLOAT)});
    break;
  case Mask::None:
    break;
  }
  if (s.cached) // (1 - attention_mask) · finfo.min, no padding: zeros
    scores = w.node(
        "Add",
        {w.constant(std::vector<double>(B * T, -0.0), {B, 1, 1, T}), scores});
  std::string probs = w.node("Softmax", {scores}, {{"axis", {-1}}});
  std::string out = w.node("MatMul", {probs, v});
  out = w.node("Transpose", {out}, {{"perm", {0, 2, 1, 3}}});
  Value *root = w.build(w.node("Reshape", {out, w.ints({B, T, H * D})}));
  PatternMatcher pm;
  auto m = pm.attention(root);
  if (hint)
    *hint = pm.hint();
  if (m) {
    EXPECT_EQ(m->q.source->name, "q_src");
    EXPECT_EQ(m->k.source->name, "k_src");
    EXPECT_EQ(m->v.source->name, "v_src");
    EXPECT_NEAR(m->scale, 1 / std::sqrt(double(D)), 1e-7);
    if (s.cached) {
      // The keys and values the cache holds: per kv head, K after RoPE.
      std::vector<int64_t> shape{B, K, T, D};
      EXPECT_TRUE(m->cachedKey && m->cachedValue);
      if (!m->cachedKey || !m->cachedValue)
        return std::nullopt;
      EXPECT_EQ(m->cachedKey->shape, shape);
      EXPECT_EQ(m->cachedValue->shape, shape);
      EXPECT_EQ(m->cachedKey->producer->op, s.ropeTheta ? "Add" : "Transpose");
      EXPECT_EQ(m->cachedValue->producer->op, "Transpose");
    }
  }
  return m;
}

TEST(OnnxPatterns, AttentionMaskForms) {
  for (Mask mask : {Mask::WhereFuture, Mask::WherePast, Mask::Additive})
    for (bool mul : {false, true}) {
      AttentionSpec s;
      s.mask = mask;
      s.scaleByMul = mul;
      auto m = matchAttention(s);
      ASSERT_TRUE(m) << "mask " << int(mask) << " mul " << mul;
      EXPECT_EQ(m->q.heads, 2);
      EXPECT_EQ(m->q.headDim, 4);
      EXPECT_FALSE(m->ropeTheta);
    }
}

TEST(OnnxPatterns, AttentionWithoutCausalMaskIsRefused) {
  AttentionSpec s;
  s.mask = Mask::None;
  std::string hint;
  EXPECT_FALSE(matchAttention(s, &hint));
  EXPECT_EQ(hint, "attention without a causal mask");
}

TEST(OnnxPatterns, GroupedHeadsAndRope) {
  AttentionSpec s;
  s.heads = 4;
  s.kvHeads = 2;
  s.headDim = 8;
  s.ropeTheta = 500000;
  auto m = matchAttention(s);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->q.heads, 4);
  EXPECT_EQ(m->k.heads, 2);
  EXPECT_EQ(m->v.heads, 2);
  ASSERT_TRUE(m->ropeTheta);
  EXPECT_NEAR(*m->ropeTheta, 500000, 1);
}

TEST(OnnxPatterns, RopeTablesAreChecked) {
  AttentionSpec s;
  s.headDim = 8;
  s.ropeTheta = 10000;
  s.badRopeTable = true;
  std::string hint;
  EXPECT_FALSE(matchAttention(s, &hint));
  EXPECT_NE(hint.find("RoPE tables"), std::string::npos) << hint;
}

TEST(OnnxPatterns, CachedExportFirstStep) {
  // Every mask form, with and without grouped heads and RoPE, as a cached
  // export computes it for a sequence's first step.
  for (Mask mask : {Mask::WhereFuture, Mask::WherePast, Mask::Additive})
    for (bool grouped : {false, true}) {
      AttentionSpec s;
      s.cached = true;
      s.mask = mask;
      if (grouped) {
        s.heads = 4, s.headDim = 8, s.ropeTheta = 10000;
      }
      auto m = matchAttention(s);
      ASSERT_TRUE(m) << "mask " << int(mask) << " grouped " << grouped;
      EXPECT_EQ(m->k.heads, 2);
    }
  // The RoPE tables are still checked per sequence.
  AttentionSpec s;
  s.cached = true;
  s.headDim = 8;
  s.ropeTheta = 10000;
  s.badRopeTable = true;
  EXPECT_FALSE(matchAttention(s));
}

TEST(OnnxGraph, CachedExportInputsAreTheFirstStep) {
  // attention_mask [batch, past + seq], position_ids [batch, seq] and a
  // past [batch, heads, past, head_dim], all symbolic where Optimum's are.
  GraphWriter w;
  std::string ids = w.input("input_ids", {-1, -2}, onnx::TensorProto::INT64);
  std::string mask =
      w.input("attention_mask", {-1, -3}, onnx::TensorProto::INT64);
  std::string positions =
      w.input("position_ids", {-1, -2}, onnx::TensorProto::INT64);
  std::string past = w.input("past_key_values.0.key", {-1, 2, -4, 4});
  std::string both =
      w.node("Concat", {past, w.input("k", {-1, 2, T, 4})}, {{"axis", {2}}});
  std::string sum = w.node("Add", {w.node("Cast", {mask}, {{"to", {1}}}),
                                   w.node("Cast", {positions}, {{"to", {1}}})});
  onnx::GraphProto *g = w.model.mutable_graph();
  g->add_output()->set_name(ids);
  g->add_output()->set_name(sum);
  ASSERT_TRUE(w.build(both));
  const Graph &graph = w.graph;
  Value *present = graph.outputs()[2];
  ASSERT_EQ(graph.inputs().size(), 5u);
  EXPECT_EQ(graph.role(0), InputRole::Ids);
  EXPECT_EQ(graph.role(1), InputRole::AttentionMask);
  EXPECT_EQ(graph.role(2), InputRole::Positions);
  EXPECT_EQ(graph.role(3), InputRole::Past);
  EXPECT_EQ(graph.role(4), InputRole::Other);
  EXPECT_EQ(graph.inputs()[3]->shape, (std::vector<int64_t>{B, 2, 0, 4}));
  // mask + positions folds: 1 + t for every sequence.
  Value *folded = graph.outputs()[1];
  ASSERT_TRUE(folded->isConstant);
  for (int64_t i = 0; i < B * T; ++i)
    EXPECT_EQ(folded->data[i], 1 + i % T) << i;
  // The past is empty: Concat(past, k) is k.
  PatternMatcher pm;
  EXPECT_EQ(pm.skipNoOps(present), graph.inputs()[4]);
}

//===----------------------------------------------------------------------===//
// Folding
//===----------------------------------------------------------------------===//

TEST(OnnxGraph, ShapeArithmeticAndTriluFold) {
  // Expand(1, Concat(Unsqueeze(Gather(Shape(x), 1)) x 2)) -> Trilu: a causal
  // mask as exports compute it from the input's length, constant once T is
  // bound.
  GraphWriter w;
  std::string x = w.input("ids", {B, T}, onnx::TensorProto::INT64);
  std::string t =
      w.node("Gather", {w.node("Shape", {x}),
                        w.constant({1}, {}, onnx::TensorProto::INT64)});
  std::string u = w.node("Unsqueeze", {t, w.ints({0})});
  std::string shape = w.node("Concat", {u, u}, {{"axis", {0}}});
  std::string ones = w.node("Expand", {w.scalar(1), shape});
  std::string tri =
      w.node("Trilu", {ones, w.constant({1}, {}, onnx::TensorProto::INT64)},
             {{"upper", {1}}});
  Value *mask = w.build(tri);
  ASSERT_TRUE(mask);
  ASSERT_TRUE(mask->isConstant);
  EXPECT_EQ(mask->shape, (std::vector<int64_t>{T, T}));
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j)
      EXPECT_EQ(mask->data[i * T + j], j > i ? 1 : 0) << i << "," << j;
}

TEST(OnnxGraph, ErrorsNameTheNode) {
  GraphWriter w;
  std::string x = w.input("x", {B, T, 8});
  w.node("Hardmax", {x});
  onnx::GraphProto *g = w.model.mutable_graph();
  g->add_output()->set_name(g->node(g->node_size() - 1).output(0));
  auto built = Graph::build(w.model, {B, T});
  ASSERT_FALSE(built);
  std::string message = llvm::toString(built.takeError());
  EXPECT_NE(message.find("node '/Hardmax_"), std::string::npos) << message;
  EXPECT_NE(message.find("(Hardmax): not supported"), std::string::npos)
      << message;
}

} // namespace
