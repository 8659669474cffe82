//===- InsertGradAllReduce.cpp - Data-parallel gradient averaging ---------===//
//
// Inserts one in-place all-reduce (mean) per gradient right before the
// gradient norm, where every gradient of the step is complete. Bucketing
// and overlap with the backward pass come with the parallelism issue's
// scheduling work; this is the correct, simple form.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::llm {
#define GEN_PASS_DEF_INSERTGRADALLREDUCE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::plan;

namespace {
struct InsertGradAllReducePass
    : mlir::llm::impl::InsertGradAllReduceBase<InsertGradAllReducePass> {
  using Base::Base;

  void runOnOperation() override {
    if (dp <= 1)
      return;
    KernelOp norm;
    bool isPlan = false;
    getOperation().walk([&](KernelOp k) {
      isPlan = true;
      if (k.getCallee() == "grad_norm")
        norm = k;
    });
    if (!isPlan)
      return; // a tensor-level function next to the plan program
    if (!norm) {
      getOperation().emitError("llmc-insert-grad-allreduce: the program has "
                               "no grad_norm kernel (run it on a train step)");
      return signalPassFailure();
    }
    OpBuilder b(norm);
    for (Value grad : norm.getIns()) {
      auto reduce = KernelOp::create(
          b, norm.getLoc(), "all_reduce_mean", ValueRange{}, ValueRange{grad},
          b.getDictionaryAttr(b.getNamedAttr("axis", b.getStringAttr("dp"))));
      reduce->setDiscardableAttrs(norm->getDiscardableAttrDictionary());
    }
  }
};
} // namespace
