//===- Pipelines.cpp - llmc's pass pipelines ------------------------------===//

#include "compiler/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

void llmc::buildTrainPipeline(mlir::OpPassManager &pm, int64_t dataParallel,
                              int64_t zeroStage, llvm::StringRef recompute) {
  using namespace mlir;
  // Differentiate the loss: forward then backward ops in one function.
  pm.addPass(llm::createAutodiff());
  // Activation recomputation: the backward pass reruns forward ops.
  if (recompute != "none")
    pm.addPass(llm::createRecompute({/*mode=*/recompute.str()}));
  // Clip by global norm and update every parameter with AdamW.
  pm.addPass(llm::createAppendAdamW());
  // One kernel call per op, one buffer per tensor, reshapes as views.
  pm.addPass(llm::createLowerToPlan());
  // Data parallelism: average every gradient over the ranks before AdamW
  // (under ZeRO, each is reduce-scattered instead).
  if (zeroStage == 0)
    pm.addNestedPass<func::FuncOp>(
        llm::createInsertGradAllReduce({/*dp=*/dataParallel}));
  // ZeRO: slices of optimizer state, gradients and parameters per rank.
  pm.addNestedPass<func::FuncOp>(
      llm::createShardOptimizer({/*dp=*/dataParallel, /*stage=*/zeroStage}));
  // Residual add + norm and GEMM + bias + GELU as single kernels.
  pm.addNestedPass<func::FuncOp>(llm::createFuseKernels());
  // Static arena offsets by liveness, so the runtime allocates once.
  pm.addNestedPass<func::FuncOp>(llm::createPlanMemory());
}
