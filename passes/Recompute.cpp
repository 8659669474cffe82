//===- Recompute.cpp - Activation recomputation in the backward pass ------===//
//
// Korthikanti et al. 2022 on a differentiated function: instead of keeping a
// layer's forward values until its backward pass reads them, the forward ops
// that produce them run again just before the layer's first backward op, and
// the backward pass reads the copies. The originals then die in the forward
// pass; only the layer's inputs (the residual stream, parameters) are kept.
//  - full: every forward op of the layer that the backward pass needs;
//  - selective: only the attention core (llm.attention), whose output and
//    softmax statistics are then not kept. The fused kernel never stores the
//    s x s scores, which is most of what Megatron's selective mode saves.
// In every mode, none included, sequence parallelism's all-gathers run again
// for the backward pass instead of their gathered tensors being kept, and a
// value computed from parameters alone (a
// slice of GPT-2's fused c_attn weight, which tensor parallelism runs as
// three GEMMs) is made again instead of kept: a copy of weights, which would
// otherwise cost the activation memory of the whole layer's weights.
//
//===----------------------------------------------------------------------===//

#include "passes/GradientReadiness.h"
#include "passes/Passes.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <map>

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-recompute"

namespace mlir::llm {
#define GEN_PASS_DEF_RECOMPUTE
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

struct RecomputePass : mlir::llm::impl::RecomputeBase<RecomputePass> {
  using Base::Base;

  void runOnOperation() override {
    std::string name = funcName + "_grad";
    auto grad = getOperation().lookupSymbol<func::FuncOp>(name);
    if (!grad) {
      getOperation().emitError("llmc-recompute: no function @")
          << name << " (run llmc-autodiff first)";
      return signalPassFailure();
    }
    if (grad.isDeclaration()) {
      grad.emitError("llmc-recompute: @")
          << name << " has no body (run llmc-autodiff first)";
      return signalPassFailure();
    }
    Block &body = grad.getBody().front();
    regatherForBackward(body);

    // Forward ops by layer, and each layer's first backward op.
    std::map<int64_t, SmallVector<Operation *>> forward;
    std::map<int64_t, Operation *> firstBackward;
    for (Operation &op : body.without_terminator()) {
      auto layer = op.getAttrOfType<IntegerAttr>(LLMDialect::kLayerAttrName);
      auto role = op.getAttrOfType<StringAttr>(LLMDialect::kRoleAttrName);
      if (!layer || !role)
        continue;
      if (role.getValue() == "forward")
        forward[layer.getInt()].push_back(&op);
      else if (role.getValue() == "backward")
        firstBackward.try_emplace(layer.getInt(), &op);
    }
    // Forward ops whose operands are all parameters (or constants) or such
    // ops' results.
    // (A blocked parameter's view, which tensor parallelism adds before
    // any layer, counts as the parameter.)
    DenseSet<Operation *> fromWeights;
    auto isWeight = [&](Value v) {
      if (auto arg = dyn_cast<BlockArgument>(v))
        return grad.getArgAttr(arg.getArgNumber(),
                               LLMDialect::kParamAttrName) ||
               grad.getArgAttr(arg.getArgNumber(), LLMDialect::kConstAttrName);
      return fromWeights.contains(v.getDefiningOp());
    };
    for (Operation &op : body.without_terminator())
      if (op.getNumOperands() > 0 && llvm::all_of(op.getOperands(), isWeight))
        fromWeights.insert(&op);
    for (auto &[layer, ops] : forward) {
      auto at = firstBackward.find(layer);
      if (at != firstBackward.end())
        recomputeLayer(ops, at->second, fromWeights);
    }
  }

  /// Sequence parallelism's all-gathers, run again for the backward pass:
  /// each forward all-gather whose result a backward op reads is cloned
  /// right before the first such op, which reads the clone, so the pass
  /// keeps the [s/t, b, h] shard instead of the gathered [s, b, h] tensor
  /// (Megatron's choice for the weight gradients of column-parallel GEMMs
  /// and the LM head).
  void regatherForBackward(Block &body) {
    SmallVector<AllGatherOp> gathers;
    for (auto gather : body.getOps<AllGatherOp>())
      if (roleOf(gather) == "forward")
        gathers.push_back(gather);
    for (AllGatherOp gather : gathers) {
      Operation *first = nullptr;
      for (Operation *user : gather->getUsers())
        if (roleOf(user) == "backward" &&
            (!first || user->isBeforeInBlock(first)))
          first = user;
      if (!first)
        continue;
      LLVM_DEBUG(llvm::dbgs()
                 << "[" DEBUG_TYPE "] all-gather at " << gather.getLoc()
                 << " again before " << first->getName() << "\n");
      OpBuilder b(first);
      Operation *again = b.clone(*gather);
      again->setAttr(LLMDialect::kRoleAttrName, b.getStringAttr("recompute"));
      gather.getResult().replaceUsesWithIf(
          again->getResult(0), [&](OpOperand &use) {
            Operation *user = use.getOwner();
            return !user->hasTrait<OpTrait::IsTerminator>() &&
                   (user == first || first->isBeforeInBlock(user));
          });
    }
  }

  /// Clones the ops of `ops` whose results a use at or after `at` needs (and
  /// the layer's ops those need), before `at`, and points those uses at the
  /// clones.
  void recomputeLayer(ArrayRef<Operation *> ops, Operation *at,
                      const DenseSet<Operation *> &fromWeights) {
    DenseSet<Operation *> inLayer(ops.begin(), ops.end());
    // A backward use: at or after `at`, other than the return, whose values
    // (a pipeline stage's output) the forward pass computes and sends on.
    auto backwardUse = [&](Operation *user) {
      return !user->hasTrait<OpTrait::IsTerminator>() &&
             (user == at || at->isBeforeInBlock(user));
    };
    auto usedLater = [&](Operation *op) {
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers())
          if (backwardUse(user))
            return true;
      return false;
    };
    auto wanted = [&](Operation *op) {
      return mode == llmc::Recompute::Full ||
             (mode == llmc::Recompute::Selective && isa<AttentionOp>(op)) ||
             fromWeights.contains(op);
    };
    // The ops to run again: the wanted ones read later, then, walking
    // backwards, the layer's ops that feed them (in full mode, and for
    // values of weights: selective recomputes the attention core from its
    // saved q, k, v).
    DenseSet<Operation *> clone;
    for (Operation *op : llvm::reverse(ops)) {
      bool feeds = llvm::any_of(op->getUsers(), [&](Operation *user) {
        return clone.contains(user);
      });
      bool chains = mode == llmc::Recompute::Full || fromWeights.contains(op);
      if (wanted(op) && (usedLater(op) || (chains && feeds)))
        clone.insert(op);
    }
    if (clone.empty())
      return;
    LLVM_DEBUG(llvm::dbgs() << "[" DEBUG_TYPE "] " << clone.size()
                            << " op(s) run again before " << at->getName()
                            << " at " << at->getLoc() << "\n");
    OpBuilder b(at);
    IRMapping copies;
    StringAttr role = b.getStringAttr("recompute");
    for (Operation *op : ops) {
      if (!clone.contains(op))
        continue;
      Operation *copy = b.clone(*op, copies);
      copy->setAttr(LLMDialect::kRoleAttrName, role);
    }
    for (Operation *op : ops) {
      if (!clone.contains(op))
        continue;
      for (Value result : op->getResults())
        result.replaceUsesWithIf(copies.lookup(result), [&](OpOperand &use) {
          Operation *user = use.getOwner();
          return !inLayer.contains(user) && !clone.contains(user) &&
                 backwardUse(user);
        });
    }
  }
};

} // namespace
