//===- PlanMemory.cpp - Static arena offsets by liveness ------------------===//
//
// Liveness is measured in kernel positions: a buffer is live from the first
// kernel that touches it (directly or through a view) to the last. Buffers
// alive at the same time never overlap; all others may share bytes.
// Stashed buffers (a pipeline stage's, kept from a microbatch's forward to
// its backward) go one after another into a region of their own, which the
// runtime repeats once per microbatch in flight.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-plan-memory"

namespace mlir::llm {
#define GEN_PASS_DEF_PLANMEMORY
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::plan;

namespace {

constexpr int64_t kAlignment = 64;

struct Interval {
  BufferOp buffer;
  int64_t first = std::numeric_limits<int64_t>::max();
  int64_t last = -1;
  bool wholeProgram = false;
  int64_t size = 0;
  int64_t offset = -1;

  bool overlapsInTime(const Interval &other) const {
    return wholeProgram || other.wholeProgram ||
           (first <= other.last && other.first <= last);
  }
};

/// The buffer a value's bytes belong to, looking through views.
BufferOp rootBuffer(Value value) {
  while (auto view = value.getDefiningOp<ViewOp>())
    value = view.getSource();
  return value.getDefiningOp<BufferOp>();
}

bool livesWholeProgram(BufferCategory category) {
  return category == BufferCategory::input ||
         category == BufferCategory::param ||
         category == BufferCategory::optimizer_state ||
         category == BufferCategory::output ||
         category == BufferCategory::kv_cache ||
         category == BufferCategory::weight_scale ||
         category == BufferCategory::weight_copy;
}

struct PlanMemoryPass : mlir::llm::impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Interval> intervals;
    DenseMap<Operation *, size_t> index;
    int64_t stash = 0;
    Builder b(func.getContext());
    func.walk([&](BufferOp buffer) {
      if (buffer.getStashed()) {
        buffer.setOffsetAttr(b.getI64IntegerAttr(stash));
        stash += llvm::alignTo(buffer.getSizeInBytes(), kAlignment);
        return;
      }
      index[buffer] = intervals.size();
      Interval interval;
      interval.buffer = buffer;
      interval.size = llvm::alignTo(buffer.getSizeInBytes(), kAlignment);
      interval.wholeProgram =
          buffer.getLiveOut() || livesWholeProgram(buffer.getCategory());
      intervals.push_back(interval);
    });
    if (stash > 0)
      func->setAttr(PlanDialect::kStashBytesAttrName,
                    b.getI64IntegerAttr(stash));
    if (intervals.empty())
      return;

    int64_t position = 0;
    WalkResult walked = func.walk([&](KernelOp kernel) {
      for (OpOperand &operand : kernel->getOpOperands()) {
        BufferOp root = rootBuffer(operand.get());
        if (!root) {
          kernel.emitOpError("llmc-plan-memory: operand #")
              << operand.getOperandNumber()
              << " is not a plan.buffer (or a view of one)";
          return WalkResult::interrupt();
        }
        if (root.getStashed())
          continue;
        Interval &interval = intervals[index[root]];
        interval.first = std::min(interval.first, position);
        interval.last = std::max(interval.last, position);
      }
      ++position;
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      return signalPassFailure();

    // Largest first, each at the lowest offset free during its lifetime.
    SmallVector<Interval *> order = llvm::map_to_vector(
        intervals, [](Interval &interval) { return &interval; });
    llvm::stable_sort(
        order, [](Interval *a, Interval *b) { return a->size > b->size; });
    SmallVector<Interval *> placed;
    int64_t arena = 0;
    for (Interval *interval : order) {
      SmallVector<Interval *> conflicts;
      for (Interval *other : placed)
        if (interval->overlapsInTime(*other))
          conflicts.push_back(other);
      llvm::sort(conflicts, [](Interval *a, Interval *b) {
        return a->offset < b->offset;
      });
      int64_t offset = 0;
      for (Interval *other : conflicts) {
        if (offset + interval->size <= other->offset)
          break;
        offset = std::max(offset, other->offset + other->size);
      }
      interval->offset = offset;
      LLVM_DEBUG(llvm::dbgs()
                 << "[" DEBUG_TYPE "] '" << interval->buffer.getName() << "' "
                 << interval->size << " bytes at " << offset << ", live "
                 << interval->first << ".." << interval->last << "\n");
      arena = std::max(arena, offset + interval->size);
      placed.push_back(interval);
    }

    for (Interval &interval : intervals)
      interval.buffer.setOffsetAttr(b.getI64IntegerAttr(interval.offset));
    func->setAttr(PlanDialect::kArenaBytesAttrName, b.getI64IntegerAttr(arena));
  }
};

} // namespace
