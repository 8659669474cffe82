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

/// The first op in the block that uses `op`'s result.
static Operation *firstUser(Operation *op) {
  Operation *first = nullptr;
  for (Operation *user : op->getResult(0).getUsers())
    if (user->getBlock() == op->getBlock() &&
        (!first || user->isBeforeInBlock(first)))
      first = user;
  return first;
}

namespace {

/// The llm axis of a collective over `gridAxes` of grid `grid`: its name,
/// when it is one-dimensional.
FailureOr<StringAttr> axisOf(Operation *op, FlatSymbolRefAttr grid,
                             ArrayRef<int16_t> gridAxes,
                             SymbolTableCollection &symbols) {
  if (gridAxes.size() != 1 || gridAxes[0] != 0)
    return op->emitOpError("llmc-lower-shard-collectives: only collectives "
                           "over one grid axis (axis 0) lower to llm ops");
  // Axis 0 of a grid of more dimensions is not the whole grid, which the
  // llm axis named after it would be.
  shard::GridOp gridOp = shard::getGridOrNull(op, grid, symbols);
  if (!gridOp)
    return op->emitOpError("llmc-lower-shard-collectives: no grid ") << grid;
  if (gridOp.getRank() != 1)
    return op->emitOpError("llmc-lower-shard-collectives: only collectives "
                           "on a 1-D grid lower to llm ops; ")
           << grid << " has " << gridOp.getRank() << " axes";
  return grid.getAttr();
}

struct LowerShardCollectivesPass
    : mlir::llm::impl::LowerShardCollectivesBase<LowerShardCollectivesPass> {
  void runOnOperation() override {
    SmallVector<Operation *> collectives;
    WalkResult walked = getOperation().walk([&](Operation *op) {
      if (isa<shard::AllReduceOp, shard::AllGatherOp, shard::ReduceScatterOp,
              shard::AllSliceOp>(op))
        collectives.push_back(op);
      // The other communication ops have no llm counterpart; left in place
      // they would fail only in plan lowering, far from their cause.
      else if (isa<shard::AllToAllOp, shard::BroadcastOp, shard::GatherOp,
                   shard::RecvOp, shard::ReduceOp, shard::ScatterOp,
                   shard::SendOp, shard::ShiftOp, shard::UpdateHaloOp>(op)) {
        op->emitOpError("llmc-lower-shard-collectives: ")
            << op->getName() << " does not lower (no llm collective for it)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      return signalPassFailure();
    SymbolTableCollection symbols;
    for (Operation *op : collectives)
      if (failed(lower(op, symbols)))
        return signalPassFailure();
  }

  LogicalResult lower(Operation *op, SymbolTableCollection &symbols) {
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
      FailureOr<StringAttr> axis =
          axisOf(op, r.getGridAttr(), r.getGridAxes(), symbols);
      if (failed(axis))
        return failure();
      result = AllReduceOp::create(b, loc, r.getInput(), *axis);
    } else if (auto g = dyn_cast<shard::AllGatherOp>(op)) {
      FailureOr<StringAttr> axis =
          axisOf(op, g.getGridAttr(), g.getGridAxes(), symbols);
      if (failed(axis))
        return failure();
      result = AllGatherOp::create(
          b, loc, type, g.getInput(), *axis,
          b.getI64IntegerAttr(g.getGatherAxis().getSExtValue()));
    } else if (auto s = dyn_cast<shard::ReduceScatterOp>(op)) {
      if (s.getReduction() != shard::ReductionKind::Sum)
        return s.emitOpError("llmc-lower-shard-collectives: only sums lower");
      FailureOr<StringAttr> axis =
          axisOf(op, s.getGridAttr(), s.getGridAxes(), symbols);
      if (failed(axis))
        return failure();
      result = ReduceScatterOp::create(
          b, loc, type, s.getInput(), *axis,
          b.getI64IntegerAttr(s.getScatterAxis().getSExtValue()));
    } else {
      auto a = cast<shard::AllSliceOp>(op);
      FailureOr<StringAttr> axis =
          axisOf(op, a.getGridAttr(), a.getGridAxes(), symbols);
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
