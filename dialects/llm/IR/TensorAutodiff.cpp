//===- TensorAutodiff.cpp - Gradients of upstream tensor ops --------------===//
//
// External AutodiffOpInterface models for the upstream ops llm functions
// use, so llmc-autodiff treats them like any llm op.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

namespace {
/// The gradient of a slice is the slice's gradient placed into zeros.
struct ExtractSliceVJP
    : llm::AutodiffOpInterface::ExternalModel<ExtractSliceVJP,
                                              tensor::ExtractSliceOp> {
  LogicalResult buildVJP(Operation *op, OpBuilder &b, ValueRange resultGrads,
                         SmallVectorImpl<Value> &operandGrads) const {
    auto slice = cast<tensor::ExtractSliceOp>(op);
    auto sourceType = slice.getSourceType();
    Value zeros = arith::ConstantOp::create(
        b, op->getLoc(),
        DenseElementsAttr::get(sourceType,
                               b.getZeroAttr(sourceType.getElementType())));
    Value grad = tensor::InsertSliceOp::create(
        b, op->getLoc(), resultGrads[0], zeros, slice.getMixedOffsets(),
        slice.getMixedSizes(), slice.getMixedStrides());
    operandGrads.push_back(grad);
    // Dynamic offsets, sizes and strides are indices: no gradient.
    operandGrads.append(op->getNumOperands() - 1, Value());
    return success();
  }
};
} // namespace

void llm::registerTensorAutodiffModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, tensor::TensorDialect *) {
    context->loadDialect<arith::ArithDialect>();
    tensor::ExtractSliceOp::attachInterface<ExtractSliceVJP>(*context);
  });
}
