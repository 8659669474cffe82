//===- GradientReadiness.h - When each gradient of a plan is final -*- C++
//-*-===//
//
// Data parallelism and ZeRO both act on a gradient as soon as the backward
// pass has finished it: the last kernel before the gradient norm that
// touches its bytes.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_PASSES_GRADIENTREADINESS_H
#define LLMC_PASSES_GRADIENTREADINESS_H

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/plan/IR/PlanDialect.h"

namespace mlir::llm {

/// The buffer a value's bytes belong to, looking through views.
inline Value rootBuffer(Value value) {
  while (auto view = value.getDefiningOp<plan::ViewOp>())
    value = view.getSource();
  return value;
}

/// An op's role ("forward", "backward", "recompute", "optimizer"), or ""
/// where it has none.
inline StringRef roleOf(Operation *op) {
  auto role = op->getAttrOfType<StringAttr>(LLMDialect::kRoleAttrName);
  return role ? role.getValue() : StringRef();
}

/// Each gradient that `kernels[norm]` (the grad_norm kernel) reads, once per
/// buffer, paired with the index of the last kernel before the norm that
/// touches its bytes, in the order they become final.
inline SmallVector<std::pair<size_t, Value>>
gradientsByReadiness(ArrayRef<plan::KernelOp> kernels, size_t norm) {
  DenseMap<Value, size_t> lastUse;
  for (size_t i = 0; i < norm; ++i)
    for (Value operand : kernels[i]->getOperands())
      lastUse[rootBuffer(operand)] = i;
  SmallVector<std::pair<size_t, Value>> ready;
  DenseSet<Value> seen; // a buffer shared by two gradients is handled once
  for (Value grad : plan::KernelOp(kernels[norm]).getIns())
    if (seen.insert(rootBuffer(grad)).second)
      ready.push_back({lastUse.lookup(rootBuffer(grad)), grad});
  llvm::stable_sort(ready, [](auto &a, auto &b) { return a.first < b.first; });
  return ready;
}

} // namespace mlir::llm

#endif // LLMC_PASSES_GRADIENTREADINESS_H
