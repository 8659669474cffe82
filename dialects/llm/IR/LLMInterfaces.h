//===- LLMInterfaces.h - Interfaces of llm ops ------------------*- C++ -*-===//
//
// The flop-count interface and the value it returns.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_IR_LLMINTERFACES_H
#define LLMC_DIALECTS_LLM_IR_LLMINTERFACES_H

#include "mlir/IR/OpDefinition.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <cstdint>
#include <initializer_list>
#include <limits>

namespace mlir::llm {

/// A flop count that does not fit in 64 bits: counts saturate here instead
/// of wrapping (2^64 would read as 0), and llmc-count-flops reports it.
inline constexpr int64_t kFlopsOverflow = std::numeric_limits<int64_t>::max();

/// The product of non-negative `factors`, saturating at kFlopsOverflow.
inline int64_t flopProduct(std::initializer_list<int64_t> factors) {
  int64_t p = 1;
  for (int64_t f : factors)
    p = llvm::checkedMul(p, f).value_or(kFlopsOverflow);
  return p;
}

/// a + b of non-negative counts, saturating at kFlopsOverflow.
inline int64_t flopSum(int64_t a, int64_t b) {
  return llvm::checkedAdd(a, b).value_or(kFlopsOverflow);
}

/// Floating-point operations of one op execution, by kind of work. Kept apart
/// because they run at very different speeds (GEMM peak vs. memory bound).
struct FlopCount {
  int64_t matmul = 0;    // 2·M·N·K per GEMM
  int64_t attention = 0; // QKᵀ and P·V, over the full Tq×Tk square
  int64_t vector = 0;    // elementwise, norms, softmax, losses

  /// The "model flops" of MFU: GEMMs and attention products.
  int64_t model() const { return flopSum(matmul, attention); }
  int64_t total() const { return flopSum(model(), vector); }
  /// Whether a count reached kFlopsOverflow.
  bool overflowed() const {
    return matmul == kFlopsOverflow || attention == kFlopsOverflow ||
           vector == kFlopsOverflow;
  }
  FlopCount &operator+=(const FlopCount &other) {
    matmul = flopSum(matmul, other.matmul);
    attention = flopSum(attention, other.attention);
    vector = flopSum(vector, other.vector);
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
