//===- ModelBuilder.cpp - llm IR of a GPT-2 or LLaMA model ----------------===//
//
// The parameter list comes first (names and HF shapes); the function bodies
// then look parameters up by name, so the IR and the checkpoint layout can
// never disagree. Each family's block mirrors its Hugging Face module.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/ModelBuilder.h"

#include "dialects/llm/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace llmc;

int64_t ParamSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

static std::vector<ParamSpec> listGPT2Parameters(const ModelConfig &c) {
  int64_t C = c.hiddenSize, F = c.intermediateSize;
  std::vector<ParamSpec> params = {
      {"transformer.wte.weight", {c.vocabSize, C}},
      {"transformer.wpe.weight", {c.maxPositions, C}},
  };
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string h = llvm::formatv("transformer.h.{0}.", l).str();
    params.insert(params.end(), {
        {h + "ln_1.weight", {C}},
        {h + "ln_1.bias", {C}},
        {h + "attn.c_attn.weight", {C, 3 * C}}, // Conv1D: in x out
        {h + "attn.c_attn.bias", {3 * C}},
        {h + "attn.c_proj.weight", {C, C}},
        {h + "attn.c_proj.bias", {C}},
        {h + "ln_2.weight", {C}},
        {h + "ln_2.bias", {C}},
        {h + "mlp.c_fc.weight", {C, F}},
        {h + "mlp.c_fc.bias", {F}},
        {h + "mlp.c_proj.weight", {F, C}},
        {h + "mlp.c_proj.bias", {C}},
    });
  }
  params.push_back({"transformer.ln_f.weight", {C}});
  params.push_back({"transformer.ln_f.bias", {C}});
  return params;
}

static std::vector<ParamSpec> listLlamaParameters(const ModelConfig &c) {
  int64_t C = c.hiddenSize, F = c.intermediateSize, D = c.headDim();
  int64_t q = c.numHeads * D, kv = c.numKVHeads * D;
  std::vector<ParamSpec> params = {{"model.embed_tokens.weight", {c.vocabSize, C}}};
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string h = llvm::formatv("model.layers.{0}.", l).str();
    params.insert(params.end(), {
        {h + "self_attn.q_proj.weight", {q, C}}, // nn.Linear: out x in
        {h + "self_attn.k_proj.weight", {kv, C}},
        {h + "self_attn.v_proj.weight", {kv, C}},
        {h + "self_attn.o_proj.weight", {C, q}},
        {h + "mlp.gate_proj.weight", {F, C}},
        {h + "mlp.up_proj.weight", {F, C}},
        {h + "mlp.down_proj.weight", {C, F}},
        {h + "input_layernorm.weight", {C}},
        {h + "post_attention_layernorm.weight", {C}},
    });
  }
  params.push_back({"model.norm.weight", {C}});
  if (!c.tieWordEmbeddings)
    params.push_back({"lm_head.weight", {c.vocabSize, C}});
  return params;
}

std::vector<ParamSpec> llmc::listParameters(const ModelConfig &config) {
  return config.family == ModelFamily::GPT2 ? listGPT2Parameters(config)
                                            : listLlamaParameters(config);
}

//===----------------------------------------------------------------------===//
// Function bodies
//===----------------------------------------------------------------------===//

namespace {
/// Emits the ops of one function, tagging each with the layer it belongs to.
class BodyBuilder {
public:
  BodyBuilder(OpBuilder &b, const ModelConfig &config, int64_t batch,
              int64_t seq, const llvm::StringMap<Value> &params)
      : b(b), loc(b.getUnknownLoc()), c(config), B(batch), T(seq),
        params(params) {}

  /// Token ids [B, T] to logits [B, T, V].
  Value logits(Value ids) {
    return c.family == ModelFamily::GPT2 ? gpt2(ids) : llama(ids);
  }

private:
  template <typename OpT, typename... Args> Value create(Args &&...args) {
    auto op = OpT::create(b, loc, std::forward<Args>(args)...);
    if (layer >= 0)
      op->setAttr(llm::LLMDialect::kLayerAttrName, b.getI64IntegerAttr(layer));
    return op->getResult(0);
  }

  Value param(const std::string &name) { return params.lookup(name); }

  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }

  /// [B, T, H·D] -> [B, H, T, D]
  Value splitHeads(Value x, int64_t heads) {
    Value y = create<llm::ReshapeOp>(f32({B, T, heads, c.headDim()}), x);
    return create<llm::TransposeOp>(y, ArrayRef<int64_t>{0, 2, 1, 3});
  }

  /// [B, H, T, D] -> [B, T, H·D]
  Value mergeHeads(Value x) {
    Value y = create<llm::TransposeOp>(x, ArrayRef<int64_t>{0, 2, 1, 3});
    return create<llm::ReshapeOp>(f32({B, T, c.numHeads * c.headDim()}), y);
  }

  Value linear(Value x, const std::string &weight, Value bias = {},
               bool transposeWeight = false) {
    return create<llm::MatmulOp>(x, param(weight), bias, false,
                                 transposeWeight);
  }

  Value layerNorm(Value x, const std::string &prefix) {
    return create<llm::LayerNormOp>(x, param(prefix + ".weight"),
                                    param(prefix + ".bias"),
                                    b.getF64FloatAttr(c.normEpsilon));
  }

  Value rmsNorm(Value x, const std::string &weight) {
    return create<llm::RmsNormOp>(x, param(weight),
                                  b.getF64FloatAttr(c.normEpsilon));
  }

  Value causalAttention(Value q, Value k, Value v) {
    return create<llm::AttentionOp>(q, k, v, /*causal=*/true,
                                    /*scale=*/FloatAttr());
  }

  Value gpt2(Value ids) {
    int64_t C = c.hiddenSize;
    Value x = create<llm::EmbeddingOp>(param("transformer.wte.weight"), ids);
    // Positions 0..T-1 are the first T rows of wpe, added to every batch row.
    Value pos = tensor::ExtractSliceOp::create(
        b, loc, param("transformer.wpe.weight"),
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(T), b.getIndexAttr(C)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    x = create<llm::AddOp>(x, pos);
    auto gelu = c.geluTanh ? llm::GeluApproximation::tanh
                           : llm::GeluApproximation::none;
    for (layer = 0; layer < c.numLayers; ++layer) {
      std::string h = llvm::formatv("transformer.h.{0}.", layer).str();
      Value a = layerNorm(x, h + "ln_1");
      a = linear(a, h + "attn.c_attn.weight", param(h + "attn.c_attn.bias"));
      auto qkv = llm::SplitOp::create(
          b, loc, TypeRange{f32({B, T, C}), f32({B, T, C}), f32({B, T, C})},
          a, b.getI64IntegerAttr(2));
      qkv->setAttr(llm::LLMDialect::kLayerAttrName,
                   b.getI64IntegerAttr(layer));
      a = causalAttention(splitHeads(qkv.getResult(0), c.numHeads),
                          splitHeads(qkv.getResult(1), c.numHeads),
                          splitHeads(qkv.getResult(2), c.numHeads));
      a = linear(mergeHeads(a), h + "attn.c_proj.weight",
                 param(h + "attn.c_proj.bias"));
      x = create<llm::AddOp>(x, a);
      Value m = layerNorm(x, h + "ln_2");
      m = linear(m, h + "mlp.c_fc.weight", param(h + "mlp.c_fc.bias"));
      m = create<llm::GeluOp>(m, gelu);
      m = linear(m, h + "mlp.c_proj.weight", param(h + "mlp.c_proj.bias"));
      x = create<llm::AddOp>(x, m);
    }
    layer = -1;
    x = layerNorm(x, "transformer.ln_f");
    // GPT-2's LM head is the token embedding, transposed.
    return linear(x, "transformer.wte.weight", {}, /*transposeWeight=*/true);
  }

  Value llama(Value ids) {
    Value x = create<llm::EmbeddingOp>(param("model.embed_tokens.weight"), ids);
    for (layer = 0; layer < c.numLayers; ++layer) {
      std::string h = llvm::formatv("model.layers.{0}.", layer).str();
      Value a = rmsNorm(x, h + "input_layernorm.weight");
      Value q = linear(a, h + "self_attn.q_proj.weight", {}, true);
      Value k = linear(a, h + "self_attn.k_proj.weight", {}, true);
      Value v = linear(a, h + "self_attn.v_proj.weight", {}, true);
      FloatAttr theta = b.getF64FloatAttr(c.ropeTheta);
      q = create<llm::RopeOp>(splitHeads(q, c.numHeads), theta);
      k = create<llm::RopeOp>(splitHeads(k, c.numKVHeads), theta);
      a = causalAttention(q, k, splitHeads(v, c.numKVHeads));
      a = linear(mergeHeads(a), h + "self_attn.o_proj.weight", {}, true);
      x = create<llm::AddOp>(x, a);
      Value m = rmsNorm(x, h + "post_attention_layernorm.weight");
      Value gate = linear(m, h + "mlp.gate_proj.weight", {}, true);
      Value up = linear(m, h + "mlp.up_proj.weight", {}, true);
      m = create<llm::SwigluOp>(gate, up);
      m = linear(m, h + "mlp.down_proj.weight", {}, true);
      x = create<llm::AddOp>(x, m);
    }
    layer = -1;
    x = rmsNorm(x, "model.norm.weight");
    return linear(x,
                  c.tieWordEmbeddings ? "model.embed_tokens.weight"
                                      : "lm_head.weight",
                  {}, /*transposeWeight=*/true);
  }

  OpBuilder &b;
  Location loc;
  const ModelConfig &c;
  int64_t B, T;
  const llvm::StringMap<Value> &params;
  int64_t layer = -1;
};
} // namespace

/// Builds `@forward` or, with `withLoss`, `@loss` into `module`.
static void buildFunction(OpBuilder &b, ModuleOp module,
                          const ModelConfig &config, int64_t batch,
                          int64_t seq, bool withLoss) {
  std::vector<ParamSpec> specs = listParameters(config);
  auto ids = RankedTensorType::get({batch, seq}, b.getI32Type());
  SmallVector<Type> argTypes = {ids};
  SmallVector<StringRef> inputNames = {"input_ids"};
  if (withLoss) {
    argTypes.push_back(ids);
    inputNames.push_back("targets");
  }
  for (const ParamSpec &spec : specs)
    argTypes.push_back(RankedTensorType::get(spec.shape, b.getF32Type()));
  Type resultType =
      withLoss ? RankedTensorType::get({}, b.getF32Type())
               : RankedTensorType::get({batch, seq, config.vocabSize},
                                       b.getF32Type());

  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(
      b, b.getUnknownLoc(), withLoss ? kLossFuncName : kForwardFuncName,
      b.getFunctionType(argTypes, {resultType}));
  Block *entry = func.addEntryBlock();
  llvm::StringMap<Value> params;
  for (auto [i, name] : llvm::enumerate(inputNames))
    func.setArgAttr(i, llm::LLMDialect::kInputAttrName, b.getStringAttr(name));
  for (auto [i, spec] : llvm::enumerate(specs)) {
    unsigned arg = inputNames.size() + i;
    func.setArgAttr(arg, llm::LLMDialect::kParamAttrName,
                    b.getStringAttr(spec.name));
    params[spec.name] = entry->getArgument(arg);
  }

  b.setInsertionPointToStart(entry);
  BodyBuilder body(b, config, batch, seq, params);
  Value result = body.logits(entry->getArgument(0));
  if (withLoss)
    result = llm::CrossEntropyOp::create(b, b.getUnknownLoc(), result,
                                         entry->getArgument(1));
  func::ReturnOp::create(b, b.getUnknownLoc(), result);
}

llvm::Expected<OwningOpRef<ModuleOp>>
llmc::buildModel(MLIRContext &context, const ModelConfig &config,
                 const BuildOptions &options) {
  int64_t seq = options.seqLen ? options.seqLen : config.maxPositions;
  if (options.microBatch <= 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--micro-batch must be positive, got %lld",
                                   (long long)options.microBatch);
  if (seq <= 0 || seq > config.maxPositions)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--seq %lld is outside the model's context of 1..%lld (%s)",
        (long long)seq, (long long)config.maxPositions,
        config.family == ModelFamily::GPT2 ? "n_positions"
                                           : "max_position_embeddings");

  context.loadDialect<llm::LLMDialect, func::FuncDialect,
                      tensor::TensorDialect>();
  OpBuilder b(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  buildFunction(b, *module, config, options.microBatch, seq, /*withLoss=*/false);
  buildFunction(b, *module, config, options.microBatch, seq, /*withLoss=*/true);
  return module;
}
