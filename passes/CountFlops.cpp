//===- CountFlops.cpp - Counts the flops of a function --------------------===//
//
// An analysis pass: sums each op's FlopCountOpInterface count and records the
// totals on the function, for --emit=summary and (later) the cost model.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-count-flops"

namespace mlir::llm {
#define GEN_PASS_DEF_COUNTFLOPS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

static DictionaryAttr flopsAttr(Builder &b, const FlopCount &flops) {
  return b.getDictionaryAttr({
      b.getNamedAttr("attention", b.getI64IntegerAttr(flops.attention)),
      b.getNamedAttr("matmul", b.getI64IntegerAttr(flops.matmul)),
      b.getNamedAttr("vector", b.getI64IntegerAttr(flops.vector)),
  });
}

namespace {
struct CountFlopsPass : mlir::llm::impl::CountFlopsBase<CountFlopsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    Builder b(func.getContext());
    FlopCount total;
    WalkResult walked = func.walk([&](FlopCountOpInterface op) {
      FlopCount flops = op.getFlopCount();
      if (flops.overflowed()) {
        op->emitOpError("llmc-count-flops: flop count overflows 64 bits");
        return WalkResult::interrupt();
      }
      total += flops;
      if (total.overflowed()) {
        func.emitError("llmc-count-flops: the flop count of @")
            << func.getName() << " overflows 64 bits";
        return WalkResult::interrupt();
      }
      if (annotateOps)
        op->setAttr(kFlopsAttrName, flopsAttr(b, flops));
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      return signalPassFailure();
    func->setAttr(kFlopsAttrName, flopsAttr(b, total));
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] @" << func.getName() << ": "
                            << func->getAttr(kFlopsAttrName) << "\n");
    markAllAnalysesPreserved();
  }
};
} // namespace
