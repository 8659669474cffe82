//===- Passes.h - llmc passes -----------------------------------*- C++ -*-===//
//
// Declares every llmc pass and their registration.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_PASSES_H
#define LLMC_PASSES_PASSES_H

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/plan/IR/PlanDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "passes/ChoiceValues.h"

namespace mlir::llm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// The GSPMD steps llmc-partition-tensor-parallel runs on a function
/// (llm.split marks to shardings, propagation, partition, llm collectives),
/// registered as the `llmc-gspmd-partition` pipeline.
void buildGspmdPartitionPipeline(OpPassManager &pm);
void registerGspmdPartitionPipeline();

/// Function attribute holding the flop counts of `llmc-count-flops`.
inline constexpr llvm::StringLiteral kFlopsAttrName = "llm.flops";
/// Result attributes of llmc-autodiff's gradient function.
inline constexpr llvm::StringLiteral kGradOfAttrName = "llm.grad_of";
inline constexpr llvm::StringLiteral kOutputAttrName =
    LLMDialect::kOutputAttrName;
/// plan.buffer attribute of a split parameter or moment: the llm.shard
/// dictionary of its argument.
inline constexpr llvm::StringLiteral kPlanShardAttrName = "plan.shard";
/// plan.buffer attribute of a ZeRO slice: {axis, dim = 0, parts, blocks = 1,
/// full_shape}, a flat 1/parts of the (possibly tp-split) buffer it slices.
inline constexpr llvm::StringLiteral kPlanSliceAttrName = "plan.zero_slice";
/// plan.buffer attribute of a weight llmc-fuse-sibling-gemms merged: an
/// array of {name, rows, shard?}, the checkpoint tensors its rows hold in
/// order (each tensor's plan.shard when it is split).
inline constexpr llvm::StringLiteral kPlanPartsAttrName = "plan.parts";
/// Argument and result attributes of llmc-append-adamw's `@train_step`.
inline constexpr llvm::StringLiteral kTrainStepFuncName = "train_step";
inline constexpr llvm::StringLiteral kAdamMAttrName = "llm.adam_m";
inline constexpr llvm::StringLiteral kAdamVAttrName = "llm.adam_v";
inline constexpr llvm::StringLiteral kUpdateOfAttrName = "llm.update_of";
inline constexpr llvm::StringLiteral kAdamMOfAttrName = "llm.adam_m_of";
inline constexpr llvm::StringLiteral kAdamVOfAttrName = "llm.adam_v_of";
/// Argument attribute of an inference function's paged key or value cache
/// of one layer (llmc-paged-kv-cache): its name, e.g. "layers.0.key".
inline constexpr llvm::StringLiteral kKVCacheAttrName = "llm.kv_cache";

} // namespace mlir::llm

#endif // LLMC_PASSES_PASSES_H
