//===- Pipelines.cpp - llmc's pass pipelines ------------------------------===//

#include "compiler/Pipelines.h"

#include "compiler/planner/estimate.h"

#include "frontends/hf/ModelBuilder.h"
#include "passes/Passes.h"

#include "passes/ChoiceValues.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/FormatVariadic.h"

void llmc::buildTrainPipeline(mlir::OpPassManager &pm,
                              const TrainPipelineOptions &o) {
  using namespace mlir;
  // Differentiate the loss: forward then backward ops in one function. Over
  // M microbatches each seeds 1/M, so the summed gradients are the mean.
  llm::AutodiffOptions autodiff;
  autodiff.lossScale = 1.0 / double(o.microbatches);
  if (o.stage > 0) // the previous stage needs its output's gradient
    autodiff.inputGrads.push_back(kHiddenInName.str());
  pm.addPass(llm::createAutodiff(autodiff));
  // Tensor parallelism the frontend left to the compiler (llm.split marks):
  // the differentiated step split over the tp ranks, GSPMD-style.
  pm.addPass(llm::createPartitionTensorParallel());
  // Activation recomputation: the backward pass reruns forward ops (in
  // every mode, those that only copy weights).
  pm.addPass(llm::createRecompute({/*mode=*/o.recompute}));
  // Clip by global norm and update every parameter with AdamW (after
  // summing each gradient over the microbatches).
  pm.addPass(llm::createAppendAdamW({/*funcName=*/"loss",
                                     /*accumulate=*/o.pipelined()}));
  // One kernel call per op, one buffer per tensor, reshapes as views.
  pm.addPass(llm::createLowerToPlan());
  // Data parallelism: average every gradient over the ranks before AdamW
  // (under ZeRO, each is reduce-scattered instead). Summed gradients are
  // complete only after the last microbatch, so they cannot overlap it.
  bool overlap = !o.pipelined() && o.dpComm == DpComm::Overlap;
  if (o.zeroStage == 0 && o.dpComm != DpComm::None)
    pm.addNestedPass<func::FuncOp>(llm::createInsertGradAllReduce(
        {/*dp=*/o.dataParallel,
         /*bucketBytes=*/int64_t(planner::kDpBucketBytes),
         /*overlap=*/overlap}));
  // ZeRO: slices of optimizer state, gradients and parameters per rank.
  pm.addNestedPass<func::FuncOp>(llm::createShardOptimizer(
      {/*dp=*/o.dataParallel, /*stage=*/o.zeroStage, /*overlap=*/overlap}));
  // Residual add + norm and GEMM + bias + GELU as single kernels.
  if (fusesVertically(o.fusion))
    pm.addNestedPass<func::FuncOp>(llm::createFuseKernels());
  // SP's re-gathers start before the input-gradient GEMMs they overlap.
  pm.addNestedPass<func::FuncOp>(llm::createOverlapRegather());
  // bf16-mixed: the GEMMs (fused or not) multiply bf16 operands, each
  // weight rounded once a step (not in a pipeline stage, whose programs
  // would stash a copy per microbatch).
  if (o.precision == Precision::BF16Mixed)
    pm.addNestedPass<func::FuncOp>(
        llm::createMixedPrecision({/*weightCopies=*/!o.pipelined()}));
  // Forward, backward and optimizer programs; what microbatches stash.
  if (o.pipelined())
    pm.addNestedPass<func::FuncOp>(llm::createPipelineStage(
        {/*stages=*/o.stages, /*stage=*/o.stage, /*tied=*/o.tied}));
  // Elementwise results over the inputs that die at them.
  if (fusesMemory(o.fusion))
    pm.addNestedPass<func::FuncOp>(llm::createWriteInPlace());
  // Static arena offsets by liveness, so the runtime allocates once.
  pm.addNestedPass<func::FuncOp>(llm::createPlanMemory());
}

void llmc::buildInferPipeline(mlir::OpPassManager &pm,
                              const InferPipelineOptions &o) {
  using namespace mlir;
  // Tensor parallelism, as for training: each forward split over the tp
  // ranks (heads, column- and row-parallel GEMMs, the vocab-parallel
  // embedding and LM head), its logits gathered whole.
  if (o.tensorParallel > 1)
    for (const char *step : {"prefill", "decode"})
      pm.addPass(llm::createPartitionTensorParallel(
          {/*funcName=*/step, /*gatherResults=*/true}));
  // Each forward becomes a step over the paged KV cache: the prefill's
  // tokens and the decode step's one token per sequence.
  for (const char *step : {"prefill", "decode"})
    pm.addPass(llm::createPagedKVCache(
        {/*funcName=*/step, /*blockTokens=*/o.blockTokens,
         /*blocks=*/o.blocks, /*maxBlocks=*/o.maxBlocks}));
  // One plan, a program per step; weights and caches shared by name.
  llm::LowerToPlanOptions lower;
  lower.funcName = "infer";
  lower.programs = {"prefill", "decode"};
  pm.addPass(llm::createLowerToPlan(lower));
  // q, k and v as one GEMM by their weights' rows (split after), before
  // the merged weight is quantized as one.
  if (fusesHorizontally(o.fusion))
    pm.addNestedPass<func::FuncOp>(llm::createFuseSiblingGemms());
  // INT8 weights: a quarter of the bytes each decode step reads (bf16:
  // half of them, with the activations and sums still fp32; fp32: the
  // weights stored as the decode GEMV reads them).
  pm.addNestedPass<func::FuncOp>(llm::createQuantizeWeights(
      {/*dtype=*/name(o.weightsDtype),
       /*math=*/o.precision == Precision::BF16Mixed ? "bf16" : "fp32"}));
  // Residual add + norm and GEMM + bias + GELU as single kernels.
  if (fusesVertically(o.fusion))
    pm.addNestedPass<func::FuncOp>(llm::createFuseKernels());
  // Static offsets: the two programs' activations share bytes, since only
  // one runs at a time.
  pm.addNestedPass<func::FuncOp>(llm::createPlanMemory());
}

void llmc::buildGeneralPipeline(mlir::OpPassManager &pm) {
  using namespace mlir;
  // One kernel call per op of @forward, then static offsets.
  llm::LowerToPlanOptions lower;
  lower.funcName = kForwardFuncName.str();
  pm.addPass(llm::createLowerToPlan(lower));
  pm.addNestedPass<func::FuncOp>(llm::createPlanMemory());
}

namespace {

/// llmc-train-pipeline's options: TrainPipelineOptions as pass options.
struct TrainPipelineFlags : mlir::PassPipelineOptions<TrainPipelineFlags> {
  Option<int64_t> dp{*this, "dp", llvm::cl::desc("Data-parallel ranks"),
                     llvm::cl::init(1)};
  Option<int64_t> zero{*this, "zero",
                       llvm::cl::desc("ZeRO stage over the dp ranks, 0-3"),
                       llvm::cl::init(0)};
  Option<llmc::DpComm> dpComm{
      *this, "dp-comm", llvm::cl::desc("How data-parallel gradients travel"),
      llvm::cl::init(llmc::DpComm::Overlap), llmc::dpCommValues()};
  Option<llmc::Recompute> recompute{
      *this, "recompute", llvm::cl::desc("Activation recomputation"),
      llvm::cl::init(llmc::Recompute::None), llmc::recomputeValues()};
  Option<int64_t> microbatches{
      *this, "microbatches",
      llvm::cl::desc("Microbatches per step, their gradients summed"),
      llvm::cl::init(1)};
  Option<int64_t> stages{*this, "stages",
                         llvm::cl::desc("Pipeline stages (model chunks)"),
                         llvm::cl::init(1)};
  Option<int64_t> stage{*this, "stage",
                        llvm::cl::desc("The stage this program is"),
                        llvm::cl::init(0)};
  Option<std::string> tied{
      *this, "tied",
      llvm::cl::desc("The parameter the first and last stage share")};
  Option<llmc::Precision> precision{
      *this, "precision", llvm::cl::desc("What the GEMMs multiply"),
      llvm::cl::init(llmc::Precision::FP32), llmc::precisionValues()};
  Option<llmc::Fusion> fusion{
      *this, "fusion", llvm::cl::desc("Which fusions the plan gets"),
      llvm::cl::init(llmc::Fusion::All), llmc::fusionValues()};

  llmc::TrainPipelineOptions options() const {
    llmc::TrainPipelineOptions o;
    o.dataParallel = dp;
    o.zeroStage = zero;
    o.dpComm = dpComm;
    o.recompute = recompute;
    o.microbatches = microbatches;
    o.stages = stages;
    o.stage = stage;
    o.tied = tied;
    o.precision = precision;
    o.fusion = fusion;
    return o;
  }
};

/// llmc-infer-pipeline's options: InferPipelineOptions as pass options.
struct InferPipelineFlags : mlir::PassPipelineOptions<InferPipelineFlags> {
  Option<int64_t> blockTokens{*this, "block-tokens",
                              llvm::cl::desc("Tokens per KV-cache block"),
                              llvm::cl::init(16)};
  Option<int64_t> blocks{*this, "blocks",
                         llvm::cl::desc("KV-cache blocks in the pool"),
                         llvm::cl::init(64)};
  Option<int64_t> maxBlocks{
      *this, "max-blocks",
      llvm::cl::desc("Block-table entries per sequence (0: the prefill's)"),
      llvm::cl::init(0)};
  Option<int64_t> tp{*this, "tp", llvm::cl::desc("Tensor-parallel ranks"),
                     llvm::cl::init(1)};
  Option<llmc::WeightsDtype> weightsDtype{
      *this, "weights-dtype", llvm::cl::desc("How GEMM weights are stored"),
      llvm::cl::init(llmc::WeightsDtype::FP32), llmc::weightsDtypeValues()};
  Option<llmc::Fusion> fusion{
      *this, "fusion", llvm::cl::desc("Which fusions the plan gets"),
      llvm::cl::init(llmc::Fusion::All), llmc::fusionValues()};
  Option<llmc::Precision> precision{
      *this, "precision",
      llvm::cl::desc("bf16-mixed: GEMMs round their activations to bf16 too"),
      llvm::cl::init(llmc::Precision::FP32), llmc::precisionValues()};
};

} // namespace

std::string llmc::trainPipelineSpec(const TrainPipelineOptions &o) {
  std::string spec;
  llvm::raw_string_ostream os(spec);
  // Only what differs from the defaults, so the common case reads short.
  auto flag = [&](const char *key, auto value, auto unset) {
    if (value != unset)
      os << (spec.empty() ? "" : " ") << key << "=" << value;
  };
  flag("dp", o.dataParallel, int64_t(1));
  flag("zero", o.zeroStage, int64_t(0));
  flag("dp-comm", llvm::StringRef(name(o.dpComm)), llvm::StringRef("overlap"));
  flag("recompute", llvm::StringRef(name(o.recompute)),
       llvm::StringRef("none"));
  flag("microbatches", o.microbatches, int64_t(1));
  flag("stages", o.stages, int64_t(1));
  flag("stage", o.stage, int64_t(0));
  flag("tied", llvm::StringRef(o.tied), llvm::StringRef());
  flag("precision", llvm::StringRef(name(o.precision)),
       llvm::StringRef("fp32"));
  flag("fusion", llvm::StringRef(name(o.fusion)), llvm::StringRef("all"));
  return "llmc-train-pipeline" + (spec.empty() ? "" : "{" + spec + "}");
}

std::string llmc::inferPipelineSpec(const InferPipelineOptions &o) {
  return llvm::formatv(
             "llmc-infer-pipeline{{block-tokens={0} blocks={1} "
             "max-blocks={2} tp={3}{4}{5}{6}}",
             o.blockTokens, o.blocks, o.maxBlocks, o.tensorParallel,
             o.weightsDtype == WeightsDtype::FP32
                 ? std::string()
                 : std::string(" weights-dtype=") + name(o.weightsDtype),
             o.fusion == Fusion::All ? std::string()
                                     : std::string(" fusion=") + name(o.fusion),
             o.precision == Precision::FP32
                 ? std::string()
                 : std::string(" precision=") + name(o.precision))
      .str();
}

void llmc::registerPipelines() {
  mlir::PassPipelineRegistration<TrainPipelineFlags>(
      "llmc-train-pipeline",
      "What llmc compile --mode train runs: from the one-device @loss to a "
      "memory-planned @train_step",
      [](mlir::OpPassManager &pm, const TrainPipelineFlags &flags) {
        buildTrainPipeline(pm, flags.options());
      });
  mlir::PassPipelineRegistration<InferPipelineFlags>(
      "llmc-infer-pipeline",
      "What llmc compile --mode infer runs: from @prefill and @decode to a "
      "memory-planned @infer plan over a paged KV cache",
      [](mlir::OpPassManager &pm, const InferPipelineFlags &flags) {
        buildInferPipeline(pm, {flags.blockTokens, flags.blocks,
                                flags.maxBlocks, flags.tp, flags.weightsDtype,
                                flags.fusion, flags.precision});
      });
}
