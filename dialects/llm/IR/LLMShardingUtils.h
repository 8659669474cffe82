//===- LLMShardingUtils.h - Helpers of the llm sharding models --*- C++ -*-===//
//
// What the affine models (LLMSharding.cpp) and the loop-space models
// (LLMShardingLayers.cpp) both need when they partition an op.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_LLM_IR_LLMSHARDINGUTILS_H
#define LLMC_DIALECTS_LLM_IR_LLMSHARDINGUTILS_H

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::llm {

/// The rank of a ranked tensor value; 0 for anything else.
inline int64_t rankOf(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type ? type.getRank() : 0;
}

/// Maps `result` (of the op being partitioned) to the sum over the grid
/// axes `axes` of `grid` of its local value, which holds partial sums.
inline void sumPartialResult(OpBuilder &builder, Location loc, Value result,
                             StringRef grid, ArrayRef<shard::GridAxis> axes,
                             IRMapping &partitionMap) {
  ImplicitLocOpBuilder b(loc, builder);
  Value sum = shard::AllReduceOp::create(b, partitionMap.lookup(result), grid,
                                         axes, shard::ReductionKind::Sum);
  partitionMap.map(result, sum);
}

} // namespace mlir::llm

#endif // LLMC_DIALECTS_LLM_IR_LLMSHARDINGUTILS_H
