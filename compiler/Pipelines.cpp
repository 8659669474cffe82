//===- Pipelines.cpp - llmc's pass pipelines ------------------------------===//

#include "compiler/Pipelines.h"

#include "frontends/hf/ModelBuilder.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

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
  // Activation recomputation: the backward pass reruns forward ops.
  if (o.recompute != "none")
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
  bool overlap = !o.pipelined() && o.dpComm == "overlap";
  if (o.zeroStage == 0 && o.dpComm != "none")
    pm.addNestedPass<func::FuncOp>(llm::createInsertGradAllReduce(
        {/*dp=*/o.dataParallel, /*bucketBytes=*/25 * 1024 * 1024,
         /*overlap=*/overlap}));
  // ZeRO: slices of optimizer state, gradients and parameters per rank.
  pm.addNestedPass<func::FuncOp>(llm::createShardOptimizer(
      {/*dp=*/o.dataParallel, /*stage=*/o.zeroStage, /*overlap=*/overlap}));
  // Residual add + norm and GEMM + bias + GELU as single kernels.
  pm.addNestedPass<func::FuncOp>(llm::createFuseKernels());
  // Forward, backward and optimizer programs; what microbatches stash.
  if (o.pipelined())
    pm.addNestedPass<func::FuncOp>(llm::createPipelineStage(
        {/*stages=*/o.stages, /*stage=*/o.stage, /*tied=*/o.tied}));
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
  // Residual add + norm and GEMM + bias + GELU as single kernels.
  pm.addNestedPass<func::FuncOp>(llm::createFuseKernels());
  // Static offsets: the two programs' activations share bytes, since only
  // one runs at a time.
  pm.addNestedPass<func::FuncOp>(llm::createPlanMemory());
}
