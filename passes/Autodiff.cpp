//===- Autodiff.cpp - Reverse-mode differentiation of a loss --------------===//
//
// A reverse walk over the loss function's single block: every op on the
// path to the loss builds its operands' gradients through
// AutodiffOpInterface, and uses of a value add up their contributions.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "dialects/llm/IR/LLMOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "llmc-autodiff"

namespace mlir::llm {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"
} // namespace mlir::llm

using namespace mlir;
using namespace mlir::llm;

namespace {

/// Tags every op the builder inserts with a role and the layer of the op
/// being differentiated, so later passes can cut and cost backward ops by
/// layer exactly like forward ones.
struct RoleTagger : OpBuilder::Listener {
  StringAttr role;
  Attribute layer;
  void notifyOperationInserted(Operation *op, OpBuilder::InsertPoint) override {
    op->setAttr(LLMDialect::kRoleAttrName, role);
    if (layer)
      op->setAttr(LLMDialect::kLayerAttrName, layer);
    else
      op->removeAttr(LLMDialect::kLayerAttrName);
  }
};

Value zerosLike(OpBuilder &b, Location loc, Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(tensor, b.getZeroAttr(tensor.getElementType())));
}

struct AutodiffPass : mlir::llm::impl::AutodiffBase<AutodiffPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto loss = module.lookupSymbol<func::FuncOp>(funcName);
    if (!loss) {
      module.emitError("llmc-autodiff: no function @") << funcName;
      return signalPassFailure();
    }
    auto result = loss.getNumResults() == 1
                      ? dyn_cast<RankedTensorType>(loss.getResultTypes()[0])
                      : RankedTensorType();
    bool scalar = result && result.getRank() == 0;
    bool named = result && loss.getResultAttr(0, kOutputAttrName);
    if (!result || !(scalar || named) || !loss.getBody().hasOneBlock()) {
      loss.emitError("llmc-autodiff: @")
          << funcName
          << " must have one block and return one scalar tensor (or one "
             "tensor named by llm.output)";
      return signalPassFailure();
    }
    if (failed(buildGradFunction(loss)))
      signalPassFailure();
  }

  LogicalResult buildGradFunction(func::FuncOp loss) {
    OpBuilder b(loss);
    b.setInsertionPointAfter(loss);
    auto grad = cast<func::FuncOp>(b.clone(*loss));
    grad.setSymName(funcName + "_grad");
    Block &body = grad.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Location loc = ret.getLoc();

    StringAttr forward = b.getStringAttr("forward");
    for (Operation &op : body.without_terminator())
      op.setAttr(LLMDialect::kRoleAttrName, forward);

    RoleTagger tagger;
    tagger.role = b.getStringAttr("backward");
    b.setInsertionPoint(ret);
    b.setListener(&tagger);

    DenseMap<Value, Value> grads;
    Value lossValue = ret.getOperand(0);
    auto lossType = cast<RankedTensorType>(lossValue.getType());
    StringAttr outputName =
        loss.getResultAttrOfType<StringAttr>(0, kOutputAttrName);
    if (!outputName)
      outputName = b.getStringAttr("loss");
    Operation *seed = nullptr;
    if (lossType.getRank() == 0) {
      // d(scale·loss): gradient accumulation over microbatches averages.
      seed = arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              lossType, b.getFloatAttr(lossType.getElementType(), lossScale)));
      grads[lossValue] = seed->getResult(0);
    } else {
      // A pipeline stage's output: its gradient arrives from the next stage
      // as the input "grad_<output>".
      unsigned index = grad.getNumArguments();
      if (failed(grad.insertArgument(
              index, lossType,
              b.getDictionaryAttr(b.getNamedAttr(
                  LLMDialect::kInputAttrName,
                  b.getStringAttr("grad_" + outputName.getValue()))),
              loc)))
        return failure();
      grads[lossValue] = grad.getArgument(index);
    }

    SmallVector<Operation *> forwardOps = llvm::map_to_vector(
        body.without_terminator(), [](Operation &op) { return &op; });
    for (Operation *op : llvm::reverse(forwardOps)) {
      if (op == seed)
        continue;
      if (llvm::none_of(op->getResults(),
                        [&](Value r) { return grads.count(r); }))
        continue; // not on a path to the loss
      if (op->getNumOperands() == 0)
        continue; // a constant: nothing to propagate to
      auto differentiable = dyn_cast<AutodiffOpInterface>(op);
      if (!differentiable)
        return op->emitOpError("has no gradient rule (AutodiffOpInterface)");
      tagger.layer = op->getAttr(LLMDialect::kLayerAttrName);
      SmallVector<Value> resultGrads;
      for (Value result : op->getResults()) {
        Value g = grads.lookup(result);
        resultGrads.push_back(g ? g
                                : zerosLike(b, op->getLoc(), result.getType()));
      }
      SmallVector<Value> operandGrads;
      LLVM_DEBUG(llvm::dbgs()
                 << "[" DEBUG_TYPE "] gradient of " << op->getName() << " at "
                 << op->getLoc() << "\n");
      if (failed(differentiable.buildVJP(b, resultGrads, operandGrads)))
        return failure();
      if (operandGrads.size() != op->getNumOperands())
        return op->emitOpError("gradient rule returned ")
               << operandGrads.size() << " gradients for "
               << op->getNumOperands() << " operands";
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
        if (!g)
          continue;
        Value &sum = grads[operand];
        sum = sum ? AddOp::create(b, op->getLoc(), sum, g).getResult() : g;
      }
    }

    // Return the loss (or output), the gradients of the inputs asked for (a
    // pipeline stage's, for the previous stage), then a gradient for every
    // parameter, in order.
    tagger.layer = nullptr;
    SmallVector<Value> results = {lossValue};
    SmallVector<Attribute> resultAttrs = {
        b.getDictionaryAttr(b.getNamedAttr(kOutputAttrName, outputName))};
    for (BlockArgument arg : grad.getArguments()) {
      auto input = grad.getArgAttrOfType<StringAttr>(
          arg.getArgNumber(), LLMDialect::kInputAttrName);
      if (!input || !llvm::is_contained(inputGrads, input.getValue()))
        continue;
      if (!grads.count(arg))
        return grad.emitError("llmc-autodiff: input '")
               << input.getValue() << "' does not reach the output";
      results.push_back(grads.lookup(arg));
      resultAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
          kOutputAttrName, b.getStringAttr("grad_" + input.getValue()))));
    }
    for (BlockArgument arg : grad.getArguments()) {
      auto name = grad.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                    LLMDialect::kParamAttrName);
      if (!name)
        continue;
      Value g = grads.lookup(arg);
      results.push_back(g ? g : zerosLike(b, loc, arg.getType()));
      resultAttrs.push_back(
          b.getDictionaryAttr(b.getNamedAttr(kGradOfAttrName, name)));
    }
    b.setListener(nullptr);
    func::ReturnOp::create(b, loc, results);
    ret.erase();
    grad.setType(b.getFunctionType(grad.getArgumentTypes(),
                                   ValueRange(results).getTypes()));
    grad.setAllResultAttrs(resultAttrs);
    return success();
  }
};

} // namespace
