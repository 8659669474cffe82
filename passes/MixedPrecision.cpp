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
// An activation that only GEMMs read, twice or more (a layer's input: its
// forward GEMM, then its weight-gradient GEMM), is rounded once where it is
// written (`round_bf16` into a bf16 buffer) and the GEMMs read that: the
// fp32 buffer dies at once, and the backward pass keeps half the bytes, as
// autocast saves bf16 tensors for the backward pass.
//
// A weight its GEMMs read twice or more (forward, then input gradient) is
// rounded once per step before the first of them, into a bf16 copy they
// all read until AdamW writes the fp32 master again, as autocast caches a
// weight's cast for the step.
//
// Under ZeRO-3 a weight is gathered from the ranks' slices before the GEMMs
// that read it (llmc-shard-optimizer). When only bf16 GEMMs read the
// gathered copy, each rank rounds its slice and the ranks gather bf16: half
// the bytes on the wire and in the copy, and the same bf16 operands the
// GEMMs would have rounded (as DeepSpeed's ZeRO-3 gathers its bf16
// parameters).
//
// -debug-only=llmc-mixed-precision counts the kernels it marks, the
// activations it keeps rounded, the weights it rounds once and the gathers
// it makes bf16.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
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

bool hasBf16Math(KernelOp k) {
  auto math = k.getParams().getAs<StringAttr>("math");
  return math && math.getValue() == "bf16";
}

/// The kernels reading or writing `value` or a view of it, as operands.
void collectUses(Value value, SmallVectorImpl<OpOperand *> &uses) {
  for (OpOperand &use : value.getUses()) {
    if (auto view = dyn_cast<ViewOp>(use.getOwner()))
      collectUses(view.getResult(), uses);
    else
      uses.push_back(&use);
  }
}

/// Whether `use` is the lhs or rhs of a GEMM with bf16 math.
bool isBf16GemmOperand(OpOperand *use) {
  auto k = dyn_cast<KernelOp>(use->getOwner());
  return k && llmc::kernels::is_fp32_gemm(k.getCallee().str()) &&
         hasBf16Math(k) && use->getOperandNumber() < 2;
}

/// A `round_bf16` of `from` into `to` at `b`'s insertion point, in the
/// layer and role of `like`.
void roundInto(Value from, Value to, KernelOp like, OpBuilder &b) {
  auto round = KernelOp::create(
      b, like.getLoc(),
      llmc::kernels::kernel_name(llmc::kernels::KernelId::round_bf16),
      ValueRange{from}, ValueRange{to}, b.getDictionaryAttr({}));
  round->setDiscardableAttrs(like->getDiscardableAttrDictionary());
}

/// Makes `reads` read `bf16`, a bf16 buffer of their elements, through a
/// view where a read has another shape; the views they read before go
/// when nothing else reads them.
void readFrom(Value bf16, ArrayRef<OpOperand *> reads, OpBuilder &b) {
  auto shape = [](Value v) { return cast<MemRefType>(v.getType()).getShape(); };
  for (OpOperand *read : reads) {
    Value operand = bf16;
    if (shape(read->get()) != shape(bf16)) {
      b.setInsertionPoint(read->getOwner());
      operand = ViewOp::create(
          b, read->getOwner()->getLoc(),
          MemRefType::get(shape(read->get()), b.getBF16Type()), bf16);
    }
    Value old = read->get();
    read->set(operand);
    if (auto view = old.getDefiningOp<ViewOp>(); view && view->use_empty())
      view.erase();
  }
}

/// Makes `reads` (uses of `buffer` or of views of it) read a bf16 copy of
/// it instead, which a `round_bf16` kernel writes at `b`'s insertion point,
/// in the layer and role of `like`.
void readRounded(BufferOp buffer, StringRef name, KernelOp like,
                 ArrayRef<OpOperand *> reads, OpBuilder &b) {
  OpBuilder::InsertPoint roundAt = b.saveInsertionPoint();
  b.setInsertionPointAfter(buffer);
  auto rounded = BufferOp::create(
      b, buffer.getLoc(),
      MemRefType::get(buffer.getType().getShape(), b.getBF16Type()), name,
      BufferCategory::activation, IntegerAttr());
  b.restoreInsertionPoint(roundAt);
  roundInto(buffer.getBuffer(), rounded.getBuffer(), like, b);
  readFrom(rounded.getBuffer(), reads, b);
}

/// Keeps `buffer` rounded if only bf16 GEMMs read it (as lhs or rhs), two
/// or more times, and one kernel writes it; returns whether it did. (A
/// non-blocking collective's start and wait both write their result: two
/// writers, left alone, so no rounding reads a result still in flight.)
bool keepRounded(BufferOp buffer, OpBuilder &b) {
  if (buffer.getCategory() != BufferCategory::activation ||
      buffer.getLiveOut() || buffer.getStashed() ||
      !buffer.getType().getElementType().isF32())
    return false;
  SmallVector<OpOperand *> uses;
  collectUses(buffer.getBuffer(), uses);
  KernelOp writer;
  SmallVector<OpOperand *> reads;
  for (OpOperand *use : uses) {
    auto k = dyn_cast<KernelOp>(use->getOwner());
    if (!k)
      return false;
    if (use->getOperandNumber() >= k.getIns().size()) {
      if (writer && writer != k)
        return false;
      writer = k;
      continue;
    }
    if (!isBf16GemmOperand(use))
      return false;
    reads.push_back(use);
  }
  if (!writer || reads.size() < 2 || llvm::any_of(reads, [&](OpOperand *r) {
        return r->getOwner() == writer.getOperation() ||
               !writer->isBeforeInBlock(r->getOwner());
      }))
    return false;
  b.setInsertionPointAfter(writer);
  readRounded(buffer, buffer.getName(), writer, reads, b);
  return true;
}

/// Gives the bf16 GEMMs reading parameter `buffer` one bf16 copy of it,
/// rounded before the first of them, if two or more read it and no kernel
/// writes it between the first and the last (AdamW writes it after them);
/// returns whether it did. Other kernels (an embedding's lookup) still
/// read the fp32 master.
bool copyWeight(BufferOp buffer, OpBuilder &b) {
  if (buffer.getCategory() != BufferCategory::param ||
      !buffer.getType().getElementType().isF32())
    return false;
  SmallVector<OpOperand *> uses;
  collectUses(buffer.getBuffer(), uses);
  SmallVector<OpOperand *> reads;
  SmallVector<Operation *> writers;
  for (OpOperand *use : uses) {
    auto k = dyn_cast<KernelOp>(use->getOwner());
    if (!k || k->getBlock() != buffer->getBlock())
      return false;
    if (use->getOperandNumber() >= k.getIns().size())
      writers.push_back(k);
    else if (isBf16GemmOperand(use))
      reads.push_back(use);
  }
  if (reads.size() < 2)
    return false;
  auto before = [](OpOperand *x, OpOperand *y) {
    return x->getOwner()->isBeforeInBlock(y->getOwner());
  };
  Operation *first = (*llvm::min_element(reads, before))->getOwner();
  Operation *last = (*llvm::max_element(reads, before))->getOwner();
  if (llvm::any_of(writers, [&](Operation *w) {
        return !w->isBeforeInBlock(first) && !last->isBeforeInBlock(w);
      }))
    return false;
  b.setInsertionPoint(first);
  readRounded(buffer, (buffer.getName() + ".bf16").str(), cast<KernelOp>(first),
              reads, b);
  return true;
}

/// Makes a ZeRO-3 gather of a parameter slice gather bf16 when only bf16
/// GEMMs read what it gathers: a `round_bf16` of the slice before it, and a
/// bf16 copy the GEMMs read. Returns whether it did.
bool gatherRounded(KernelOp gather, OpBuilder &b) {
  if (gather.getCallee() !=
          llmc::kernels::kernel_name(llmc::kernels::KernelId::all_gather) ||
      !cast<MemRefType>(gather.getIns()[0].getType()).getElementType().isF32())
    return false;
  auto slice =
      mlir::llm::rootBuffer(gather.getIns()[0]).getDefiningOp<BufferOp>();
  auto whole = gather.getOuts()[0].getDefiningOp<BufferOp>();
  if (!slice || slice.getCategory() != BufferCategory::param || !whole ||
      whole.getCategory() != BufferCategory::temporary)
    return false;
  SmallVector<OpOperand *> uses, reads;
  collectUses(whole.getBuffer(), uses);
  for (OpOperand *use : uses) {
    if (use->getOwner() == gather.getOperation())
      continue;
    if (!isBf16GemmOperand(use))
      return false;
    reads.push_back(use);
  }
  if (reads.empty())
    return false;
  auto bf16Like = [&](Value v) {
    return MemRefType::get(cast<MemRefType>(v.getType()).getShape(),
                           b.getBF16Type());
  };
  b.setInsertionPoint(gather);
  auto slice16 =
      BufferOp::create(b, gather.getLoc(), bf16Like(gather.getIns()[0]),
                       (slice.getName() + ".bf16").str(),
                       BufferCategory::temporary, IntegerAttr());
  roundInto(gather.getIns()[0], slice16.getBuffer(), gather, b);
  auto whole16 = BufferOp::create(b, gather.getLoc(),
                                  bf16Like(whole.getBuffer()), whole.getName(),
                                  BufferCategory::temporary, IntegerAttr());
  gather.getInsMutable()[0].set(slice16.getBuffer());
  gather.getOutsMutable()[0].set(whole16.getBuffer());
  readFrom(whole16.getBuffer(), reads, b);
  if (whole->use_empty())
    whole.erase();
  return true;
}

struct MixedPrecisionPass
    : mlir::llm::impl::MixedPrecisionBase<MixedPrecisionPass> {
  using MixedPrecisionBase::MixedPrecisionBase;
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
    SmallVector<BufferOp> buffers;
    getOperation().walk([&](BufferOp buffer) { buffers.push_back(buffer); });
    OpBuilder builder(&getContext());
    int64_t rounded = llvm::count_if(
        buffers, [&](BufferOp buffer) { return keepRounded(buffer, builder); });
    int64_t copies = weightCopies
                         ? llvm::count_if(buffers,
                                          [&](BufferOp buffer) {
                                            return copyWeight(buffer, builder);
                                          })
                         : 0;
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    int64_t gathers = llvm::count_if(
        kernels, [&](KernelOp k) { return gatherRounded(k, builder); });
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] " << marked
                            << " kernel(s) take bf16 operands, " << rounded
                            << " activation(s) kept rounded, " << copies
                            << " weight(s) rounded once, " << gathers
                            << " gather(s) in bf16\n");
  }
};

} // namespace
