//===- Compile.cpp - The `llmc compile` driver ----------------------------===//

#include "compiler/Compile.h"

#include "compiler/Pipelines.h"
#include "compiler/PlanExport.h"
#include "compiler/Registration.h"
#include "compiler/Summary.h"
#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/llm/IR/LLMOps.h"
#include "frontends/hf/ModelBuilder.h"
#include "frontends/hf/PipelineSplit.h"
#include "frontends/onnx/OnnxImport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"
#include "runtime/io/safetensors.h"
#include "runtime/plan/plan_file.h"
#include "runtime/plan/schedule.h"
#include "runtime/plan/verify.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <tuple>

using namespace mlir;
using namespace llmc;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// What every rank's plan says about the model and the mesh.
planfile::ModelInfo modelInfo(const ModelConfig &config,
                              const BuildOptions &build,
                              const CompileOptions &options) {
  planfile::ModelInfo model;
  model.set_model_type(config.modelType().str());
  // The config as given (already read and bounded by loadModelConfig), or
  // the one an ONNX model was recognised as.
  model.set_hf_config(options.hfConfigText);
  model.set_n_layer(config.numLayers);
  model.set_vocab_size(config.vocabSize);
  model.set_hidden_size(config.hiddenSize);
  model.set_micro_batch(build.microBatch);
  model.set_seq_len(build.seqLen ? build.seqLen : config.maxPositions);
  model.set_max_positions(config.maxPositions);
  model.set_dp(options.dataParallel);
  model.set_tp(build.tensorParallel);
  model.set_sequence_parallel(build.sequenceParallel);
  model.set_zero(options.zeroStage);
  if (options.dpComm != DpComm::Overlap)
    model.set_dp_comm(name(options.dpComm));
  model.set_pp(options.pipelineStages);
  model.set_microbatches(options.microbatches);
  if (options.pipelineStages > 1 || options.microbatches > 1)
    model.set_schedule(name(options.schedule));
  model.set_virtual_stages(options.virtualStages);
  return model;
}

/// The built model (one stage's, when `build.stage` is set) with the
/// data-parallel axis, checked.
llvm::Expected<OwningOpRef<ModuleOp>> buildChecked(MLIRContext &context,
                                                   const ModelConfig &config,
                                                   const BuildOptions &build,
                                                   int64_t dataParallel) {
  auto module = buildModel(context, config, build);
  if (!module)
    return module.takeError();
  // The data-parallel axis joins the mesh the frontend declared (tp).
  if (dataParallel > 1) {
    OpBuilder b(&context);
    b.setInsertionPointToStart((*module)->getBody());
    shard::GridOp::create(b, b.getUnknownLoc(), b.getStringAttr("dp"),
                          b.getDenseI64ArrayAttr({dataParallel}));
  }
  // The frontend builds valid IR by construction; a failure here is a bug in
  // llmc, reported as an error rather than printed as broken IR.
  if (failed(verify(**module)))
    return fail("internal error: built IR does not verify");
  return module;
}

/// The module as the frontend built it, after a comment with the llmc-opt
/// pipeline that makes of it what --emit=mlir prints (--emit=import).
void printImport(llvm::raw_ostream &os, ModuleOp module,
                 const std::string &pipeline) {
  os << "// llmc-opt --pass-pipeline='builtin.module(" << pipeline << ")'\n";
  module.print(os);
}

llvm::Error runTrainPipeline(ModuleOp module, MLIRContext &context,
                             const TrainPipelineOptions &pipeline,
                             const std::string &configPath) {
  PassManager pm(&context);
  buildTrainPipeline(pm, pipeline);
  if (failed(pm.run(module)))
    return fail("internal error: the train pipeline failed on " + configPath);
  return llvm::Error::success();
}

llvm::Expected<planfile::Plan>
exportTrainStep(ModuleOp module, const planfile::ModelInfo &model) {
  auto program = module.lookupSymbol<func::FuncOp>("train_step");
  if (!program)
    return fail("--emit=plan needs --mode train");
  return exportPlan(program, model);
}

/// Every plan is verified before it is written: a problem in the schedules
/// or collectives is a bug in llmc; one in memory, the user's layout.
llvm::Error writePlan(const planfile::Plan &plan, const std::string &path,
                      uint64_t deviceMemory) {
  plan::VerifyReport report = plan::verify_plan(plan, deviceMemory);
  if (!report.problems.empty()) {
    bool memory =
        report.problems[0].find("--device-memory") != std::string::npos;
    return fail((memory ? "the plan does not fit: "
                        : "internal error: the compiled plan fails "
                          "verification: ") +
                report.problems[0]);
  }
  try {
    plan::write_plan_file(plan, path);
  } catch (const plan::PlanError &e) {
    return fail(e.what());
  }
  return llvm::Error::success();
}

/// What a mesh with pipeline stages or microbatches cannot take.
llvm::Error checkPipeline(const CompileOptions &options) {
  if (options.pipelineStages < 1)
    return fail("--mesh pp=" + llvm::Twine(options.pipelineStages) +
                " must be positive");
  if (options.microbatches < 1)
    return fail("--microbatches " + llvm::Twine(options.microbatches) +
                " must be positive");
  bool interleaved = options.schedule == Schedule::Interleaved;
  if (interleaved && (options.pipelineStages < 2 || options.virtualStages < 2))
    return fail("--schedule interleaved needs --mesh pp=P with P > 1 and "
                "--virtual-stages V with V > 1 (model chunks per rank)");
  if (!interleaved && options.virtualStages != 1)
    return fail("--virtual-stages " + llvm::Twine(options.virtualStages) +
                " needs --schedule interleaved");
  if (interleaved && options.microbatches % options.pipelineStages != 0)
    return fail("--schedule interleaved runs microbatches in groups of "
                "--mesh pp=" +
                llvm::Twine(options.pipelineStages) + ": --microbatches " +
                llvm::Twine(options.microbatches) +
                " must be a multiple of it");
  bool pipelined = options.pipelineStages > 1 || options.microbatches > 1;
  if (pipelined && options.mode != CompileMode::Train)
    return fail("--mesh pp and --microbatches need --mode train");
  if (!options.pipelineSplit.empty() && options.pipelineStages <= 1)
    return fail("--pipeline-split needs --mesh pp=N with N > 1");
  return llvm::Error::success();
}

/// How the step of `options` is split, before any pipeline stage.
TrainPipelineOptions trainPipelineOptions(const CompileOptions &options) {
  TrainPipelineOptions pipeline;
  pipeline.dataParallel = options.dataParallel;
  pipeline.zeroStage = options.zeroStage;
  pipeline.dpComm = options.dpComm;
  pipeline.recompute = options.recompute;
  pipeline.microbatches = options.microbatches;
  pipeline.precision = options.precision;
  pipeline.fusion = options.fusion;
  return pipeline;
}

/// One plan per model chunk (a pipeline stage; with interleaving, several
/// per rank), each with its programs, and each rank's schedule in the plan
/// of its first chunk, in one plan file.
llvm::Error compilePipelined(MLIRContext &context, const ModelConfig &config,
                             const BuildOptions &build,
                             const CompileOptions &options,
                             llvm::raw_ostream &os) {
  int64_t seq = build.seqLen ? build.seqLen : config.maxPositions;
  int64_t P = options.pipelineStages, V = options.virtualStages;
  if (V > 1 && P * V > config.numLayers)
    return fail(
        "--mesh pp=" + llvm::Twine(P) + " with --virtual-stages " +
        llvm::Twine(V) + " makes " + llvm::Twine(P * V) +
        " model chunks, more than the model's " +
        (config.family == ModelFamily::GPT2 ? "n_layer" : "num_hidden_layers") +
        " = " + llvm::Twine(config.numLayers) +
        " (each chunk holds at least one layer)");
  auto split = splitPipeline(config, P * V, seq, options.pipelineSplit);
  if (!split)
    return split.takeError();
  planfile::Plan whole;
  *whole.mutable_model() = modelInfo(config, build, options);
  for (auto [s, stage] : llvm::enumerate(*split)) {
    BuildOptions stageBuild = build;
    stageBuild.stage = stage;
    auto module =
        buildChecked(context, config, stageBuild, options.dataParallel);
    if (!module)
      return module.takeError();
    TrainPipelineOptions pipeline = trainPipelineOptions(options);
    pipeline.stages = P * V;
    pipeline.stage = int64_t(s);
    pipeline.tied = tiedEmbedding(config);
    if (options.emit == EmitKind::Import) {
      os << "// pipeline stage " << s << ": layers " << stage.firstLayer << ".."
         << stage.endLayer << "\n";
      printImport(os, **module, trainPipelineSpec(pipeline));
      continue;
    }
    if (llvm::Error e =
            runTrainPipeline(**module, context, pipeline, options.configPath))
      return e;
    if (options.emit == EmitKind::MLIR) {
      os << "// pipeline stage " << s << ": layers " << stage.firstLayer << ".."
         << stage.endLayer << "\n";
      (*module)->print(os);
      continue;
    }
    planfile::ModelInfo model = whole.model();
    model.set_stage(int64_t(s));
    model.set_first_layer(stage.firstLayer);
    model.set_end_layer(stage.endLayer);
    auto stagePlan = exportTrainStep(**module, model);
    if (!stagePlan)
      return stagePlan.takeError();
    if (int64_t(s) < P) // the rank's first chunk holds its schedule
      for (const planfile::Instruction &i : plan::pipeline_schedule(
               name(options.schedule), P, int64_t(s), options.microbatches, V))
        *stagePlan->add_schedule() = i;
    *whole.add_stages() = std::move(*stagePlan);
  }
  if (options.emit == EmitKind::MLIR || options.emit == EmitKind::Import)
    return llvm::Error::success();
  return writePlan(whole, options.outputPath, options.deviceMemory);
}

/// The family's name of the context-length field, for messages.
const char *contextField(const ModelConfig &config) {
  return config.family == ModelFamily::GPT2 ? "n_positions"
                                            : "max_position_embeddings";
}

/// An inference plan: the forward built for a prefill of --prefill-tokens
/// tokens per sequence (a prompt's chunk) and for one token per sequence,
/// each split over the tp ranks when --mesh tp=T asks, then rewritten into
/// steps over one paged KV cache of sequences up to --max-seq (each rank's
/// cache holds its heads), and lowered into one plan.
llvm::Error compileInfer(MLIRContext &context, const ModelConfig &config,
                         const CompileOptions &options, llvm::raw_ostream &os) {
  if (options.dataParallel > 1 || options.pipelineStages > 1)
    return fail("--mode infer splits a model over --mesh tp=T only; dp and "
                "pp are for training");
  if (options.sequenceParallel)
    return fail("--sequence-parallel needs --mode train (a decode step has "
                "one token per sequence to split)");
  if (options.emit == EmitKind::Summary)
    return fail("--emit=summary describes the model; leave out --mode infer");
  int64_t seq = options.maxSeq ? options.maxSeq : config.maxPositions;
  if (options.maxBatch <= 0)
    return fail("--max-batch " + llvm::Twine(options.maxBatch) +
                " must be positive");
  if (seq <= 0 || seq > config.maxPositions)
    return fail("--max-seq " + llvm::Twine(seq) +
                " is outside the model's context of 1.." +
                llvm::Twine(config.maxPositions) + " (" + contextField(config) +
                ")");
  if (options.kvBlockTokens <= 0)
    return fail("--kv-block-tokens " + llvm::Twine(options.kvBlockTokens) +
                " must be positive");
  // bf16-mixed inference multiplies bf16 weights by activations rounded to
  // bf16, as bf16-mixed training's GEMMs do.
  if (options.precision == Precision::BF16Mixed &&
      options.weightsDtype == WeightsDtype::Int8)
    return fail("--precision bf16-mixed multiplies bf16 weights; leave out "
                "--weights-dtype int8");
  WeightsDtype weightsDtype =
      inferWeightsDtype(options.precision, options.weightsDtype);
  int64_t prefill = options.prefillTokens ? options.prefillTokens
                                          : std::min<int64_t>(seq, 256);
  if (prefill <= 0 || prefill > seq)
    return fail("--prefill-tokens " + llvm::Twine(prefill) +
                " must be in 1..--max-seq " + llvm::Twine(seq));
  int64_t prefillRows =
      options.prefillRows ? options.prefillRows : options.maxBatch;
  if (prefillRows <= 0 || prefillRows > options.maxBatch)
    return fail("--prefill-rows " + llvm::Twine(prefillRows) +
                " must be in 1..--max-batch " + llvm::Twine(options.maxBatch));
  int64_t tableWidth =
      (seq + options.kvBlockTokens - 1) / options.kvBlockTokens;
  // The two steps, each the frontend's forward at its token count, over a
  // pool of `blocks` KV-cache blocks: the module, or with `plan` the plan.
  auto build = [&](int64_t blocks, planfile::Plan *plan) -> llvm::Error {
    InferPipelineOptions pipeline{
        options.kvBlockTokens,  blocks,       tableWidth,
        options.tensorParallel, weightsDtype, options.fusion,
        options.precision};
    OwningOpRef<ModuleOp> module;
    for (auto [name, rows, tokens] :
         {std::tuple{"prefill", prefillRows, prefill},
          std::tuple{"decode", options.maxBatch, int64_t(1)}}) {
      BuildOptions step{rows, tokens, options.tensorParallel, false, {}};
      auto built = buildChecked(context, config, step, 1);
      if (!built)
        return built.takeError();
      (*built)->lookupSymbol<func::FuncOp>("loss").erase();
      auto forward = (*built)->lookupSymbol<func::FuncOp>("forward");
      forward.setSymName(name);
      if (!module) {
        module = std::move(*built);
        continue;
      }
      forward->remove();
      module->push_back(forward);
    }
    if (options.emit == EmitKind::Import) {
      printImport(os, *module, inferPipelineSpec(pipeline));
      return llvm::Error::success();
    }
    PassManager pm(&context);
    buildInferPipeline(pm, pipeline);
    if (failed(pm.run(*module)))
      return fail("internal error: the inference pipeline failed on " +
                  options.configPath);
    if (!plan) {
      module->print(os);
      return llvm::Error::success();
    }
    BuildOptions whole{
        options.maxBatch, seq, options.tensorParallel, false, {}};
    planfile::ModelInfo model = modelInfo(config, whole, options);
    model.set_kv_block_tokens(options.kvBlockTokens);
    model.set_kv_blocks(blocks);
    model.set_prefill_rows(prefillRows);
    auto exported =
        exportPlan(module->lookupSymbol<func::FuncOp>("infer"), model);
    if (!exported)
      return exported.takeError();
    *plan = std::move(*exported);
    return llvm::Error::success();
  };
  int64_t blocks = options.kvBlocks;
  if (!blocks && options.deviceMemory && options.emit == EmitKind::Plan) {
    // The pool fills what --device-memory leaves after weights and
    // activations: measured on a plan with the smallest pool.
    planfile::Plan probe;
    if (llvm::Error e = build(tableWidth, &probe))
      return e;
    uint64_t cache = 0;
    for (const planfile::Buffer &b : probe.buffers())
      if (b.category() == planfile::KV_CACHE)
        cache += b.size_bytes();
    uint64_t rest = probe.arena_bytes() - cache;
    uint64_t perBlock = cache / uint64_t(tableWidth);
    uint64_t fit = options.deviceMemory > rest
                       ? (options.deviceMemory - rest) / perBlock
                       : 0;
    if (fit < uint64_t(tableWidth))
      return fail("the plan does not fit: --device-memory leaves room for " +
                  llvm::Twine(fit) +
                  " KV-cache blocks after weights and "
                  "activations (" +
                  llvm::Twine(rest >> 20) +
                  " MiB); one "
                  "sequence of --max-seq " +
                  llvm::Twine(seq) + " needs " + llvm::Twine(tableWidth));
    blocks = int64_t(std::min<uint64_t>(fit, uint64_t(1) << 30));
  }
  if (!blocks)
    blocks = tableWidth * options.maxBatch;
  if (blocks < tableWidth)
    return fail("--kv-blocks " + llvm::Twine(blocks) +
                " cannot hold one sequence of --max-seq " + llvm::Twine(seq) +
                " (needs " + llvm::Twine(tableWidth) + " blocks of " +
                llvm::Twine(options.kvBlockTokens) + " tokens)");
  if (options.emit == EmitKind::MLIR || options.emit == EmitKind::Import)
    return build(blocks, nullptr);
  planfile::Plan plan;
  if (llvm::Error e = build(blocks, &plan))
    return e;
  return writePlan(plan, options.outputPath, options.deviceMemory);
}

} // namespace

/// --weights-out: an ONNX model's weights (or a graph's constants).
static llvm::Error writeWeights(const std::string &path,
                                const std::vector<ImportedTensor> &tensors) {
  std::vector<io::TensorView> views;
  for (const ImportedTensor &t : tensors)
    views.push_back({t.name, t.shape, t.data.data()});
  try {
    io::write_safetensors(path, views);
  } catch (const std::exception &e) {
    return fail(std::string("--weights-out: ") + e.what());
  }
  return llvm::Error::success();
}

/// The model a config.json or an ONNX file describes; an ONNX model's
/// weights go to --weights-out.
llvm::Expected<ModelConfig> loadModelSource(CompileOptions &options,
                                            llvm::raw_ostream &os) {
  if (llvm::sys::fs::is_directory(options.configPath) &&
      !isOnnxModelPath(options.configPath)) {
    llvm::SmallString<256> config(options.configPath);
    llvm::sys::path::append(config, "config.json");
    if (!llvm::sys::fs::exists(config))
      return fail(options.configPath + ": a model folder must hold model.onnx "
                                       "or a Hugging Face config.json");
    options.configPath = std::string(config);
  }
  if (!isOnnxModelPath(options.configPath)) {
    if (!options.weightsOut.empty())
      return fail("--weights-out: only an ONNX model carries weights (" +
                  options.configPath + " is a config)");
    llvm::Expected<ModelConfig> config = loadModelConfig(options.configPath);
    if (config)
      if (auto text = llvm::MemoryBuffer::getFile(options.configPath))
        options.hfConfigText = (*text)->getBuffer().str();
    return config;
  }
  llvm::Expected<ImportedModel> imported = importOnnxModel(options.configPath);
  if (!imported)
    return imported.takeError();
  options.hfConfigText = imported->hfConfigJson;
  if (!options.weightsOut.empty())
    if (llvm::Error e = writeWeights(options.weightsOut, imported->weights))
      return std::move(e);
  if (options.emit == EmitKind::Plan)
    os << llvm::formatv("imported {0}: opset {1}, {2} nodes, {3} recomposed "
                        "into llm ops, a {4} model of {5} layers\n",
                        options.configPath, imported->opset,
                        imported->graphNodes, imported->nodesRecomposed,
                        imported->config.modelType(),
                        imported->config.numLayers);
  return imported->config;
}

/// An ONNX graph that is not a recognised language model, lowered op by op
/// (frontends/onnx/GeneralLowering.h): a forward program that `llmc run`
/// executes or, with --mode train, a training step over its logits that
/// `llmc train --load` runs (one device or data-parallel), printed
/// (--emit=import|mlir) or written as a plan, the weights and constants its
/// ops read written to --weights-out.
static llvm::Error compileGeneralGraph(const CompileOptions &options,
                                       llvm::raw_ostream &os) {
  bool train = options.mode == CompileMode::Train;
  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext context(registry);
  auto imported =
      importOnnxGraph(options.configPath, context, options.microBatch,
                      options.seqLen ? options.seqLen : 1, train);
  if (!imported)
    return imported.takeError();
  if (options.emit == EmitKind::Summary)
    return fail(options.configPath + ": --emit=summary describes a language "
                                     "model; this graph is not one llmc "
                                     "recognises");
  if (options.emit == EmitKind::Plan && options.outputPath.empty())
    return fail("--emit=plan needs -o FILE");
  if (!imported->constants.empty() && options.emit == EmitKind::Plan &&
      options.weightsOut.empty())
    return fail(llvm::formatv("--weights-out: the graph's ops read {0} "
                              "weights and constants, which `llmc {1}` loads "
                              "with the plan",
                              imported->constants.size(),
                              train ? "train --load" : "run --weights")
                    .str());
  ModuleOp module = imported->module.get();
  auto program = module.lookupSymbol<func::FuncOp>(train ? kLossFuncName
                                                         : kForwardFuncName);
  // ZeRO slices every parameter evenly over the dp ranks.
  for (unsigned i = 0;
       train && options.zeroStage > 0 && i < program.getNumArguments(); ++i) {
    auto name = program.getArgAttrOfType<StringAttr>(
        i, llm::LLMDialect::kParamAttrName);
    int64_t elements =
        cast<RankedTensorType>(program.getArgumentTypes()[i]).getNumElements();
    if (name && elements % options.dataParallel != 0)
      return fail(llvm::formatv(
          "--zero {0} with --mesh dp={1}: parameter '{2}' has {3} elements, "
          "not a multiple of {1} (ZeRO slices every parameter evenly over the "
          "data-parallel ranks)",
          options.zeroStage, options.dataParallel, name.getValue(), elements));
  }
  if (!options.weightsOut.empty())
    if (llvm::Error e = writeWeights(options.weightsOut, imported->constants))
      return std::move(e);
  if (train && options.dataParallel > 1) {
    context.getOrLoadDialect<shard::ShardDialect>();
    OpBuilder b(&context);
    b.setInsertionPointToStart(module.getBody());
    shard::GridOp::create(b, b.getUnknownLoc(), b.getStringAttr("dp"),
                          b.getDenseI64ArrayAttr({options.dataParallel}));
  }
  TrainPipelineOptions pipeline = trainPipelineOptions(options);
  if (options.emit == EmitKind::Import && train) {
    printImport(os, module, trainPipelineSpec(pipeline));
    return llvm::Error::success();
  }
  if (options.emit != EmitKind::Plan && !train) {
    module.print(os);
    os << "\n";
    return llvm::Error::success();
  }
  // The inputs' shapes, symbolic batch and sequence axes bound by
  // --micro-batch and --seq: the plan runs on exactly these.
  std::string inputs;
  int64_t vocab = 0;
  for (unsigned i = 0; i < program.getNumArguments(); ++i)
    if (auto name = program.getArgAttrOfType<StringAttr>(
            i, llm::LLMDialect::kInputAttrName)) {
      auto shape =
          cast<RankedTensorType>(program.getArgumentTypes()[i]).getShape();
      inputs += llvm::formatv("{0}{1} [{2}]", inputs.empty() ? "" : ", ",
                              name.getValue(),
                              llvm::make_range(shape.begin(), shape.end()));
    }
  // A training step's tokens: input_ids [batch, seq], logits [.., vocab].
  int64_t seq =
      train
          ? cast<RankedTensorType>(program.getArgumentTypes()[0]).getShape()[1]
          : 0;
  program.walk([&](llm::CrossEntropyOp op) {
    vocab = cast<RankedTensorType>(op->getOperand(0).getType()).getShape()[2];
  });
  if (options.emit == EmitKind::Plan)
    os << llvm::formatv(
        "imported {0}: opset {1}, {2} nodes, {3} lowered to general llm ops "
        "(a {4} of {5})\n",
        options.configPath, imported->opset, imported->graphNodes,
        imported->nodesLowered, train ? "training step" : "forward program",
        inputs.empty() ? "no inputs" : inputs);
  PassManager pm(&context);
  if (train)
    buildTrainPipeline(pm, pipeline);
  else
    buildGeneralPipeline(pm);
  if (failed(pm.run(module)))
    return fail("internal error: lowering the graph of " + options.configPath +
                " to a plan failed");
  if (options.emit == EmitKind::MLIR) {
    module.print(os);
    return llvm::Error::success();
  }
  planfile::ModelInfo info;
  info.set_model_type("onnx");
  info.set_micro_batch(options.microBatch);
  if (train) {
    info.set_seq_len(seq);
    info.set_vocab_size(vocab);
    info.set_dp(options.dataParallel);
    info.set_zero(options.zeroStage);
    if (options.dpComm != DpComm::Overlap)
      info.set_dp_comm(name(options.dpComm));
  }
  auto plan =
      train ? exportTrainStep(module, info)
            : exportPlan(module.lookupSymbol<func::FuncOp>(kForwardFuncName),
                         info);
  if (!plan)
    return plan.takeError();
  return writePlan(*plan, options.outputPath, options.deviceMemory);
}

llvm::Error llmc::compile(const CompileOptions &given, llvm::raw_ostream &os) {
  CompileOptions options = given;
  llvm::Expected<ModelConfig> config = loadModelSource(options, os);
  // A graph that is no language model llmc recognises still compiles, op
  // by op, as a forward program or a training step. If it cannot, a graph
  // without token ids gets the general lowering's error; one with them (a
  // model that departs from the patterns) the recognizer's, then the general
  // lowering's.
  if (!config && options.mode != CompileMode::Infer &&
      isOnnxModelPath(options.configPath)) {
    std::string why = llvm::toString(config.takeError());
    bool train = options.mode == CompileMode::Train;
    if (options.tensorParallel > 1 || options.pipelineStages > 1 ||
        options.microbatches > 1 || (!train && options.dataParallel > 1))
      return fail(llvm::Twine(train ? "--mesh: a graph lowered op by op "
                                      "trains on one device or data-parallel "
                                      "(--mesh dp=N); tp, pp and "
                                      "--microbatches need a model llmc "
                                      "recognises, and "
                                    : "--mesh: a graph lowered op by op runs "
                                      "on one device; ") +
                  why);
    llvm::Error general = compileGeneralGraph(options, os);
    if (!general || why.find(kNoTokenIdsError) != std::string::npos)
      return general;
    return fail(why + "; lowered op by op instead: " +
                llvm::toString(std::move(general)));
  }
  if (!config)
    return config.takeError();

  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext context(registry);
  BuildOptions build{options.microBatch,
                     options.seqLen,
                     options.tensorParallel,
                     options.sequenceParallel,
                     {}};
  if (options.emit == EmitKind::Plan && options.outputPath.empty())
    return fail("--emit=plan needs -o FILE");
  if (options.precision != Precision::FP32 &&
      options.mode == CompileMode::Forward)
    return fail(llvm::Twine("--precision ") + name(options.precision) +
                " needs --mode train or --mode infer");
  if (options.mode == CompileMode::Infer)
    return compileInfer(context, *config, options, os);
  if (options.weightsDtype != WeightsDtype::FP32)
    return fail(llvm::Twine("--weights-dtype ") + name(options.weightsDtype) +
                " needs --mode infer (training updates fp32 weights)");
  if (options.fusion == Fusion::Horizontal)
    return fail("--fusion horizontal merges an inference plan's GEMMs; "
                "training plans take all, vertical, memory or none");
  if (options.mode == CompileMode::Forward && options.tensorParallel > 1)
    return fail("--mesh tp=N needs --mode train (a forward program would "
                "return each rank's block of the logits)");
  if (llvm::Error e = checkPipeline(options))
    return e;
  // ZeRO slices every parameter evenly over the dp ranks.
  if (options.zeroStage > 0)
    for (const ParamSpec &param : listParameters(*config))
      if (param.numElements() % options.dataParallel != 0)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "--zero %lld with --mesh dp=%lld: parameter '%s' has %lld "
            "elements, not a multiple of %lld (ZeRO slices every parameter "
            "evenly over the data-parallel ranks)",
            (long long)options.zeroStage, (long long)options.dataParallel,
            param.name.c_str(), (long long)param.numElements(),
            (long long)options.dataParallel);

  if (options.emit != EmitKind::Summary &&
      (options.pipelineStages > 1 || options.microbatches > 1))
    return compilePipelined(context, *config, build, options, os);

  auto module = buildChecked(context, *config, build, options.dataParallel);
  if (!module)
    return module.takeError();
  if (options.emit == EmitKind::Summary) {
    llvm::Expected<llvm::json::Object> summary =
        summarizeModel(**module, *config);
    if (!summary)
      return summary.takeError();
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(*summary)))
       << "\n";
    return llvm::Error::success();
  }

  if (options.emit == EmitKind::Import) {
    if (options.mode == CompileMode::Train)
      printImport(os, **module,
                  trainPipelineSpec(trainPipelineOptions(options)));
    else
      (*module)->print(os); // a forward runs no pipeline
    return llvm::Error::success();
  }
  if (options.mode == CompileMode::Train) {
    if (llvm::Error e =
            runTrainPipeline(**module, context, trainPipelineOptions(options),
                             options.configPath))
      return e;
  }
  if (options.emit == EmitKind::MLIR) {
    (*module)->print(os);
    return llvm::Error::success();
  }
  auto plan = exportTrainStep(**module, modelInfo(*config, build, options));
  if (!plan)
    return plan.takeError();
  return writePlan(*plan, options.outputPath, options.deviceMemory);
}
