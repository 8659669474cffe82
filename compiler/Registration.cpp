//===- Registration.cpp - Dialects and passes llmc tools load -------------===//

#include "compiler/Registration.h"

#include "compiler/Pipelines.h"
#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/llm/IR/LLMInterfaces.h"
#include "dialects/plan/IR/PlanDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/ShardingInterfaceImpl.h"
#include "mlir/Dialect/Func/Extensions/AllExtensions.h"
#include "mlir/Dialect/Func/Extensions/ShardingExtensions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/ShardingInterfaceImpl.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/Extensions/ShardingExtensions.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void llmc::registerDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::llm::LLMDialect, mlir::plan::PlanDialect,
                  mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect, mlir::linalg::LinalgDialect,
                  mlir::shard::ShardDialect>();
  mlir::func::registerAllExtensions(registry);
  mlir::arith::registerShardingInterfaceExternalModels(registry);
  mlir::linalg::registerShardingInterfaceExternalModels(registry);
  mlir::func::registerShardingInterfaceExternalModels(registry);
  mlir::tensor::registerShardingInterfaceExternalModels(registry);
  mlir::llm::registerTensorAutodiffModels(registry);
  mlir::llm::registerShardingModels(registry);
}

void llmc::registerPasses() {
  mlir::llm::registerLLMCPasses();
  mlir::llm::registerGspmdPartitionPipeline();
  llmc::registerPipelines();
  mlir::registerTransformsPasses();
  mlir::shard::registerShardPasses();
}
