//===- Compile.cpp - The `llmc compile` driver ----------------------------===//

#include "compiler/Compile.h"

#include "compiler/PlanExport.h"
#include "compiler/Pipelines.h"
#include "compiler/Registration.h"
#include "compiler/Summary.h"
#include "frontends/hf/ModelBuilder.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "runtime/plan/plan_file.h"
#include "mlir/Support/LLVM.h"

using namespace mlir;

/// Exports `@train_step` with the model's description and writes the file.
static llvm::Error writePlan(ModuleOp module, const llmc::ModelConfig &config,
                             const llmc::BuildOptions &build,
                             int64_t dataParallel, int64_t zeroStage,
                             const std::string &path) {
  auto program = module.lookupSymbol<func::FuncOp>("train_step");
  if (!program)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--emit=plan needs --mode train");
  llmc::planfile::ModelInfo model;
  model.set_model_type(config.modelType().str());
  model.set_n_layer(config.numLayers);
  model.set_vocab_size(config.vocabSize);
  model.set_hidden_size(config.hiddenSize);
  model.set_micro_batch(build.microBatch);
  model.set_seq_len(build.seqLen ? build.seqLen : config.maxPositions);
  model.set_max_positions(config.maxPositions);
  model.set_dp(dataParallel);
  model.set_tp(build.tensorParallel);
  model.set_sequence_parallel(build.sequenceParallel);
  model.set_zero(zeroStage);
  llvm::Expected<llmc::planfile::Plan> plan = llmc::exportPlan(program, model);
  if (!plan)
    return plan.takeError();
  try {
    llmc::plan::write_plan_file(*plan, path);
  } catch (const llmc::plan::PlanError &e) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), e.what());
  }
  return llvm::Error::success();
}

llvm::Error llmc::compile(const CompileOptions &options, llvm::raw_ostream &os) {
  llvm::Expected<ModelConfig> config = loadModelConfig(options.configPath);
  if (!config)
    return config.takeError();

  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext context(registry);
  BuildOptions build{options.microBatch, options.seqLen,
                     options.tensorParallel, options.sequenceParallel};
  if (options.emit == EmitKind::Plan && options.outputPath.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--emit=plan needs -o FILE");
  if (options.mode == CompileMode::Forward && options.tensorParallel > 1)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--mesh tp=N needs --mode train (a forward program would return each "
        "rank's block of the logits)");
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
  auto module = buildModel(context, *config, build);
  if (!module)
    return module.takeError();
  // The data-parallel axis joins the mesh the frontend declared (tp).
  if (options.dataParallel > 1) {
    OpBuilder b(&context);
    b.setInsertionPointToStart((*module)->getBody());
    shard::GridOp::create(b, b.getUnknownLoc(), b.getStringAttr("dp"),
                          b.getDenseI64ArrayAttr({options.dataParallel}));
  }
  // The frontend builds valid IR by construction; a failure here is a bug in
  // llmc, reported as an error rather than printed as broken IR.
  if (failed(verify(**module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "internal error: built IR does not verify");

  if (options.emit == EmitKind::Summary) {
    llvm::Expected<llvm::json::Object> summary =
        summarizeModel(**module, *config);
    if (!summary)
      return summary.takeError();
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(*summary)))
       << "\n";
    return llvm::Error::success();
  }

  if (options.mode == CompileMode::Train) {
    PassManager pm(&context);
    buildTrainPipeline(pm, options.dataParallel, options.zeroStage,
                       options.recompute);
    if (failed(pm.run(**module)))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "internal error: the train pipeline "
                                     "failed on %s",
                                     options.configPath.c_str());
  }
  if (options.emit == EmitKind::MLIR) {
    (*module)->print(os);
    return llvm::Error::success();
  }
  return writePlan(**module, *config, build, options.dataParallel,
                   options.zeroStage, options.outputPath);
}

