//===- LowerShardCollectives.cpp - shard collectives as llm ops -----------===//
//
// After upstream shard-partition, the collectives it inserted are shard
// dialect ops on a grid; the rest of llmc (plan lowering, the runtime's
// communicators per mesh axis) speaks llm collectives on a named axis. On a
// one-dimensional grid the two are the same thing: the grid's name is the
// axis.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-lower-shard-collectives"

namespace mlir::llm {
#define GEN_PASS_DEF_LOWERSHARDCOLLECTIVES
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// The llm axis of a collective over `gridAxes` of grid `grid`: its name,
/// when it is one-dimensional.
FailureOr<StringAttr> axisOf(Operation *op, StringRef grid,
                             ArrayRef<int16_t> gridAxes) {
  if (gridAxes.size() != 1 || gridAxes[0] != 0)
    return op->emitOpError("llmc-lower-shard-collectives: only collectives "
                           "over one grid axis (axis 0) lower to llm ops");
  return StringAttr::get(op->getContext(), grid);
}

struct LowerShardCollectivesPass
    : mlir::llm::impl::LowerShardCollectivesBase<LowerShardCollectivesPass> {
  void runOnOperation() override {
    SmallVector<Operation *> collectives;
    getOperation().walk([&](Operation *op) {
      if (isa<shard::AllReduceOp, shard::AllGatherOp, shard::ReduceScatterOp,
              shard::AllSliceOp>(op))
        collectives.push_back(op);
    });
    for (Operation *op : collectives)
      if (failed(lower(op)))
        return signalPassFailure();
  }

  /// The first op in the block that uses `op`'s result.
  static Operation *firstUser(Operation *op) {
    Operation *first = nullptr;
    for (Operation *user : op->getResult(0).getUsers())
      if (user->getBlock() == op->getBlock() &&
          (!first || user->isBeforeInBlock(first)))
        first = user;
    return first;
  }

  LogicalResult lower(Operation *op) {
    // shard-partition reshards a function argument at the entry; it runs
    // where it is first needed (a backward pass's gradient seed is gathered
    // in the backward pass).
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] " << op->getName() << " at "
                            << op->getLoc() << "\n");
    Operation *consumer = firstUser(op);
    if (isa<BlockArgument>(op->getOperand(0)) && consumer)
      op->moveBefore(consumer);
    OpBuilder b(op);
    Location loc = op->getLoc();
    Type type = op->getResult(0).getType();
    Value result;
    if (auto r = dyn_cast<shard::AllReduceOp>(op)) {
      if (r.getReduction() != shard::ReductionKind::Sum)
        return r.emitOpError("llmc-lower-shard-collectives: only sums lower");
      FailureOr<StringAttr> axis = axisOf(op, r.getGrid(), r.getGridAxes());
      if (failed(axis))
        return failure();
      result = AllReduceOp::create(b, loc, r.getInput(), *axis);
    } else if (auto g = dyn_cast<shard::AllGatherOp>(op)) {
      FailureOr<StringAttr> axis = axisOf(op, g.getGrid(), g.getGridAxes());
      if (failed(axis))
        return failure();
      result = AllGatherOp::create(
          b, loc, type, g.getInput(), *axis,
          b.getI64IntegerAttr(g.getGatherAxis().getSExtValue()));
    } else if (auto s = dyn_cast<shard::ReduceScatterOp>(op)) {
      FailureOr<StringAttr> axis = axisOf(op, s.getGrid(), s.getGridAxes());
      if (failed(axis))
        return failure();
      result = ReduceScatterOp::create(
          b, loc, type, s.getInput(), *axis,
          b.getI64IntegerAttr(s.getScatterAxis().getSExtValue()));
    } else {
      auto a = cast<shard::AllSliceOp>(op);
      FailureOr<StringAttr> axis = axisOf(op, a.getGrid(), a.getGridAxes());
      if (failed(axis))
        return failure();
      result = ScatterToParallelOp::create(
          b, loc, type, a.getInput(), *axis,
          b.getI64IntegerAttr(a.getSliceAxis().getSExtValue()));
    }
    // The collective runs in the pass (forward, backward) and layer of the
    // op that consumes it: a reshard of a forward value for the backward
    // pass belongs to the backward pass. A returned value's collective
    // belongs to the op it completes.
    Operation *owner = consumer;
    if (!owner || !owner->hasAttr(LLMDialect::kRoleAttrName))
      owner = op->getOperand(0).getDefiningOp();
    if (owner)
      for (StringRef name :
           {LLMDialect::kRoleAttrName, LLMDialect::kLayerAttrName})
        if (Attribute attr = owner->getAttr(name))
          result.getDefiningOp()->setAttr(name, attr);
    op->getResult(0).replaceAllUsesWith(result);
    op->erase();
    return success();
  }
};

} // namespace
