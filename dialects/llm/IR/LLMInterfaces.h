//===- LLMInterfaces.h - Interfaces of llm ops ------------------*- C++ -*-===//
//
// The flop-count interface and the value it returns.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_IR_LLMINTERFACES_H
#define LLMC_DIALECTS_LLM_IR_LLMINTERFACES_H

#include "mlir/IR/OpDefinition.h"
#include <cstdint>

namespace mlir::llm {

/// Floating-point operations of one op execution, by kind of work. Kept apart
/// because they run at very different speeds (GEMM peak vs. memory bound).
struct FlopCount {
  int64_t matmul = 0;    // 2·M·N·K per GEMM
  int64_t attention = 0; // QKᵀ and P·V, over the full Tq×Tk square
  int64_t vector = 0;    // elementwise, norms, softmax, losses

  /// The "model flops" of MFU: GEMMs and attention products.
  int64_t model() const { return matmul + attention; }
  int64_t total() const { return matmul + attention + vector; }
  FlopCount &operator+=(const FlopCount &other) {
    matmul += other.matmul;
    attention += other.attention;
    vector += other.vector;
    return *this;
  }
};

} // namespace mlir::llm

#include "dialects/llm/IR/LLMInterfaces.h.inc"

namespace mlir {
class DialectRegistry;
namespace llm {
/// Gradients for the upstream tensor ops the frontend emits
/// (tensor.extract_slice of the position embedding).
void registerTensorAutodiffModels(DialectRegistry &registry);

/// Upstream `shard` ShardingInterface models of every llm op of a training
/// step (and the tensor slices the frontend emits), so upstream
/// sharding-propagation and shard-partition can split the whole step.
void registerShardingModels(DialectRegistry &registry);

/// The models of ops that are not plain affine loop nests (norms,
/// attention, reshapes, the vocab-parallel embedding and cross-entropy);
/// registerShardingModels includes them.
void registerLayerShardingModels(DialectRegistry &registry);
} // namespace llm
} // namespace mlir

#endif // LLMC_DIALECTS_LLM_IR_LLMINTERFACES_H
