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
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/BitVector.h"
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
                                    {h + "attn.c_attn.weight",
                                     {C, 3 * C}}, // Conv1D: in x out
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
  std::vector<ParamSpec> params = {
      {"model.embed_tokens.weight", {c.vocabSize, C}}};
  for (int64_t l = 0; l < c.numLayers; ++l) {
    std::string h = llvm::formatv("model.layers.{0}.", l).str();
    params.insert(
        params.end(),
        {
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

std::string llmc::tiedEmbedding(const ModelConfig &config) {
  if (!config.tieWordEmbeddings)
    return "";
  return config.family == ModelFamily::GPT2 ? "transformer.wte.weight"
                                            : "model.embed_tokens.weight";
}

TensorParallelSplit llmc::tensorParallelSplit(const ModelConfig &config,
                                              StringRef name) {
  // Column-parallel weights split their output features, row-parallel ones
  // their input features; the embedding and LM head split the vocabulary.
  // HF's GPT-2 Conv1D stores in x out, nn.Linear (LLaMA) out x in.
  auto ends = [&](StringRef suffix) { return name.ends_with(suffix); };
  if (config.family == ModelFamily::GPT2) {
    if (ends("wte.weight") || ends("mlp.c_fc.bias") ||
        ends("attn.c_proj.weight") || ends("mlp.c_proj.weight"))
      return {0, 1};
    if (ends("mlp.c_fc.weight"))
      return {1, 1};
    if (ends("attn.c_attn.weight"))
      return {1, 3};
    if (ends("attn.c_attn.bias"))
      return {0, 3};
    return {};
  }
  if (ends("embed_tokens.weight") || ends("lm_head.weight") ||
      ends("q_proj.weight") || ends("k_proj.weight") || ends("v_proj.weight") ||
      ends("gate_proj.weight") || ends("up_proj.weight"))
    return {0, 1};
  if (ends("o_proj.weight") || ends("down_proj.weight"))
    return {1, 1};
  return {};
}

//===----------------------------------------------------------------------===//
// Function bodies
//===----------------------------------------------------------------------===//

namespace {
/// Emits the ops of one function, tagging each with the layer it belongs to.
/// The model is the one-device model; tensor parallelism is the compiler's
/// (llmc-partition-tensor-parallel), which needs from here only the
/// parameters' splits (buildFunction) and, under sequence parallelism, the
/// residual stream marked as split along the sequence.
class BodyBuilder {
public:
  BodyBuilder(OpBuilder &b, const ModelConfig &config, int64_t batch,
              int64_t seq, const BuildOptions &options,
              const llvm::StringMap<Value> &params)
      : b(b), loc(b.getUnknownLoc()), c(config), B(batch), T(seq),
        blockedQKV(options.tensorParallel > 1), params(params) {
    if (options.tensorParallel > 1 && options.sequenceParallel) {
      MLIRContext *ctx = b.getContext();
      SmallVector<shard::GridAxesAttr> split = {
          shard::GridAxesAttr::get(ctx, ArrayRef<int16_t>{}),
          shard::GridAxesAttr::get(ctx, {int16_t(0)})};
      sequenceSplit = shard::ShardingOp::create(
          b, loc, FlatSymbolRefAttr::get(ctx, kTensorParallelAxis), split);
    }
  }

  /// One pipeline stage: token ids (first stage) or the residual stream in,
  /// the residual stream or (last stage) the logits out.
  Value stage(Value input, const PipelineStage &s) {
    bool gpt2 = c.family == ModelFamily::GPT2;
    Value x = s.first ? (gpt2 ? gpt2Embed(input) : llamaEmbed(input))
                      : residual(input);
    for (layer = s.firstLayer; layer < s.endLayer; ++layer)
      x = gpt2 ? gpt2Block(x) : llamaBlock(x);
    layer = -1;
    if (!s.last)
      return x;
    return gpt2 ? gpt2Head(x) : llamaHead(x);
  }

private:
  template <typename OpT, typename... Args> Value create(Args &&...args) {
    auto op = OpT::create(b, loc, std::forward<Args>(args)...);
    if (layer >= 0)
      op->setAttr(llm::LLMDialect::kLayerAttrName, b.getI64IntegerAttr(layer));
    return op->getResult(0);
  }

  Value param(const std::string &name) { return params.lookup(name); }

  /// A value of the residual stream [B, T, C]. Under sequence parallelism it
  /// is marked split along the sequence over the tp ranks (Megatron's
  /// sequence-parallel region: norms, residual adds, the stream between
  /// pipeline stages); the compiler gathers it before each column-parallel
  /// GEMM and reduce-scatters each row-parallel GEMM into it.
  Value residual(Value x) {
    if (!sequenceSplit)
      return x;
    return create<shard::ShardOp>(x, sequenceSplit, UnitAttr());
  }

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

  Value gpt2Embed(Value ids) {
    int64_t C = c.hiddenSize;
    Value x = create<llm::EmbeddingOp>(param("transformer.wte.weight"), ids,
                                       StringAttr());
    // Positions 0..T-1 are the first T rows of wpe, added to every batch row.
    Value pos = tensor::ExtractSliceOp::create(
        b, loc, param("transformer.wpe.weight"),
        ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(T), b.getIndexAttr(C)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    return residual(create<llm::AddOp>(x, pos));
  }

  Value gpt2Block(Value x) {
    int64_t H = c.numHeads;
    auto gelu = c.geluTanh ? llm::GeluApproximation::tanh
                           : llm::GeluApproximation::none;
    std::string h = llvm::formatv("transformer.h.{0}.", layer).str();
    Value a = layerNorm(x, h + "ln_1");
    SmallVector<Value, 3> qkv = blockedQKV
                                    ? blockedQKVLinear(a, h + "attn.c_attn")
                                    : fusedQKVLinear(a, h + "attn.c_attn");
    a = causalAttention(splitHeads(qkv[0], H), splitHeads(qkv[1], H),
                        splitHeads(qkv[2], H));
    a = linear(mergeHeads(a), h + "attn.c_proj.weight",
               param(h + "attn.c_proj.bias"));
    x = residual(create<llm::AddOp>(x, a));
    Value m = layerNorm(x, h + "ln_2");
    m = linear(m, h + "mlp.c_fc.weight", param(h + "mlp.c_fc.bias"));
    m = create<llm::GeluOp>(m, gelu);
    m = linear(m, h + "mlp.c_proj.weight", param(h + "mlp.c_proj.bias"));
    return residual(create<llm::AddOp>(x, m));
  }

  /// GPT-2's c_attn as one GEMM: [B, T, C] to Q, K and V.
  SmallVector<Value, 3> fusedQKVLinear(Value x, const std::string &prefix) {
    int64_t C = c.hiddenSize;
    Value y = linear(x, prefix + ".weight", param(prefix + ".bias"));
    auto split = llm::SplitOp::create(
        b, loc, TypeRange{f32({B, T, C}), f32({B, T, C}), f32({B, T, C})}, y,
        b.getI64IntegerAttr(2));
    split->setAttr(llm::LLMDialect::kLayerAttrName, b.getI64IntegerAttr(layer));
    return SmallVector<Value, 3>(split.getResults().begin(),
                                 split.getResults().end());
  }

  /// GPT-2's c_attn as three GEMMs on its Q, K and V blocks, for the
  /// compiler to split by heads: the weight arrives as [C, 3, C] and the
  /// bias as [3, C] (see buildFunction), each block split along its last
  /// dimension.
  SmallVector<Value, 3> blockedQKVLinear(Value x, const std::string &prefix) {
    int64_t C = c.hiddenSize;
    auto blocks = [&](const std::string &name, ArrayRef<int64_t> block) {
      auto split = llm::SplitOp::create(
          b, loc, SmallVector<Type>(3, f32(block)), param(name),
          b.getI64IntegerAttr(block.size() == 3 ? 1 : 0));
      split->setAttr(llm::LLMDialect::kLayerAttrName,
                     b.getI64IntegerAttr(layer));
      return SmallVector<Value, 3>(split.getResults().begin(),
                                   split.getResults().end());
    };
    SmallVector<Value, 3> weights = blocks(prefix + ".weight", {C, 1, C});
    SmallVector<Value, 3> biases = blocks(prefix + ".bias", {1, C});
    SmallVector<Value, 3> qkv;
    for (int i = 0; i < 3; ++i)
      qkv.push_back(create<llm::MatmulOp>(
          x, create<llm::ReshapeOp>(f32({C, C}), weights[i]),
          create<llm::ReshapeOp>(f32({C}), biases[i]), false, false));
    return qkv;
  }

  Value gpt2Head(Value x) {
    x = layerNorm(x, "transformer.ln_f");
    // GPT-2's LM head is the token embedding, transposed.
    return linear(x, "transformer.wte.weight", {}, /*transposeWeight=*/true);
  }

  Value llamaEmbed(Value ids) {
    return residual(create<llm::EmbeddingOp>(param("model.embed_tokens.weight"),
                                             ids, StringAttr()));
  }

  Value llamaBlock(Value x) {
    int64_t H = c.numHeads, KV = c.numKVHeads;
    std::string h = llvm::formatv("model.layers.{0}.", layer).str();
    Value a = rmsNorm(x, h + "input_layernorm.weight");
    Value q = linear(a, h + "self_attn.q_proj.weight", {}, true);
    Value k = linear(a, h + "self_attn.k_proj.weight", {}, true);
    Value v = linear(a, h + "self_attn.v_proj.weight", {}, true);
    FloatAttr theta = b.getF64FloatAttr(c.ropeTheta);
    q = create<llm::RopeOp>(splitHeads(q, H), theta);
    k = create<llm::RopeOp>(splitHeads(k, KV), theta);
    a = causalAttention(q, k, splitHeads(v, KV));
    a = linear(mergeHeads(a), h + "self_attn.o_proj.weight", {}, true);
    x = residual(create<llm::AddOp>(x, a));
    Value m = rmsNorm(x, h + "post_attention_layernorm.weight");
    Value gate = linear(m, h + "mlp.gate_proj.weight", {}, true);
    Value up = linear(m, h + "mlp.up_proj.weight", {}, true);
    m = create<llm::SwigluOp>(gate, up);
    m = linear(m, h + "mlp.down_proj.weight", {}, true);
    return residual(create<llm::AddOp>(x, m));
  }

  Value llamaHead(Value x) {
    x = rmsNorm(x, "model.norm.weight");
    std::string tied = tiedEmbedding(c);
    return linear(x, tied.empty() ? "lm_head.weight" : tied, {},
                  /*transposeWeight=*/true);
  }

  OpBuilder &b;
  Location loc;
  const ModelConfig &c;
  int64_t B, T;
  bool blockedQKV;     // c_attn as Q, K and V blocks (blockedQKVLinear)
  Value sequenceSplit; // set under sequence parallelism (residual)
  const llvm::StringMap<Value> &params;
  int64_t layer = -1;
};
} // namespace

/// Builds `@forward` or, with `withLoss`, `@loss` into `module`: the
/// one-device model, its split parameters marked `llm.split` for the
/// compiler. For a pipeline stage (`options.stage`), `@loss` takes the
/// stage's input and returns its output, with only the parameters the stage
/// uses.
static void buildFunction(OpBuilder &b, ModuleOp module,
                          const ModelConfig &config, int64_t batch, int64_t seq,
                          const BuildOptions &options, bool withLoss) {
  PipelineStage stage =
      options.stage.value_or(PipelineStage{0, config.numLayers, true, true});
  auto ids = RankedTensorType::get({batch, seq}, b.getI32Type());
  auto hidden =
      RankedTensorType::get({batch, seq, config.hiddenSize}, b.getF32Type());
  SmallVector<Type> argTypes = {stage.first ? Type(ids) : Type(hidden)};
  SmallVector<StringRef> inputNames = {stage.first ? "input_ids"
                                                   : kHiddenInName};
  if (withLoss && stage.last) {
    argTypes.push_back(ids);
    inputNames.push_back("targets");
  }
  std::vector<ParamSpec> specs = listParameters(config);
  // Per parameter: its type and, when tensor parallelism splits it, its
  // llm.split mark (a fused parameter's blocks become their own dimension,
  // split along the block's: GPT-2's c_attn [C, 3C] as [C, 3, C]).
  SmallVector<DictionaryAttr> splits;
  for (const ParamSpec &spec : specs) {
    std::vector<int64_t> shape = spec.shape;
    TensorParallelSplit split = tensorParallelSplit(config, spec.name);
    DictionaryAttr mark;
    if (options.tensorParallel > 1 && split.isSplit()) {
      int64_t dim = split.dim;
      if (split.blocks > 1) {
        shape[size_t(dim)] /= split.blocks;
        shape.insert(shape.begin() + dim, split.blocks);
        ++dim;
      }
      SmallVector<NamedAttribute> fields = {
          b.getNamedAttr("axis", b.getStringAttr(kTensorParallelAxis)),
          b.getNamedAttr("dim", b.getI64IntegerAttr(dim))};
      if (split.blocks > 1)
        fields.push_back(b.getNamedAttr("blocked", b.getUnitAttr()));
      mark = b.getDictionaryAttr(fields);
    }
    splits.push_back(mark);
    argTypes.push_back(RankedTensorType::get(shape, b.getF32Type()));
  }
  Type resultType =
      !stage.last ? Type(hidden)
      : withLoss  ? Type(RankedTensorType::get({}, b.getF32Type()))
                  : Type(RankedTensorType::get({batch, seq, config.vocabSize},
                                               b.getF32Type()));

  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, b.getUnknownLoc(),
                                   withLoss ? kLossFuncName : kForwardFuncName,
                                   b.getFunctionType(argTypes, {resultType}));
  Block *entry = func.addEntryBlock();
  llvm::StringMap<Value> params;
  for (auto [i, name] : llvm::enumerate(inputNames))
    func.setArgAttr(i, llm::LLMDialect::kInputAttrName, b.getStringAttr(name));
  for (auto [i, spec] : llvm::enumerate(specs)) {
    unsigned arg = inputNames.size() + i;
    func.setArgAttr(arg, llm::LLMDialect::kParamAttrName,
                    b.getStringAttr(spec.name));
    if (splits[i])
      func.setArgAttr(arg, llm::LLMDialect::kSplitAttrName, splits[i]);
    params[spec.name] = entry->getArgument(arg);
  }

  b.setInsertionPointToStart(entry);
  BodyBuilder body(b, config, batch, seq, options, params);
  Value result = body.stage(entry->getArgument(0), stage);
  if (withLoss && stage.last)
    result = llm::CrossEntropyOp::create(b, b.getUnknownLoc(), result,
                                         entry->getArgument(1), StringAttr());
  func::ReturnOp::create(b, b.getUnknownLoc(), result);
  if (!stage.last)
    func.setResultAttr(0, llm::LLMDialect::kOutputAttrName,
                       b.getStringAttr(kHiddenOutName));

  // A stage keeps only the parameters its layers use.
  llvm::BitVector unused(func.getNumArguments());
  for (BlockArgument arg : func.getArguments())
    if (arg.use_empty() && arg.getArgNumber() >= inputNames.size())
      unused.set(arg.getArgNumber());
  (void)func.eraseArguments(unused);
}

/// The first size of the model that `tp` ranks cannot split evenly, as an
/// error naming the constraint; success when every split is even.
static llvm::Error checkTensorParallel(const ModelConfig &c, int64_t tp,
                                       bool sequenceParallel, int64_t seq) {
  if (tp <= 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--mesh tp=%lld must be positive",
                                   (long long)tp);
  bool gpt2 = c.family == ModelFamily::GPT2;
  struct Constraint {
    const char *field;
    int64_t value;
    const char *what;
  } constraints[] = {
      {gpt2 ? "n_head" : "num_attention_heads", c.numHeads,
       "attention heads are split across tensor-parallel ranks"},
      {"num_key_value_heads", gpt2 ? tp : c.numKVHeads,
       "key/value heads are split across tensor-parallel ranks"},
      {gpt2 ? "n_inner (4*n_embd)" : "intermediate_size", c.intermediateSize,
       "the MLP's hidden features are split across tensor-parallel ranks"},
      {"vocab_size", c.vocabSize,
       "the embedding, LM head and cross-entropy are vocab-parallel"},
      {"--seq", sequenceParallel ? seq : tp,
       "--sequence-parallel splits the sequence across tensor-parallel ranks"},
  };
  for (const Constraint &k : constraints)
    if (k.value % tp != 0)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "--mesh tp=%lld does not divide %s = %lld (%s)", (long long)tp,
          k.field, (long long)k.value, k.what);
  return llvm::Error::success();
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
  if (llvm::Error error = checkTensorParallel(config, options.tensorParallel,
                                              options.sequenceParallel, seq))
    return std::move(error);

  context.loadDialect<llm::LLMDialect, func::FuncDialect, tensor::TensorDialect,
                      shard::ShardDialect>();
  OpBuilder b(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  // The tensor-parallel axis, a grid the upstream shard dialect knows too.
  if (options.tensorParallel > 1) {
    b.setInsertionPointToEnd(module->getBody());
    shard::GridOp::create(b, b.getUnknownLoc(),
                          b.getStringAttr(kTensorParallelAxis),
                          b.getDenseI64ArrayAttr({options.tensorParallel}));
  }
  // A pipeline stage only trains: its forward alone returns no logits.
  if (!options.stage)
    buildFunction(b, *module, config, options.microBatch, seq, options,
                  /*withLoss=*/false);
  buildFunction(b, *module, config, options.microBatch, seq, options,
                /*withLoss=*/true);
  return module;
}
