//===- AppendAdamW.cpp - Clipping and AdamW after the gradients -----------===//
//
// Turns the gradient function into one training step: moments become
// arguments, one global norm feeds every update, and each parameter gets a
// single llm.adamw that the plan lowers to one fused in-place kernel.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-append-adamw"

namespace mlir::llm {
#define GEN_PASS_DEF_APPENDADAMW
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {
struct AppendAdamWPass : mlir::llm::impl::AppendAdamWBase<AppendAdamWPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string gradName = funcName + "_grad";
    auto grad = module.lookupSymbol<func::FuncOp>(gradName);
    if (!grad) {
      module.emitError("llmc-append-adamw: no function @")
          << gradName << " (run llmc-autodiff first)";
      return signalPassFailure();
    }
    if (grad.isDeclaration()) {
      grad.emitError("llmc-append-adamw: @")
          << gradName << " has no body (run llmc-autodiff first)";
      return signalPassFailure();
    }
    OpBuilder b(grad);
    b.setInsertionPointAfter(grad);
    auto step = cast<func::FuncOp>(b.clone(*grad));
    step.setSymName(kTrainStepFuncName);
    Block &body = step.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Location loc = ret.getLoc();

    // Parameters in argument order; their gradients are the results named
    // by llm.grad_of, in the same order. The other results are outputs.
    SmallVector<BlockArgument> params;
    SmallVector<StringAttr> names;
    for (BlockArgument arg : step.getArguments())
      if (auto name = step.getArgAttrOfType<StringAttr>(
              arg.getArgNumber(), LLMDialect::kParamAttrName)) {
        params.push_back(arg);
        names.push_back(name);
      }
    SmallVector<Value> grads, outputs;
    SmallVector<Attribute> outputAttrs;
    for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
      if (step.getResultAttr(i, kGradOfAttrName)) {
        grads.push_back(value);
        continue;
      }
      outputs.push_back(value);
      outputAttrs.push_back(step.getResultAttrDict(i));
    }
    if (params.empty()) {
      grad.emitError("llmc-append-adamw: @")
          << gradName << " has no llm.param arguments to update";
      step.erase();
      return signalPassFailure();
    }
    if (grads.size() != params.size()) {
      grad.emitError("llmc-append-adamw: @")
          << gradName << " returns " << grads.size() << " gradients for "
          << params.size() << " parameters";
      return signalPassFailure();
    }

    LLVM_DEBUG(llvm::dbgs()
               << "[" DEBUG_TYPE "] AdamW on " << params.size() << " parameters"
               << (accumulate ? ", gradients summed first" : "") << "\n");
    // Moments: one m and one v argument per parameter, after the others,
    // split over the mesh like their parameter.
    SmallVector<Value> ms, vs;
    for (auto [attrName, moments] :
         {std::pair{kAdamMAttrName, &ms}, std::pair{kAdamVAttrName, &vs}})
      for (auto [param, name] : llvm::zip(params, names)) {
        unsigned index = step.getNumArguments();
        SmallVector<NamedAttribute> attrs = {b.getNamedAttr(attrName, name)};
        if (Attribute shard = step.getArgAttr(param.getArgNumber(),
                                              LLMDialect::kShardAttrName))
          attrs.push_back(b.getNamedAttr(LLMDialect::kShardAttrName, shard));
        if (failed(step.insertArgument(index, param.getType(),
                                       b.getDictionaryAttr(attrs), loc)))
          return signalPassFailure();
        moments->push_back(step.getArgument(index));
      }

    // Gradient accumulation: each gradient is added into its running sum as
    // soon as it is complete, so the microbatch's copy dies at once.
    if (accumulate)
      for (Value &g : grads) {
        b.setInsertionPointAfterValue(g);
        Operation *sum = AccumulateGradOp::create(b, g.getLoc(), g);
        sum->setAttr(LLMDialect::kRoleAttrName, b.getStringAttr("backward"));
        if (Operation *def = g.getDefiningOp())
          if (Attribute layer = def->getAttr(LLMDialect::kLayerAttrName))
            sum->setAttr(LLMDialect::kLayerAttrName, layer);
        g = sum->getResult(0);
      }

    b.setInsertionPoint(ret);
    StringAttr role = b.getStringAttr("optimizer");
    auto tag = [&](Operation *op) {
      op->setAttr(LLMDialect::kRoleAttrName, role);
      return op;
    };
    // The norm has the loss's (or stage output's) element type.
    auto scalar = RankedTensorType::get(
        {},
        cast<RankedTensorType>(ret.getOperand(0).getType()).getElementType());
    // Split parameters' shards are summed over their axis for the norm.
    StringAttr axis;
    SmallVector<bool> sharded;
    for (BlockArgument param : params) {
      auto shard = step.getArgAttrOfType<DictionaryAttr>(
          param.getArgNumber(), LLMDialect::kShardAttrName);
      sharded.push_back(bool(shard));
      if (shard)
        axis = shard.getAs<StringAttr>("axis");
    }
    Value norm = tag(GradNormOp::create(b, loc, scalar, grads, axis,
                                        axis ? b.getDenseBoolArrayAttr(sharded)
                                             : DenseBoolArrayAttr()))
                     ->getResult(0);
    SmallVector<Value> newParams, newMs, newVs;
    for (auto [i, param] : llvm::enumerate(params)) {
      bool decay = cast<RankedTensorType>(param.getType()).getRank() >= 2;
      Type type = param.getType();
      auto update = AdamWOp::create(b, loc, TypeRange{type, type, type}, param,
                                    grads[i], ms[i], vs[i], norm, decay);
      tag(update);
      newParams.push_back(update.getNewParam());
      newMs.push_back(update.getNewM());
      newVs.push_back(update.getNewV());
    }

    SmallVector<Value> results = outputs;
    SmallVector<Attribute> attrs = outputAttrs;
    results.push_back(norm);
    attrs.push_back(b.getDictionaryAttr(
        b.getNamedAttr(kOutputAttrName, b.getStringAttr("grad_norm"))));
    for (auto [attrName, values] : {std::pair{kUpdateOfAttrName, &newParams},
                                    std::pair{kAdamMOfAttrName, &newMs},
                                    std::pair{kAdamVOfAttrName, &newVs}})
      for (auto [value, name] : llvm::zip(*values, names)) {
        results.push_back(value);
        attrs.push_back(b.getDictionaryAttr(b.getNamedAttr(attrName, name)));
      }
    func::ReturnOp::create(b, loc, results);
    ret.erase();
    step.setType(b.getFunctionType(step.getArgumentTypes(),
                                   ValueRange(results).getTypes()));
    step.setAllResultAttrs(attrs);
  }
};
} // namespace
