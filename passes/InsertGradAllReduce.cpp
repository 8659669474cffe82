//===- InsertGradAllReduce.cpp - Data-parallel gradient averaging ---------===//
//
// Buckets the gradients in the order the backward pass completes them and
// starts each bucket's non-blocking all-reduce as soon as the last kernel
// touching its gradients has run; all buckets are waited for before the
// gradient norm.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-insert-grad-allreduce"

namespace mlir::llm {
#define GEN_PASS_DEF_INSERTGRADALLREDUCE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;
using namespace mlir::plan;

namespace {

struct InsertGradAllReducePass
    : mlir::llm::impl::InsertGradAllReduceBase<InsertGradAllReducePass> {
  using Base::Base;

  void runOnOperation() override {
    if (dp <= 1)
      return;
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    if (kernels.empty())
      return; // a tensor-level function next to the plan program
    auto norm = llvm::find_if(kernels, [](KernelOp k) {
      return k.getCallee() == kernel_name(KernelId::grad_norm);
    });
    if (norm == kernels.end()) {
      getOperation().emitError("llmc-insert-grad-allreduce: the program has "
                               "no grad_norm kernel (run it on a train step)");
      return signalPassFailure();
    }

    SmallVector<std::pair<size_t, Value>> ready =
        mlir::llm::gradientsByReadiness(kernels, norm - kernels.begin());

    OpBuilder b(&getContext());
    DictionaryAttr tags = (*norm)->getDiscardableAttrDictionary();
    auto params = [&](int64_t bucket) {
      return b.getDictionaryAttr(
          {b.getNamedAttr("axis", b.getStringAttr("dp")),
           b.getNamedAttr("bucket", b.getI64IntegerAttr(bucket))});
    };
    SmallVector<SmallVector<Value>> buckets(1);
    int64_t bytes = 0;
    for (auto [i, entry] : llvm::enumerate(ready)) {
      Value grad = entry.second;
      buckets.back().push_back(grad);
      bytes += cast<MemRefType>(grad.getType()).getNumElements() * 4;
      bool last = i + 1 == ready.size();
      if (bytes < bucketBytes && !last)
        continue;
      // Start the bucket right after the kernel completing its last gradient.
      if (overlap)
        b.setInsertionPointAfter(kernels[entry.first]);
      else
        b.setInsertionPoint(*norm);
      auto start = KernelOp::create(
          b, grad.getLoc(), kernel_name(KernelId::all_reduce_mean_start),
          ValueRange{}, buckets.back(), params(buckets.size() - 1));
      start->setDiscardableAttrs(tags);
      LLVM_DEBUG(llvm::dbgs()
                 << "[" DEBUG_TYPE "] bucket " << buckets.size() - 1 << ": "
                 << buckets.back().size() << " gradients, " << bytes
                 << " bytes, starting " << (overlap ? "after " : "before ")
                 << (overlap ? kernels[entry.first].getCallee()
                             : norm->getCallee())
                 << "\n");
      if (!last)
        buckets.emplace_back();
      bytes = 0;
    }
    b.setInsertionPoint(*norm);
    for (auto [i, bucket] : llvm::enumerate(buckets)) {
      auto wait = KernelOp::create(b, norm->getLoc(),
                                   kernel_name(KernelId::all_reduce_mean_wait),
                                   ValueRange{}, bucket, params(i));
      wait->setDiscardableAttrs(tags);
    }
  }
};

} // namespace
