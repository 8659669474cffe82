//===- OverlapRegather.cpp - SP re-gathers overlap their GEMM -------------===//
//
// Sequence parallelism keeps a column-parallel GEMM's [s/t, b, h] input and
// all-gathers it again for the weight gradient. Megatron-LM starts that
// all-gather before the input-gradient GEMM, which does not need it, and
// waits for it just before the weight-gradient GEMM: the collective runs
// while the GEMM computes. This pass does the same on the plan: each
// backward all_gather of a forward activation that directly follows a GEMM
// becomes an all_gather_start before that GEMM and an all_gather_wait in
// its place.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-overlap-regather"

namespace mlir::llm {
#define GEN_PASS_DEF_OVERLAPREGATHER
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;
using namespace mlir::plan;
using mlir::llm::LLMDialect;
using mlir::llm::roleOf;
using mlir::llm::rootBuffer;

namespace {

// Above the buckets data parallelism and ZeRO number from 0, so that their
// requests and the re-gathers' never share a bucket.
constexpr int64_t kFirstBucket = int64_t(1) << 32;

/// Whether `k` reads or writes the bytes of any of `buffers`.
bool touches(KernelOp k, ArrayRef<Value> buffers) {
  for (Value operand : k->getOperands())
    if (llvm::is_contained(buffers, rootBuffer(operand)))
      return true;
  return false;
}

/// Moves the ops defining `value` (a buffer, or views of one) before `at`
/// where they come after it, so that a kernel placed at `at` can use it.
void defineBefore(Value value, Operation *at) {
  Operation *def = value.getDefiningOp();
  if (!def || def->getBlock() != at->getBlock() || def->isBeforeInBlock(at))
    return;
  for (Value operand : def->getOperands())
    defineBefore(operand, at);
  def->moveBefore(at);
}

struct OverlapRegatherPass
    : mlir::llm::impl::OverlapRegatherBase<OverlapRegatherPass> {
  void runOnOperation() override {
    SmallVector<KernelOp> kernels;
    getOperation().walk([&](KernelOp k) { kernels.push_back(k); });
    DenseSet<Value> forwardWritten;
    OpBuilder b(&getContext());
    int64_t bucket = kFirstBucket;
    KernelOp previous;
    for (KernelOp k : kernels) {
      KernelOp gemm = previous;
      previous = k;
      StringRef role = roleOf(k);
      if (role == "forward")
        for (Value out : k.getOuts())
          forwardWritten.insert(rootBuffer(out));
      // The GEMM of the same layer: pipeline stages are cut by layer, and
      // the start and the wait must run in one program.
      if (k.getCallee() != kernel_name(KernelId::all_gather) ||
          (role != "backward" && role != "recompute") ||
          !forwardWritten.contains(rootBuffer(k.getIns()[0])) || !gemm ||
          !llmc::kernels::is_fp32_gemm(gemm.getCallee().str()) ||
          gemm->getAttr(LLMDialect::kLayerAttrName) !=
              k->getAttr(LLMDialect::kLayerAttrName) ||
          touches(gemm,
                  {rootBuffer(k.getIns()[0]), rootBuffer(k.getOuts()[0])}))
        continue;
      LLVM_DEBUG(llvm::dbgs()
                 << "[" DEBUG_TYPE "] all_gather at " << k.getLoc()
                 << " started before " << gemm.getCallee() << "\n");
      for (Value operand : k->getOperands())
        defineBefore(operand, gemm);
      SmallVector<NamedAttribute> params(k.getParams().getValue());
      params.push_back(b.getNamedAttr("bucket", b.getI64IntegerAttr(bucket++)));
      DictionaryAttr dict = b.getDictionaryAttr(params);
      b.setInsertionPoint(gemm);
      auto start = KernelOp::create(b, k.getLoc(),
                                    kernel_name(KernelId::all_gather_start),
                                    k.getIns(), k.getOuts(), dict);
      start->setDiscardableAttrs(k->getDiscardableAttrDictionary());
      b.setInsertionPoint(k);
      auto wait = KernelOp::create(b, k.getLoc(),
                                   kernel_name(KernelId::all_gather_wait),
                                   k.getIns(), k.getOuts(), dict);
      wait->setDiscardableAttrs(k->getDiscardableAttrDictionary());
      previous = wait;
      k.erase();
    }
  }
};

} // namespace
