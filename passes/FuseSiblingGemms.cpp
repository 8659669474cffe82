//===- FuseSiblingGemms.cpp - One GEMM for siblings that share an input ---===//
//
// Horizontal fusion on an inference plan (see Passes.td): the GEMMs that
// multiply one input by weights stored (N, K) become one GEMM by their
// weights' rows one after another, then a split of its result. The merged
// weight is a parameter whose `plan.parts` tell the runtime which
// checkpoint tensor each row range holds.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
#include "passes/Passes.h"
#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-fuse-sibling-gemms"

namespace mlir::llm {
#define GEN_PASS_DEF_FUSESIBLINGGEMMS
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::plan;
using llmc::kernels::kernel_name;
using llmc::kernels::KernelId;

namespace {

/// A weight of a candidate GEMM: a 2-D fp32 parameter.
BufferOp weightOf(KernelOp k) {
  auto w = k.getIns()[1].getDefiningOp<BufferOp>();
  if (!w || w.getCategory() != BufferCategory::param ||
      w.getType().getRank() != 2 || !w.getType().getElementType().isF32())
    return {};
  return w;
}

/// A GEMM that may join siblings: y = x · wᵀ with w a parameter stored
/// (N, K), no bias, x of any rank (its last dimension K), and its result
/// read by no SwiGLU.
bool isCandidate(KernelOp k) {
  if (k.getCallee() != kernel_name(KernelId::matmul) ||
      k.getIns().size() != 2 || !weightOf(k) ||
      cast<MemRefType>(k.getIns()[0].getType()).getRank() < 2)
    return false;
  DictionaryAttr params = k.getParams();
  auto lhsT = params.getAs<BoolAttr>("transpose_lhs");
  auto rhsT = params.getAs<BoolAttr>("transpose_rhs");
  if (!lhsT || lhsT.getValue() || !rhsT || !rhsT.getValue() ||
      params.get("math"))
    return false;
  auto out = mlir::llm::rootBuffer(k.getOuts()[0]).getDefiningOp<BufferOp>();
  if (!out)
    return false;
  for (Operation *user : out->getUsers()) {
    auto reader = dyn_cast<KernelOp>(user);
    if (!reader) // a view: look at its readers too
      for (Operation *viewUser : user->getUsers())
        if (auto r = dyn_cast<KernelOp>(viewUser);
            r && r.getCallee() == kernel_name(KernelId::swiglu_forward))
          return false;
    if (reader && reader.getCallee() == kernel_name(KernelId::swiglu_forward))
      return false;
  }
  return true;
}

/// "a.{q,k,v}_proj.weight": the names' common prefix and suffix around
/// their differences.
std::string mergedName(ArrayRef<StringRef> names) {
  StringRef first = names.front();
  size_t prefix = first.size(), suffix = first.size();
  for (StringRef n : names.drop_front()) {
    size_t p = 0;
    while (p < prefix && p < n.size() && n[p] == first[p])
      ++p;
    prefix = p;
    size_t s = 0;
    while (s < suffix && s < n.size() &&
           n[n.size() - 1 - s] == first[first.size() - 1 - s])
      ++s;
    suffix = s;
  }
  std::string middle;
  for (StringRef n : names) {
    size_t end =
        std::max(prefix, n.size() - std::min(suffix, n.size() - prefix));
    middle += (middle.empty() ? "" : ",") + n.slice(prefix, end).str();
  }
  return first.take_front(prefix).str() + "{" + middle + "}" +
         first.take_back(std::min(suffix, first.size() - prefix)).str();
}

struct FuseSiblingGemmsPass
    : mlir::llm::impl::FuseSiblingGemmsBase<FuseSiblingGemmsPass> {
  void runOnOperation() override {
    // Sibling GEMMs: candidates reading the same input value, in order.
    llvm::MapVector<Value, SmallVector<KernelOp>> byInput;
    getOperation().walk([&](KernelOp k) {
      if (isCandidate(k))
        byInput[k.getIns()[0]].push_back(k);
    });
    // Each weight tuple some siblings multiply (in the order first seen),
    // with its runs of siblings.
    SmallVector<
        std::pair<SmallVector<Operation *>, SmallVector<SmallVector<KernelOp>>>>
        groups;
    for (auto &[input, siblings] : byInput) {
      if (siblings.size() < 2 || !inputUnchanged(siblings))
        continue;
      SmallVector<Operation *> weights;
      for (KernelOp k : siblings)
        weights.push_back(weightOf(k));
      if (llvm::SmallPtrSet<Operation *, 4>(weights.begin(), weights.end())
              .size() != weights.size())
        continue;
      auto group = llvm::find_if(
          groups, [&](const auto &g) { return g.first == weights; });
      if (group == groups.end()) {
        groups.push_back({weights, {}});
        group = std::prev(groups.end());
      }
      group->second.push_back(siblings);
    }
    OpBuilder b(&getContext());
    int merged = 0;
    // Merged where every use of the weights is one of their siblings' GEMMs
    // (no program multiplies them apart, no other kernel reads them).
    for (auto &[weights, runs] : groups) {
      size_t gemms = 0;
      for (auto &run : runs)
        gemms += run.size();
      size_t uses = 0;
      for (Operation *w : weights)
        uses += size_t(std::distance(w->getUses().begin(), w->getUses().end()));
      if (uses != gemms)
        continue;
      merge(weights, runs, b);
      ++merged;
    }
    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] " << merged << " weight group(s) merged\n");
  }

  /// No kernel between the first sibling and the last writes their input.
  static bool inputUnchanged(ArrayRef<KernelOp> siblings) {
    KernelOp first = siblings.front(), last = siblings.back();
    Value root = mlir::llm::rootBuffer(first.getIns()[0]);
    for (Operation *op = first->getNextNode(); op && op != last.getOperation();
         op = op->getNextNode())
      if (auto k = dyn_cast<KernelOp>(op))
        for (Value out : k.getOuts())
          if (mlir::llm::rootBuffer(out) == root)
            return false;
    return true;
  }

  static void merge(ArrayRef<Operation *> weights,
                    ArrayRef<SmallVector<KernelOp>> runs, OpBuilder &b) {
    // The merged weight, where the earliest was declared: their rows one
    // after another, each tensor's name, rows and shard in plan.parts.
    auto first = cast<BufferOp>(weights.front());
    int64_t K = first.getType().getDimSize(1), rows = 0;
    SmallVector<Attribute> parts;
    SmallVector<StringRef> names;
    for (Operation *op : weights) {
      auto w = cast<BufferOp>(op);
      SmallVector<NamedAttribute> part = {
          b.getNamedAttr("name", w.getNameAttr()),
          b.getNamedAttr("rows",
                         b.getI64IntegerAttr(w.getType().getDimSize(0)))};
      if (Attribute shard = w->getAttr(mlir::llm::kPlanShardAttrName))
        part.push_back(b.getNamedAttr("shard", shard));
      parts.push_back(b.getDictionaryAttr(part));
      names.push_back(w.getName());
      rows += w.getType().getDimSize(0);
    }
    Operation *earliest = weights.front();
    for (Operation *w : weights)
      if (w->isBeforeInBlock(earliest))
        earliest = w;
    b.setInsertionPoint(earliest);
    auto whole = BufferOp::create(
        b, first.getLoc(), MemRefType::get({rows, K}, b.getF32Type()),
        mergedName(names), BufferCategory::param, IntegerAttr());
    whole->setAttr(mlir::llm::kPlanPartsAttrName, b.getArrayAttr(parts));
    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] " << whole.getName() << ": " << runs.size()
               << " GEMM run(s) of " << weights.size() << "\n");
    // Each run: one GEMM into a result of all their columns, at the first
    // sibling, then a split into the siblings' results.
    for (ArrayRef<KernelOp> run : runs) {
      KernelOp head = run.front();
      SmallVector<int64_t> shape(
          cast<MemRefType>(head.getIns()[0].getType()).getShape());
      shape.back() = rows;
      b.setInsertionPoint(head);
      auto result = BufferOp::create(b, head.getLoc(),
                                     MemRefType::get(shape, b.getF32Type()), "",
                                     BufferCategory::activation, IntegerAttr());
      KernelOp::create(b, head.getLoc(), head.getCallee(),
                       ValueRange{head.getIns()[0], whole.getBuffer()},
                       ValueRange{result.getBuffer()}, head.getParams())
          ->setDiscardableAttrs(head->getDiscardableAttrDictionary());
      SmallVector<Value> outs;
      for (KernelOp k : run) {
        outs.push_back(k.getOuts()[0]);
        // The split writes each result here: declare it before (a buffer,
        // then the views of it, in order).
        SmallVector<Operation *> chain;
        for (Value v = k.getOuts()[0]; Operation *def = v.getDefiningOp();) {
          chain.push_back(def);
          auto view = dyn_cast<ViewOp>(def);
          if (!view)
            break;
          v = view.getSource();
        }
        for (Operation *def : llvm::reverse(chain))
          if (!def->isBeforeInBlock(head))
            def->moveBefore(head);
      }
      KernelOp::create(
          b, head.getLoc(), kernel_name(KernelId::split),
          ValueRange{result.getBuffer()}, outs,
          b.getDictionaryAttr(b.getNamedAttr(
              "axis", b.getI64IntegerAttr(int64_t(shape.size()) - 1))))
          ->setDiscardableAttrs(head->getDiscardableAttrDictionary());
      for (KernelOp k : run)
        k.erase();
    }
    for (Operation *w : weights)
      w->erase();
  }
};

} // namespace
