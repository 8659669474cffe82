//===- MixedPrecision.cpp - bf16 GEMM math in a training plan -------------===//
//
// Under bf16-mixed precision a step's GEMMs multiply bf16 operands and sum
// in fp32, which the processor's bf16 dot-product units do at about twice
// the fp32 rate; weights, their gradients and the AdamW moments stay fp32
// (the master copy), as do norms, softmax and the loss. This pass marks
// every GEMM kernel of the plan (`matmul`, `matmul_bias_gelu`,
// `matmul_swiglu`; INT8 GEMMs keep their own math) and attention's two
// kernels with `math = "bf16"`, as autocast makes attention's products
// bf16 too; the runtime rounds the operands as it calls the GEMM.
//
// -debug-only=llmc-mixed-precision counts the kernels it marks.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-mixed-precision"

namespace mlir::llm {
#define GEN_PASS_DEF_MIXEDPRECISION
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::plan;

namespace {

struct MixedPrecisionPass
    : mlir::llm::impl::MixedPrecisionBase<MixedPrecisionPass> {
  void runOnOperation() override {
    Builder b(&getContext());
    int64_t marked = 0;
    getOperation().walk([&](KernelOp k) {
      if (!llmc::kernels::takes_bf16_math(k.getCallee().str()))
        return;
      NamedAttrList params(k.getParams());
      params.set("math", b.getStringAttr("bf16"));
      k.setParamsAttr(params.getDictionary(&getContext()));
      ++marked;
    });
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] " << marked
                            << " kernel(s) take bf16 operands\n");
  }
};

} // namespace
