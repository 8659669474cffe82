//===- PipelineStage.cpp - One pipeline stage's program -------------------===//
//
// A pipeline stage runs its forward program once per microbatch, its
// backward program once per microbatch (in the schedule's order, with other
// microbatches' forwards in between), then the optimizer once per step. This
// pass checks the plan falls into those programs, marks the buffers that
// must survive from a microbatch's forward to its backward (the stash: one
// copy per microbatch in flight), and adds what the stages share: the tied
// embedding's gradient summed between the first and last stage, and the
// gradient norm's squares left for the runtime to sum over the stages.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-pipeline-stage"

namespace mlir::llm {
#define GEN_PASS_DEF_PIPELINESTAGE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;
using namespace mlir::plan;

namespace {

enum class Phase { Forward, Backward, Optimizer };

Phase phaseOf(KernelOp kernel) {
  StringRef role = llm::roleOf(kernel);
  if (role.empty() || role == "forward")
    return Phase::Forward;
  if (role == "optimizer")
    return Phase::Optimizer;
  return Phase::Backward; // backward, recompute
}

bool persists(BufferOp buffer) {
  BufferCategory c = buffer.getCategory();
  return buffer.getLiveOut() || c == BufferCategory::param ||
         c == BufferCategory::optimizer_state || c == BufferCategory::grad;
}

struct PipelineStagePass
    : mlir::llm::impl::PipelineStageBase<PipelineStagePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    if (kernels.empty())
      return;
    if (stages > 1 && failed(joinStages(kernels)))
      return signalPassFailure();
    if (failed(checkPhases()))
      return signalPassFailure();
    markStash();
  }

  /// Forward kernels, then backward ones, then the optimizer's; records
  /// where the forward, backward and gradients programs end (the last at
  /// the norm: the update runs once the norm is whole).
  LogicalResult checkPhases() {
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    Phase last = Phase::Forward;
    int64_t ends[3] = {0, 0, 0}; // forward, backward, gradients
    for (auto [i, kernel] : llvm::enumerate(kernels)) {
      KernelOp k = kernel;
      Phase p = phaseOf(k);
      if (p < last)
        return k.emitError("llmc-pipeline-stage: a ")
               << (p == Phase::Forward ? "forward" : "backward")
               << " kernel after the "
               << (last == Phase::Backward ? "backward" : "optimizer")
               << " kernels: the program does not split into forward, "
                  "backward and optimizer programs";
      last = p;
      for (Phase q : {Phase::Forward, Phase::Backward})
        if (p <= q)
          ends[unsigned(q)] = int64_t(i) + 1;
      if (k.getCallee() == kernel_name(KernelId::grad_norm))
        ends[2] = int64_t(i) + 1;
    }
    ends[1] = std::max(ends[1], ends[0]);
    if (ends[2] < ends[1])
      return getOperation().emitError(
          "llmc-pipeline-stage: no grad_norm kernel after the backward pass");
    Builder b(&getContext());
    getOperation()->setAttr(PlanDialect::kProgramEndsAttrName,
                            b.getDenseI64ArrayAttr(ends));
    return success();
  }

  /// The tied embedding's gradient summed over the first and last stage
  /// (counted once in the norm), and the norm left as this stage's sum of
  /// squares, which the runtime adds up over the stages.
  LogicalResult joinStages(ArrayRef<KernelOp> kernels) {
    auto norm = llvm::find_if(kernels, [](KernelOp k) {
      return k.getCallee() == kernel_name(KernelId::grad_norm);
    });
    if (norm == kernels.end())
      return getOperation().emitError(
          "llmc-pipeline-stage: the program has no grad_norm kernel");
    KernelOp normOp = *norm;
    OpBuilder b(normOp);
    DictionaryAttr params = normOp.getParams();
    NamedAttrList normParams(params);
    normParams.set("partial", b.getBoolAttr(true));

    if (!tied.empty() && (stage == 0 || stage == stages - 1)) {
      // The gradient AdamW applies to the tied parameter (under ZeRO, this
      // rank's slice of it).
      Value tiedGrad;
      for (KernelOp k : kernels)
        if (k.getCallee() == kernel_name(KernelId::adamw))
          if (auto param =
                  llm::rootBuffer(k.getOuts()[0]).getDefiningOp<BufferOp>();
              param && param.getName() == tied)
            tiedGrad = llm::rootBuffer(k.getIns()[0]);
      for (auto [i, grad] : llvm::enumerate(normOp.getIns())) {
        if (!tiedGrad || llm::rootBuffer(grad) != tiedGrad)
          continue;
        auto sum = KernelOp::create(
            b, normOp.getLoc(), kernel_name(KernelId::all_reduce_sum),
            ValueRange{grad}, ValueRange{grad},
            b.getDictionaryAttr(
                {b.getNamedAttr("axis", b.getStringAttr("embedding"))}));
        sum->setDiscardableAttrs(normOp->getDiscardableAttrDictionary());
        if (stage == stages - 1) {
          // The first stage counts the shared gradient in the norm.
          normOp.getInsMutable().erase(i);
          if (auto sharded = params.getAs<DenseI64ArrayAttr>("sharded")) {
            SmallVector<int64_t> flags(sharded.asArrayRef());
            flags.erase(flags.begin() + i);
            normParams.set("sharded", b.getDenseI64ArrayAttr(flags));
          }
        }
        break;
      }
    }
    normOp.setParamsAttr(normParams.getDictionary(b.getContext()));
    return success();
  }

  /// Buffers both a forward and a backward kernel touch, other than the
  /// ones that persist anyway.
  void markStash() {
    DenseMap<Operation *, unsigned> phases; // bit per phase
    getOperation().walk([&](KernelOp k) {
      for (Value operand : k->getOperands())
        if (Operation *root = llm::rootBuffer(operand).getDefiningOp())
          phases[root] |= 1u << unsigned(phaseOf(k));
    });
    unsigned both =
        (1u << unsigned(Phase::Forward)) | (1u << unsigned(Phase::Backward));
    getOperation().walk([&](BufferOp buffer) {
      if ((phases.lookup(buffer) & both) == both && !persists(buffer)) {
        LLVM_DEBUG(llvm::dbgs()
                   << "[" DEBUG_TYPE "] stash '" << buffer.getName() << "'\n");
        buffer.setStashed(true);
      }
    });
  }
};

} // namespace
