//===- TensorAutodiff.cpp - Gradients of upstream tensor and shard ops ----===//
//
// External AutodiffOpInterface models for the upstream ops llm functions
// use, so llmc-autodiff treats them like any llm op.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
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

/// A sharding annotation is the identity on values; its gradient carries
/// the same annotation (as the transpose of JAX's with_sharding_constraint),
/// so the backward pass is anchored where the forward pass is.
struct ShardVJP
    : llm::AutodiffOpInterface::ExternalModel<ShardVJP, shard::ShardOp> {
  LogicalResult buildVJP(Operation *op, OpBuilder &b, ValueRange resultGrads,
                         SmallVectorImpl<Value> &operandGrads) const {
    auto annotation = cast<shard::ShardOp>(op);
    operandGrads.push_back(shard::ShardOp::create(
        b, op->getLoc(), resultGrads[0], annotation.getSharding(),
        annotation.getAnnotateForUsersAttr()));
    operandGrads.push_back(Value()); // the sharding itself
    return success();
  }
};
} // namespace

void llm::registerTensorAutodiffModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, tensor::TensorDialect *) {
    context->loadDialect<arith::ArithDialect>();
    tensor::ExtractSliceOp::attachInterface<ExtractSliceVJP>(*context);
  });
  registry.addExtension(+[](MLIRContext *context, shard::ShardDialect *) {
    shard::ShardOp::attachInterface<ShardVJP>(*context);
  });
}
