//===- FuseKernels.cpp - Adjacent plan kernels into one -------------------===//
//
// Peephole fusion on the plan: a producer kernel immediately followed by the
// one consumer that a fused runtime kernel covers. Buffers stay as they were,
// so memory planning and every other kernel are unaffected.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-fuse-kernels"

namespace mlir::llm {
#define GEN_PASS_DEF_FUSEKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;
using namespace mlir::plan;

namespace {

int64_t numElements(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getNumElements();
}

/// The fused replacement of `first` followed by `second`, or nothing.
struct Fusion {
  StringRef callee;
  SmallVector<Value> ins, outs;
  SmallVector<NamedAttribute> params;
};

std::optional<Fusion> match(KernelOp first, KernelOp second) {
  if (first.getOuts().size() != 1 ||
      !llvm::is_contained(second.getIns(), first.getOuts()[0]))
    return std::nullopt;
  Value result = first.getOuts()[0];
  // Never across a layer boundary: pipeline stages are cut by layer.
  if (first->getDiscardableAttrDictionary() !=
      second->getDiscardableAttrDictionary())
    return std::nullopt;
  StringRef a = first.getCallee(), b = second.getCallee();
  Fusion f;
  if (a == kernel_name(KernelId::add) &&
      (b == kernel_name(KernelId::layernorm_forward) ||
       b == kernel_name(KernelId::rmsnorm_forward)) &&
      second.getIns()[0] == result &&
      numElements(first.getIns()[0]) == numElements(first.getIns()[1])) {
    f.callee = b == kernel_name(KernelId::layernorm_forward)
                   ? kernel_name(KernelId::add_layernorm_forward)
                   : kernel_name(KernelId::add_rmsnorm_forward);
    llvm::append_range(f.ins, first.getIns());
    llvm::append_range(f.ins, second.getIns().drop_front());
    llvm::append_range(f.outs, first.getOuts());
    llvm::append_range(f.outs, second.getOuts());
    llvm::append_range(f.params, second.getParams());
    return f;
  }
  if (a == kernel_name(KernelId::matmul) && first.getIns().size() == 3 &&
      b == kernel_name(KernelId::gelu_forward)) {
    f.callee = kernel_name(KernelId::matmul_bias_gelu);
    llvm::append_range(f.ins, first.getIns());
    llvm::append_range(f.outs, first.getOuts());
    llvm::append_range(f.outs, second.getOuts());
    llvm::append_range(f.params, first.getParams());
    llvm::append_range(f.params, second.getParams());
    return f;
  }
  // LLaMA's up projection and the SwiGLU reading it as `up` (its second
  // operand; the gate projection ran before).
  if (a == kernel_name(KernelId::matmul) && first.getIns().size() == 2 &&
      b == kernel_name(KernelId::swiglu_forward) &&
      second.getIns()[1] == result && second.getIns()[0] != result) {
    f.callee = kernel_name(KernelId::matmul_swiglu);
    llvm::append_range(f.ins, first.getIns());
    f.ins.push_back(second.getIns()[0]);
    llvm::append_range(f.outs, first.getOuts());
    llvm::append_range(f.outs, second.getOuts());
    llvm::append_range(f.params, first.getParams());
    return f;
  }
  return std::nullopt;
}

struct FuseKernelsPass : mlir::llm::impl::FuseKernelsBase<FuseKernelsPass> {
  void runOnOperation() override {
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    OpBuilder b(&getContext());
    for (size_t i = 0; i + 1 < kernels.size(); ++i) {
      std::optional<Fusion> fusion = match(kernels[i], kernels[i + 1]);
      if (!fusion)
        continue;
      LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] " << kernels[i].getCallee()
                              << " + " << kernels[i + 1].getCallee() << " -> "
                              << fusion->callee << "\n");
      // At the consumer's place: its output buffers are declared by then.
      b.setInsertionPoint(kernels[i + 1]);
      auto fused = KernelOp::create(b, kernels[i + 1].getLoc(), fusion->callee,
                                    fusion->ins, fusion->outs,
                                    b.getDictionaryAttr(fusion->params));
      fused->setDiscardableAttrs(kernels[i]->getDiscardableAttrDictionary());
      kernels[i].erase();
      kernels[i + 1].erase();
      ++i; // the consumer is gone
    }
  }
};

} // namespace
