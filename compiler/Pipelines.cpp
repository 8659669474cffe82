//===- Pipelines.cpp - llmc's pass pipelines ------------------------------===//

#include "compiler/Pipelines.h"

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

void llmc::buildTrainPipeline(mlir::OpPassManager &pm, int64_t dataParallel) {
  using namespace mlir;
  // Differentiate the loss: forward then backward ops in one function.
  pm.addPass(llm::createAutodiff());
  // Clip by global norm and update every parameter with AdamW.
  pm.addPass(llm::createAppendAdamW());
  // One kernel call per op, one buffer per tensor, reshapes as views.
  pm.addPass(llm::createLowerToPlan());
  // Data parallelism: average every gradient over the ranks before AdamW.
  pm.addNestedPass<func::FuncOp>(
      llm::createInsertGradAllReduce({/*dp=*/dataParallel}));
  // Residual add + norm and GEMM + bias + GELU as single kernels.
  pm.addNestedPass<func::FuncOp>(llm::createFuseKernels());
  // Static arena offsets by liveness, so the runtime allocates once.
  pm.addNestedPass<func::FuncOp>(llm::createPlanMemory());
}
