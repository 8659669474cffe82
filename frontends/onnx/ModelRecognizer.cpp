//===- ModelRecognizer.cpp - A GPT-2 or LLaMA model in an ONNX graph ------===//

#include "frontends/onnx/ModelRecognizer.h"

#include "frontends/onnx/OnnxImport.h"
#include "frontends/onnx/Patterns.h"

#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <map>
#include <set>

using namespace llmc;
using namespace llmc::onnx_import;
using llvm::formatv;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// What one transformer layer holds, as recognised.
struct LayerMatch {
  NormMatch norm1, norm2;
  // GPT-2: one fused QKV linear; LLaMA: q, k, v.
  std::vector<LinearMatch> qkv;
  LinearMatch out;
  AttentionMatch attention;
  // GPT-2: fc, proj; LLaMA: gate, up, down.
  std::vector<LinearMatch> mlp;
  Activation activation = Activation::GeluTanh;
};

double roundSignificant(double x) {
  return std::stod(formatv("{0:e6}", x).str());
}

class Recognizer {
public:
  explicit Recognizer(const Graph &g) : g(g) {}
  llvm::Expected<RecognizedModel> run(int64_t maxPositions);

private:
  const Graph &g;
  PatternMatcher pm;
  bool llama = false;
  Value *ids = nullptr;

  std::optional<NormMatch> norm(Value *v) {
    return llama ? pm.rmsNorm(v) : pm.layerNorm(v);
  }
  bool mlpBranch(Value *branch, Value *residual, LayerMatch &layer);
  bool attentionBranch(Value *branch, Value *residual, LayerMatch &layer);
  llvm::Error presentOutputs(const Value *logits,
                             const std::vector<LayerMatch> &layers);
  llvm::Error leftovers();
};

bool Recognizer::mlpBranch(Value *branch, Value *residual, LayerMatch &layer) {
  Attempt attempt(pm);
  Value *normIn = nullptr;
  if (!llama) {
    auto proj = pm.linear(branch);
    auto act = proj ? pm.activation(proj->input) : std::nullopt;
    auto fc = act ? pm.linear(act->input) : std::nullopt;
    auto n = fc ? norm(fc->input) : std::nullopt;
    if (!n || act->kind == Activation::Silu)
      return false;
    layer.mlp = {*fc, *proj};
    layer.activation = act->kind;
    layer.norm2 = *n;
    normIn = n->input;
  } else {
    auto down = pm.linear(branch);
    auto gated = down ? pm.gatedProduct(down->input) : std::nullopt;
    if (!gated || gated->first.kind != Activation::Silu)
      return false;
    auto gate = pm.linear(gated->first.input);
    auto up = pm.linear(gated->second);
    auto n = gate && up && gate->input == up->input ? norm(gate->input)
                                                    : std::nullopt;
    if (!n)
      return false;
    layer.mlp = {*gate, *up, *down};
    layer.activation = Activation::Silu;
    layer.norm2 = *n;
    normIn = n->input;
  }
  return attempt.commit(normIn == pm.skipNoOps(residual));
}

bool Recognizer::attentionBranch(Value *branch, Value *residual,
                                 LayerMatch &layer) {
  Attempt attempt(pm);
  auto out = pm.linear(branch);
  auto att = out ? pm.attention(out->input) : std::nullopt;
  if (!att || att->ropeTheta.has_value() != llama)
    return false;
  layer.out = *out;
  layer.attention = *att;
  Value *normOut = nullptr;
  if (!llama) {
    // GPT-2's fused c_attn: Q, K, V are the three outputs of one Split.
    Node *split = pm.def(att->q.source, "Split");
    if (!split || split->outputs.size() != 3 ||
        pm.skipNoOps(att->q.source) != split->outputs[0] ||
        pm.skipNoOps(att->k.source) != split->outputs[1] ||
        pm.skipNoOps(att->v.source) != split->outputs[2] ||
        split->outputs[0]->rank() != 3 ||
        (split->attrInt("axis", 0) != 2 && split->attrInt("axis", 0) != -1))
      return false;
    auto qkv = pm.linear(split->input(0));
    if (!qkv)
      return false;
    layer.qkv = {*qkv};
    normOut = qkv->input;
  } else {
    auto q = pm.linear(att->q.source);
    auto k = pm.linear(att->k.source);
    auto v = pm.linear(att->v.source);
    if (!q || !k || !v || q->input != k->input || q->input != v->input ||
        q->bias || k->bias || v->bias)
      return false;
    layer.qkv = {*q, *k, *v};
    normOut = q->input;
  }
  auto n = norm(normOut);
  if (!n)
    return false;
  layer.norm1 = *n;
  return attempt.commit(n->input == pm.skipNoOps(residual));
}

/// A cached export's other outputs must be each layer's keys and values,
/// every one once (what llmc's paged cache holds instead): the present of
/// a step whose past is empty is the step's own keys and values.
llvm::Error Recognizer::presentOutputs(const Value *logits,
                                       const std::vector<LayerMatch> &layers) {
  std::map<const Value *, std::string> cached;
  for (size_t i = 0; i < layers.size(); ++i) {
    cached[layers[i].attention.cachedKey] = formatv("layer {0}'s keys", i);
    cached[layers[i].attention.cachedValue] = formatv("layer {0}'s values", i);
  }
  cached.erase(nullptr);
  std::set<const Value *> seen;
  for (Value *out : g.outputs()) {
    if (out == logits)
      continue;
    const Value *v = pm.skipNoOps(out);
    if (!cached.count(v))
      return fail("graph output '" + out->name +
                  "' is neither the logits nor a layer's present keys or "
                  "values");
    if (!seen.insert(v).second)
      return fail("graph output '" + out->name + "' repeats " + cached[v]);
  }
  if (!seen.empty() && seen.size() != cached.size())
    return fail(formatv("the graph returns {0} present keys and values; "
                        "its {1} layers cache {2}",
                        seen.size(), layers.size(), cached.size()));
  return llvm::Error::success();
}

llvm::Error Recognizer::leftovers() {
  for (const Node &n : g.nodes()) {
    bool computes = llvm::any_of(n.outputs, [](const Value *v) {
      return !v->isConstant && !v->users.empty();
    });
    bool used = llvm::any_of(n.outputs, [&](const Value *v) {
      return !v->users.empty() || llvm::is_contained(g.outputs(), v);
    });
    if (n.op == "Identity" && n.input(0) && n.input(0)->isWeight)
      continue;
    if ((computes || used) && !n.outputs.empty() && !n.outputs[0]->isConstant &&
        !pm.matched().count(&n))
      return fail(n.describe() +
                  ": not part of any recognised pattern; llmc imports "
                  "GPT-2 and LLaMA-family graphs whose every op recomposes "
                  "into llm ops (general lowering of other ops is not "
                  "implemented yet)");
  }
  return llvm::Error::success();
}

llvm::Expected<RecognizedModel> Recognizer::run(int64_t maxPositions) {
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    if (g.role(i) == InputRole::Other)
      return fail("graph input '" + g.inputs()[i]->name +
                  "': llmc takes 'input_ids' and, from cached exports, "
                  "'attention_mask', 'position_ids' and "
                  "'past_key_values.N.key' / '.value'");
    if (g.role(i) == InputRole::Ids)
      ids = g.inputs()[i];
  }
  if (!ids || ids->type != ElementType::Int || ids->rank() != 2)
    return fail(kNoTokenIdsError +
                " 'input_ids' [batch, seq]; llmc imports causal language "
                "models");
  // The logits, and from a cached export its present keys and values.
  Value *logits = g.outputs().size() == 1 ? g.outputs()[0] : nullptr;
  for (Value *out : g.outputs())
    if (out->name == "logits")
      logits = out;
  if (!logits || logits->rank() != 3)
    return fail(formatv("the graph's {0} outputs hold no 'logits' [batch, "
                        "seq, vocab]",
                        g.outputs().size()));
  auto head = pm.linear(logits);
  if (!head || head->bias)
    return fail("graph output '" + logits->name +
                "' is not computed by an LM head (a linear layer without "
                "bias)");
  std::optional<NormMatch> finalNorm = pm.layerNorm(head->input);
  if (!finalNorm) {
    llama = true;
    finalNorm = pm.rmsNorm(head->input);
  }
  if (!finalNorm)
    return fail("the LM head's input is not a LayerNorm or an RMSNorm "
                "(the final norm of a GPT-2 or LLaMA model)");

  // Layers, last first, down the residual stream.
  std::vector<LayerMatch> layers;
  Value *x = pm.skipNoOps(finalNorm->input);
  Value *tokenEmbedding = nullptr, *positionEmbedding = nullptr;
  while (true) {
    if (Node *gather = pm.def(x, "Gather")) {
      tokenEmbedding = gather->input(0);
      if (!tokenEmbedding->isWeight || pm.skipNoOps(gather->input(1)) != ids)
        return fail(gather->describe() + ": not a token embedding of the "
                                         "graph's input ids");
      break;
    }
    Node *add = pm.def(x, "Add");
    if (!add)
      return fail(formatv("layer {0} from the end: the residual stream value "
                          "'{1}' is not a residual sum{2}",
                          layers.size(), x->name,
                          pm.hint().empty() ? "" : " (" + pm.hint() + ")"));
    // GPT-2's embedding sum: tokens plus the first T positions.
    if (!llama && !layers.empty()) {
      Attempt attempt(pm);
      for (int i = 0; i < 2 && !tokenEmbedding; ++i) {
        Node *tok = pm.def(add->input(i), "Gather");
        Value *pos = pm.skipNoOps(add->input(1 - i));
        Node *slice = pm.def(pos, "Slice");
        bool positions = slice && slice->input(0)->isWeight &&
                         slice->input(1)->isConstant &&
                         slice->input(1)->data == std::vector<double>{0} &&
                         (!slice->input(3) ||
                          slice->input(3)->data == std::vector<double>{0});
        if (Node *gp = positions ? nullptr : pm.def(pos, "Gather")) {
          Value *at = gp->input(1);
          positions = gp->input(0)->isWeight && at->isConstant;
          // 0..T-1, for each sequence of position_ids [batch, T].
          int64_t T = at->rank() ? at->shape.back() : 1;
          for (size_t p = 0; positions && p < at->data.size(); ++p)
            positions = at->data[p] == static_cast<double>(p % T);
          slice = gp;
        }
        if (tok && positions && tok->input(0)->isWeight &&
            pm.skipNoOps(tok->input(1)) == ids) {
          tokenEmbedding = tok->input(0);
          positionEmbedding = slice->input(0);
        }
      }
      if (attempt.commit(tokenEmbedding != nullptr))
        break;
    }
    LayerMatch layer;
    Value *h = nullptr;
    for (int i = 0; i < 2 && !h; ++i)
      if (mlpBranch(add->input(i), add->input(1 - i), layer))
        h = pm.skipNoOps(add->input(1 - i));
    Node *add1 = h ? pm.def(h, "Add") : nullptr;
    if (!add1)
      return fail(formatv("layer {0} from the end: the MLP branch off '{1}' "
                          "is not a recognised {2} MLP",
                          layers.size(), x->name,
                          llama ? "SiLU-gated" : "GELU"));
    Value *prev = nullptr;
    for (int i = 0; i < 2 && !prev; ++i)
      if (attentionBranch(add1->input(i), add1->input(1 - i), layer))
        prev = pm.skipNoOps(add1->input(1 - i));
    if (!prev)
      return fail(formatv("layer {0} from the end: the attention branch off "
                          "'{1}' is not recognised{2}",
                          layers.size(), h->name,
                          pm.hint().empty() ? "" : " (" + pm.hint() + ")"));
    layers.push_back(layer);
    x = prev;
  }
  if (layers.empty())
    return fail("no transformer layers between the embedding and the head");
  std::reverse(layers.begin(), layers.end());
  if (llvm::Error e = presentOutputs(logits, layers))
    return std::move(e);
  if (llvm::Error e = leftovers())
    return std::move(e);

  // The config, from layer 0; every layer must agree.
  RecognizedModel r;
  ModelConfig &c = r.config;
  const LayerMatch &l0 = layers[0];
  c.family = llama ? ModelFamily::Llama : ModelFamily::GPT2;
  c.vocabSize = tokenEmbedding->shape[0];
  c.hiddenSize = tokenEmbedding->shape[1];
  c.numLayers = layers.size();
  c.numHeads = l0.attention.q.heads;
  c.numKVHeads = l0.attention.k.heads;
  c.normEpsilon = roundSignificant(finalNorm->epsilon);
  auto outFeatures = [](const LinearMatch &m) {
    return m.weight->shape[m.transposed ? 0 : 1];
  };
  c.intermediateSize = outFeatures(l0.mlp[0]);
  c.geluTanh = l0.activation == Activation::GeluTanh;
  if (l0.attention.ropeTheta)
    c.ropeTheta = roundSignificant(*l0.attention.ropeTheta);
  c.maxPositions = positionEmbedding ? positionEmbedding->shape[0]
                   : maxPositions    ? maxPositions
                                     : 2048; // LlamaConfig's default
  if (l0.attention.q.headDim * c.numHeads != c.hiddenSize)
    return fail(formatv("attention heads of {0} x {1} do not make the hidden "
                        "size {2} (llmc's models keep head_dim = hidden / "
                        "heads)",
                        c.numHeads, l0.attention.q.headDim, c.hiddenSize));
  double expectedScale = 1.0 / std::sqrt(double(l0.attention.q.headDim));
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerMatch &l = layers[i];
    auto differs = [&](const char *what) {
      return fail(
          formatv("layer {0} differs from layer 0 in its {1}", i, what));
    };
    if (l.attention.q.heads != c.numHeads ||
        l.attention.k.heads != c.numKVHeads)
      return differs("attention heads");
    if (outFeatures(l.mlp[0]) != c.intermediateSize)
      return differs("MLP width");
    if (l.activation != l0.activation)
      return differs("activation");
    if (roundSignificant(l.norm1.epsilon) != c.normEpsilon ||
        roundSignificant(l.norm2.epsilon) != c.normEpsilon)
      return differs("norm epsilon");
    if (l.attention.ropeTheta &&
        roundSignificant(*l.attention.ropeTheta) != c.ropeTheta)
      return differs("RoPE theta");
    if (std::fabs(l.attention.scale - expectedScale) > 1e-6 * expectedScale)
      return fail(formatv("layer {0}: attention scale {1} is not "
                          "1/sqrt(head_dim) = {2}",
                          i, l.attention.scale, expectedScale));
  }

  // The LM head: the token embedding itself, a transposed copy of it (a
  // tied weight stored twice), or its own weight (LLaMA, untied).
  const Value *headW = head->weight;
  bool tied = headW == tokenEmbedding && head->transposed;
  if (!tied && headW != tokenEmbedding && !head->transposed &&
      headW->shape == std::vector<int64_t>{c.hiddenSize, c.vocabSize}) {
    tied = true;
    for (int64_t v = 0; tied && v < c.vocabSize; ++v)
      for (int64_t k = 0; tied && k < c.hiddenSize; ++k)
        tied = headW->weight[k * c.vocabSize + v] ==
               tokenEmbedding->weight[v * c.hiddenSize + k];
  }
  c.tieWordEmbeddings = tied || !llama;
  if (!llama && !tied)
    return fail("the GPT-2 LM head's weight is not the token embedding "
                "(llmc's GPT-2 ties them, as Hugging Face does)");

  // Parameters by Hugging Face name; nn.Linear stores [out, in], GPT-2's
  // Conv1D [in, out], MatMul's right operand is [in, out].
  auto &p = r.params;
  auto linear = [&](const std::string &name, const LinearMatch &m,
                    bool hfOutIn) {
    p[name + ".weight"] = {m.weight, m.transposed != hfOutIn};
    if (m.bias)
      p[name + ".bias"] = {m.bias, false};
  };
  if (!llama) {
    p["transformer.wte.weight"] = {tokenEmbedding, false};
    p["transformer.wpe.weight"] = {positionEmbedding, false};
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string h = formatv("transformer.h.{0}.", i).str();
      const LayerMatch &l = layers[i];
      p[h + "ln_1.weight"] = {l.norm1.weight, false};
      p[h + "ln_1.bias"] = {l.norm1.bias, false};
      linear(h + "attn.c_attn", l.qkv[0], false);
      linear(h + "attn.c_proj", l.out, false);
      p[h + "ln_2.weight"] = {l.norm2.weight, false};
      p[h + "ln_2.bias"] = {l.norm2.bias, false};
      linear(h + "mlp.c_fc", l.mlp[0], false);
      linear(h + "mlp.c_proj", l.mlp[1], false);
    }
    p["transformer.ln_f.weight"] = {finalNorm->weight, false};
    p["transformer.ln_f.bias"] = {finalNorm->bias, false};
  } else {
    p["model.embed_tokens.weight"] = {tokenEmbedding, false};
    for (size_t i = 0; i < layers.size(); ++i) {
      std::string h = formatv("model.layers.{0}.", i).str();
      const LayerMatch &l = layers[i];
      p[h + "input_layernorm.weight"] = {l.norm1.weight, false};
      linear(h + "self_attn.q_proj", l.qkv[0], true);
      linear(h + "self_attn.k_proj", l.qkv[1], true);
      linear(h + "self_attn.v_proj", l.qkv[2], true);
      linear(h + "self_attn.o_proj", l.out, true);
      p[h + "post_attention_layernorm.weight"] = {l.norm2.weight, false};
      linear(h + "mlp.gate_proj", l.mlp[0], true);
      linear(h + "mlp.up_proj", l.mlp[1], true);
      linear(h + "mlp.down_proj", l.mlp[2], true);
    }
    p["model.norm.weight"] = {finalNorm->weight, false};
    if (!tied)
      linear("lm_head", *head, true);
  }
  for (const LayerMatch &l : layers)
    for (const LinearMatch *m : {&l.out, &l.qkv[0]})
      if (m->bias && llama)
        return fail("LLaMA attention or MLP biases are not supported");

  r.nodesRecomposed = pm.matched().size();
  return r;
}

} // namespace

llvm::Expected<RecognizedModel>
llmc::onnx_import::recognizeModel(const Graph &graph, int64_t maxPositions) {
  Recognizer recognizer(graph);
  return recognizer.run(maxPositions);
}
