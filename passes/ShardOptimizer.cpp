//===- ShardOptimizer.cpp - ZeRO stages 1-3 on a data-parallel plan -------===//
//
// Rajbhandari et al. 2020 on a plan whose ranks each hold a 1/dp slice of
// every tensor, flattened in row-major (Hugging Face) order:
//  - stages 1 and 2: AdamW's moments are slices, and each gradient is
//    reduce-scattered (mean) into its slice, non-blocking from the moment
//    the backward pass finishes it until the next one is finished (2Ψ per
//    step, as plain data parallelism); each rank updates
//    its slice of every parameter, then the slices are all-gathered in
//    place. A full gradient lives only from its last backward kernel to its
//    reduce-scatter, so llmc's stage 1 already has stage 2's memory;
//  - stage 3: parameters too: each (layer, role) group of kernels gathers
//    the parameters it reads into a temporary just before its first kernel;
//    the temporary dies after the group's last kernel (3Ψ per step).
// The gradient norm sums the slices' squares over the dp ranks. Under tensor
// parallelism, the slices are of each rank's tp shard, and checkpoints
// gather both levels back into the full Hugging Face tensors.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "dialects/llm/IR/LLMDialect.h"
#include "mlir/IR/Builders.h"

#include <optional>

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-shard-optimizer"

namespace mlir::llm {
#define GEN_PASS_DEF_SHARDOPTIMIZER
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;
using namespace mlir::plan;

static int64_t elements(Value v) {
  return cast<MemRefType>(v.getType()).getNumElements();
}
static BufferOp bufferOf(Value v) {
  return mlir::llm::rootBuffer(v).getDefiningOp<BufferOp>();
}

namespace {

constexpr llvm::StringLiteral kAxis = "dp";

struct ShardOptimizerPass
    : mlir::llm::impl::ShardOptimizerBase<ShardOptimizerPass> {
  using Base::Base;

  void runOnOperation() override {
    if (stage == 0 || dp <= 1)
      return;
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    if (kernels.empty())
      return; // a tensor-level function next to the plan program
    auto norm = llvm::find_if(kernels, [](KernelOp k) {
      return k.getCallee() == kernel_name(KernelId::grad_norm);
    });
    if (norm == kernels.end()) {
      getOperation().emitError("llmc-shard-optimizer: the program has no "
                               "grad_norm kernel (run it on a train step)");
      return signalPassFailure();
    }
    OpBuilder builder(&getContext());
    b = &builder;
    SmallVector<KernelOp> updates;
    for (KernelOp k : kernels)
      if (k.getCallee() == kernel_name(KernelId::adamw))
        updates.push_back(k);
    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] ZeRO-" << stage << " over " << dp
               << " ranks: " << updates.size() << " AdamW updates sliced\n");
    if (failed(checkBuffers(*norm, updates)))
      return signalPassFailure();
    for (KernelOp update : updates)
      if (failed(checkDivisible(update)))
        return signalPassFailure();

    shardGradients(kernels, norm - kernels.begin());
    for (KernelOp update : updates)
      shardUpdate(update);
    if (stage >= 3)
      for (KernelOp update : updates)
        shardParameter(update, kernels);
  }

private:
  NamedAttribute named(StringRef name, Attribute value) {
    return b->getNamedAttr(name, value);
  }
  DictionaryAttr axisParams(ArrayRef<NamedAttribute> more = {}) {
    SmallVector<NamedAttribute> attrs = {
        named("axis", b->getStringAttr(kAxis))};
    llvm::append_range(attrs, more);
    return b->getDictionaryAttr(attrs);
  }

  /// What the pass slices must be plan.buffers (or views of them): the
  /// gradients the norm reads, and each AdamW's parameter and moments; and
  /// each AdamW's gradient must be one the norm reads.
  LogicalResult checkBuffers(KernelOp norm, ArrayRef<KernelOp> updates) {
    DenseSet<Value> normed;
    for (auto [i, grad] : llvm::enumerate(norm.getIns())) {
      if (!bufferOf(grad))
        return norm.emitOpError("llmc-shard-optimizer: the gradient norm's "
                                "input #")
               << i << " must be a plan.buffer";
      normed.insert(mlir::llm::rootBuffer(grad));
    }
    for (KernelOp update : updates) {
      if (update.getIns().empty() || update.getOuts().size() != 3)
        return update.emitOpError(
            "llmc-shard-optimizer: AdamW must read the gradient and write "
            "the parameter and its two moments");
      static constexpr llvm::StringLiteral kOuts[] = {
          "parameter", "first moment", "second moment"};
      for (auto [value, what] : llvm::zip(update.getOuts(), kOuts))
        if (!bufferOf(value))
          return update.emitOpError("llmc-shard-optimizer: AdamW's ")
                 << what << " must be a plan.buffer";
      if (!normed.contains(mlir::llm::rootBuffer(update.getIns()[0])))
        return update.emitOpError("llmc-shard-optimizer: AdamW's gradient "
                                  "must be an input of the grad_norm kernel");
    }
    return success();
  }

  LogicalResult checkDivisible(KernelOp update) {
    Value param = update.getOuts()[0];
    if (elements(param) % dp == 0)
      return success();
    return update.emitError("llmc-shard-optimizer: ZeRO splits every "
                            "parameter into dp=")
           << static_cast<int64_t>(dp) << " equal slices, but '"
           << bufferOf(param).getName() << "' has " << elements(param)
           << " elements";
  }

  /// A flat buffer of this rank's 1/dp of `full`, named and categorised like
  /// it, that records the full shape for checkpoints.
  Value sliceBuffer(BufferOp full, BufferCategory category, StringRef name) {
    b->setInsertionPoint(full);
    auto type = MemRefType::get({full.getType().getNumElements() / dp},
                                full.getType().getElementType());
    auto slice = BufferOp::create(*b, full.getLoc(), type, name, category,
                                  IntegerAttr());
    // The tp layout of what is sliced stays; the slice adds its own level.
    if (Attribute shard = full->getAttr(mlir::llm::kPlanShardAttrName))
      slice->setAttr(mlir::llm::kPlanShardAttrName, shard);
    slice->setAttr(mlir::llm::kPlanSliceAttrName,
                   b->getDictionaryAttr(
                       {named("axis", b->getStringAttr(kAxis)),
                        named("dim", b->getI64IntegerAttr(0)),
                        named("parts", b->getI64IntegerAttr(dp)),
                        named("blocks", b->getI64IntegerAttr(1)),
                        named("full_shape", b->getDenseI64ArrayAttr(
                                                full.getType().getShape()))}));
    return slice;
  }

  /// `value` as a rank-1 memref (a view, unless it already is one), at the
  /// builder's insertion point.
  Value flat(Value value) {
    auto type = cast<MemRefType>(value.getType());
    if (type.getRank() == 1)
      return value;
    return ViewOp::create(
        *b, value.getLoc(),
        MemRefType::get({type.getNumElements()}, type.getElementType()), value);
  }

  /// Each gradient is reduce-scattered (mean over dp) into its slice: the
  /// non-blocking reduce-scatter starts right after the kernel that finishes
  /// the gradient and is waited for when the next one starts, so it overlaps
  /// the backward compute in between while at most two whole gradients are
  /// alive (ZeRO-2's memory). The norm and AdamW read the slices.
  void shardGradients(ArrayRef<KernelOp> kernels, size_t norm) {
    DenseMap<Value, Value> slices; // gradient root -> slice
    // The wait also reads the whole gradient, which keeps its bytes alive
    // (memory planning) until the reduce-scatter has read them.
    auto wait = [&](Value whole, Value slice, int64_t id,
                    Operation *at) -> Operation * {
      auto op = KernelOp::create(
          *b, at->getLoc(), kernel_name(KernelId::reduce_scatter_wait),
          ValueRange{whole}, ValueRange{slice},
          axisParams({named("bucket", b->getI64IntegerAttr(id)),
                      named("mean", b->getBoolAttr(true))}));
      op->setDiscardableAttrs(at->getDiscardableAttrDictionary());
      return op;
    };
    std::optional<std::tuple<Value, Value, int64_t>> inFlight;
    int64_t id = 0;
    // Gradients finished by one kernel (a norm's weight and bias) go after
    // it in readiness order: each after what the previous one inserted.
    DenseMap<Operation *, Operation *> insertedAfter;
    for (auto [last, grad] : mlir::llm::gradientsByReadiness(kernels, norm)) {
      BufferOp root = bufferOf(grad);
      Value slice = sliceBuffer(root, BufferCategory::grad, "");
      // Gradients summed over microbatches are final only after the last
      // one: their reduce-scatters all go just before the norm.
      Operation *finisher = overlap ? kernels[last] : kernels[norm];
      Operation *&anchor = insertedAfter[finisher];
      if (overlap)
        b->setInsertionPointAfter(anchor ? anchor : finisher);
      else
        b->setInsertionPoint(kernels[norm]);
      Value whole = flat(root);
      auto start = KernelOp::create(
          *b, grad.getLoc(), kernel_name(KernelId::reduce_scatter_start),
          ValueRange{whole}, ValueRange{slice},
          axisParams({named("bucket", b->getI64IntegerAttr(id))}));
      start->setDiscardableAttrs(finisher->getDiscardableAttrDictionary());
      anchor = start;
      if (inFlight) {
        auto [prevWhole, prevSlice, prevId] = *inFlight;
        anchor = wait(prevWhole, prevSlice, prevId, start);
      }
      inFlight = {whole, slice, id++};
      slices[root] = slice;
    }
    if (inFlight) {
      b->setInsertionPoint(kernels[norm]);
      auto [lastWhole, lastSlice, lastId] = *inFlight;
      wait(lastWhole, lastSlice, lastId, kernels[norm]);
    }
    auto sliceOf = [&](Value grad) {
      return slices.lookup(mlir::llm::rootBuffer(grad));
    };
    // The norm reads the slices and sums its squares over the dp ranks too
    // (after any tp sum of split gradients).
    KernelOp normKernel = kernels[norm];
    for (OpOperand &in : normKernel.getInsMutable())
      in.set(sliceOf(in.get()));
    SmallVector<NamedAttribute> params(normKernel.getParams().getValue());
    params.push_back(named("zero_axis", b->getStringAttr(kAxis)));
    normKernel.setParamsAttr(b->getDictionaryAttr(params));
    for (KernelOp k : kernels)
      if (k.getCallee() == kernel_name(KernelId::adamw))
        k.getInsMutable()[0].set(sliceOf(k.getIns()[0]));
  }

  /// Stages 1-3: the moments are slices, AdamW updates this rank's slice of
  /// the parameter, and (unless the parameter is a slice itself) the slices
  /// are all-gathered in place after the update.
  void shardUpdate(KernelOp update) {
    for (unsigned i : {1u, 2u}) {
      BufferOp moment = bufferOf(update.getOuts()[i]);
      Value slice = sliceBuffer(moment, moment.getCategory(), moment.getName());
      moment.getBuffer().replaceAllUsesWith(slice);
      moment.erase();
    }
    SmallVector<NamedAttribute> params(update.getParams().getValue());
    params.push_back(named("zero_axis", b->getStringAttr(kAxis)));
    update.setParamsAttr(b->getDictionaryAttr(params));
    if (stage >= 3)
      return;
    b->setInsertionPointAfter(update);
    Value param = flat(bufferOf(update.getOuts()[0]));
    KernelOp::create(*b, update.getLoc(),
                     kernel_name(KernelId::all_gather_inplace), ValueRange{},
                     ValueRange{param}, axisParams())
        ->setDiscardableAttrs(update->getDiscardableAttrDictionary());
  }

  /// Stage 3: the parameter itself is a slice. Every run of kernels of one
  /// (layer, role) that reads it first all-gathers it into a temporary.
  void shardParameter(KernelOp update, ArrayRef<KernelOp> kernels) {
    BufferOp full = bufferOf(update.getOuts()[0]);
    Value slice = sliceBuffer(full, BufferCategory::param, full.getName());
    update.getOutsMutable()[0].set(slice);

    auto keyOf = [](KernelOp k) {
      return std::make_pair(k->getAttr(mlir::llm::LLMDialect::kLayerAttrName),
                            k->getAttr(mlir::llm::LLMDialect::kRoleAttrName));
    };
    Value gathered;
    std::pair<Attribute, Attribute> gatheredFor;
    // A run ends when a kernel of another (layer, role) comes in between, so
    // a tied embedding is gathered again for the LM head rather than kept
    // through every layer.
    bool runEnded = true;
    for (KernelOp k : kernels) {
      if (k == update)
        continue;
      if (keyOf(k) != gatheredFor)
        runEnded = true;
      for (OpOperand &operand : k->getOpOperands()) {
        if (bufferOf(operand.get()) != full)
          continue;
        if (!gathered || runEnded) {
          b->setInsertionPoint(k);
          auto flatType = MemRefType::get({full.getType().getNumElements()},
                                          full.getType().getElementType());
          Value whole =
              BufferOp::create(*b, k.getLoc(), flatType, "",
                               BufferCategory::temporary, IntegerAttr());
          KernelOp::create(*b, k.getLoc(), kernel_name(KernelId::all_gather),
                           ValueRange{slice}, ValueRange{whole},
                           axisParams({named("dim", b->getI64IntegerAttr(0))}))
              ->setDiscardableAttrs(k->getDiscardableAttrDictionary());
          gathered = whole;
          gatheredFor = keyOf(k);
          runEnded = false;
        }
        // The kernel's view of the parameter, now of the gathered copy.
        b->setInsertionPoint(k);
        operand.set(
            ViewOp::create(*b, k.getLoc(), operand.get().getType(), gathered));
      }
    }
    // The full buffer and its views are no longer read.
    SmallVector<Operation *> dead;
    for (Operation *user : full->getUsers())
      dead.push_back(user);
    for (Operation *view : dead)
      if (view->use_empty())
        view->erase();
    if (full->use_empty())
      full.erase();
  }

  OpBuilder *b = nullptr; // the builder of the current runOnOperation
};

} // namespace
