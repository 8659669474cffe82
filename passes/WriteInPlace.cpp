//===- WriteInPlace.cpp - Elementwise results over dead inputs ------------===//
//
// Memory fusion: an elementwise kernel whose input dies at it writes its
// result over that input instead of into a buffer of its own, so a chain of
// them (a gradient summed, scaled, passed through an activation's slope)
// walks one buffer that stays in cache, and the arena holds one tensor
// where it held two. Only kernels that read element i of each operand
// before writing element i of the result, on every backend, qualify.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-write-in-place"

namespace mlir::llm {
#define GEN_PASS_DEF_WRITEINPLACE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::plan;

namespace {

/// A buffer that may take another's bytes or give its own: an unnamed
/// activation or temporary that no program returns and no pipeline stage
/// stashes (the runtime finds named buffers by name).
BufferOp plainBuffer(Value value) {
  auto buffer = value.getDefiningOp<BufferOp>();
  if (!buffer ||
      (buffer.getCategory() != BufferCategory::activation &&
       buffer.getCategory() != BufferCategory::temporary) ||
      !buffer.getName().empty() || buffer.getLiveOut() || buffer.getStashed())
    return {};
  return buffer;
}

struct WriteInPlacePass : mlir::llm::impl::WriteInPlaceBase<WriteInPlacePass> {
  void runOnOperation() override {
    // Each buffer's first and last kernel, by position, through views.
    DenseMap<Operation *, size_t> position;
    DenseMap<Value, std::pair<size_t, size_t>> span;
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) {
      position[k] = kernels.size();
      for (Value operand : k->getOperands()) {
        Value root = mlir::llm::rootBuffer(operand);
        auto [it, fresh] = span.try_emplace(
            root, std::make_pair(kernels.size(), kernels.size()));
        if (!fresh)
          it->second.second = kernels.size();
      }
      kernels.push_back(k);
    });
    int64_t fused = 0;
    for (KernelOp k : kernels) {
      if (!llmc::kernels::may_write_over_input(k.getCallee().str()) ||
          k.getOuts().size() != 1)
        continue;
      size_t at = position[k];
      BufferOp out = plainBuffer(k.getOuts()[0]);
      if (!out || span.lookup(out.getBuffer()).first != at ||
          llvm::is_contained(k.getIns(), out.getBuffer()))
        continue;
      for (Value in : k.getIns()) {
        BufferOp dying = plainBuffer(in);
        if (!dying || dying.getType() != out.getType() ||
            dying.getCategory() != out.getCategory() ||
            span.lookup(dying.getBuffer()).second != at)
          continue;
        LLVM_DEBUG(llvm::dbgs()
                   << "[" DEBUG_TYPE "] " << k.getCallee()
                   << " writes over its input at " << k.getLoc() << "\n");
        // The input's bytes now live until the result's last use.
        span[dying.getBuffer()].second = span.lookup(out.getBuffer()).second;
        span.erase(out.getBuffer());
        out.getBuffer().replaceAllUsesWith(dying.getBuffer());
        out.erase();
        ++fused;
        break;
      }
    }
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] " << fused
                            << " result(s) written in place\n");
  }
};

} // namespace
