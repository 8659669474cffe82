//===- LLMAutodiff.cpp - Vector-Jacobian products of llm ops --------------===//
//
// Each forward op's buildVJP: given the gradients of its results, build the
// gradients of its operands, in the llm dialect, at the builder's insertion
// point. GEMM gradients are GEMMs again, with the transposes chosen so no
// weight is ever materialised transposed.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mlir::llm;

static RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Sums `grad` down to `target`'s shape when the operand was broadcast.
static Value sumTo(OpBuilder &b, Location loc, Value grad, Type target) {
  if (grad.getType() == target)
    return grad;
  return SumToOp::create(b, loc, target, grad);
}

/// Swaps the last two dimensions.
static Value transposeLast2(OpBuilder &b, Location loc, Value x) {
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 1], perm[rank - 2]);
  return TransposeOp::create(b, loc, x, perm);
}

/// Folds the leading dimensions into the rows: [b..., R, C] -> [b·R, C].
static Value flattenRows(OpBuilder &b, Location loc, Value x) {
  auto type = tensorType(x);
  if (type.getRank() == 2)
    return x;
  int64_t cols = type.getShape().back();
  return ReshapeOp::create(
      b, loc,
      RankedTensorType::get({type.getNumElements() / cols, cols},
                            type.getElementType()),
      x);
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0], lhs = getLhs(), rhs = getRhs();
  bool transA = getTransposeLhs(), transB = getTransposeRhs();
  bool sharedRhs =
      tensorType(rhs).getRank() == 2 && tensorType(lhs).getRank() > 2;

  // d op(A) = dY · op(B)ᵀ.
  Value dA = MatmulOp::create(b, loc, dy, rhs, Value(), false, !transB);
  if (transA)
    dA = transposeLast2(b, loc, dA);

  // d op(B) = op(A)ᵀ · dY, summed over the batch when B is shared.
  Value dB;
  if (sharedRhs && !transA) {
    // A weight: one GEMM over all rows, [K, N] = A2ᵀ·dY2 (or [N, K] = dY2ᵀ·A2).
    Value a2 = flattenRows(b, loc, lhs), dy2 = flattenRows(b, loc, dy);
    dB = transB ? MatmulOp::create(b, loc, dy2, a2, Value(), true, false)
                : MatmulOp::create(b, loc, a2, dy2, Value(), true, false);
  } else if (transB) {
    // dB = dYᵀ · op(A), per batch.
    dB = MatmulOp::create(b, loc, dy, lhs, Value(), true, transA);
  } else {
    dB = MatmulOp::create(b, loc, lhs, dy, Value(), !transA, false);
  }
  if (sharedRhs && tensorType(dB).getRank() > 2)
    dB = sumTo(b, loc, dB, rhs.getType());

  operandGrads.append({dA, dB});
  if (Value bias = getBias())
    operandGrads.push_back(sumTo(b, loc, dy, bias.getType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrads[0];
  operandGrads.append({dy, sumTo(b, getLoc(), dy, getRhs().getType())});
  return success();
}

LogicalResult MulOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value dl = MulOp::create(b, loc, dy, getRhs());
  Value dr =
      sumTo(b, loc, MulOp::create(b, loc, dy, getLhs()), getRhs().getType());
  operandGrads.append({dl, dr});
  return success();
}

LogicalResult GeluOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(GeluGradOp::create(b, getLoc(), resultGrads[0],
                                            getInput(), getApproximateAttr()));
  return success();
}

LogicalResult SiluOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      SiluGradOp::create(b, getLoc(), resultGrads[0], getInput()));
  return success();
}

LogicalResult SwigluOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Type type = getType();
  auto grad = SwigluGradOp::create(b, getLoc(), TypeRange{type, type},
                                   resultGrads[0], getGate(), getUp());
  operandGrads.append({grad.getDgate(), grad.getDup()});
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization, softmax, attention, rope
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  auto grad = LayerNormGradOp::create(b, getLoc(), resultGrads[0], getInput(),
                                      getWeight(), getEpsilonAttr());
  operandGrads.append({grad.getDinput(), grad.getDweight(), grad.getDbias()});
  return success();
}

LogicalResult RmsNormOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  auto grad = RmsNormGradOp::create(b, getLoc(), resultGrads[0], getInput(),
                                    getWeight(), getEpsilonAttr());
  operandGrads.append({grad.getDinput(), grad.getDweight()});
  return success();
}

LogicalResult SoftmaxOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(SoftmaxGradOp::create(b, getLoc(), resultGrads[0],
                                               getResult(), getAxisAttr()));
  return success();
}

LogicalResult AttentionOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  auto grad = AttentionGradOp::create(b, getLoc(), resultGrads[0], getQuery(),
                                      getKey(), getValue(), getResult(),
                                      getCausal(), getScaleAttr());
  operandGrads.append({grad.getDquery(), grad.getDkey(), grad.getDvalue()});
  return success();
}

LogicalResult RopeOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // A rotation's gradient is the rotation by the opposite angle.
  operandGrads.push_back(
      RopeOp::create(b, getLoc(), resultGrads[0], getThetaAttr(),
                     getInverse() ? UnitAttr() : b.getUnitAttr()));
  return success();
}

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                  SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      ReshapeOp::create(b, getLoc(), getInput().getType(), resultGrads[0]));
  return success();
}

LogicalResult TransposeOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  operandGrads.push_back(
      TransposeOp::create(b, getLoc(), resultGrads[0], inverse));
  return success();
}

LogicalResult SplitOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      ConcatOp::create(b, getLoc(), resultGrads, getAxisAttr()));
  return success();
}

LogicalResult ConcatOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  auto split = SplitOp::create(b, getLoc(), getInputs().getTypes(),
                               resultGrads[0], getAxisAttr());
  llvm::append_range(operandGrads, split.getResults());
  return success();
}

//===----------------------------------------------------------------------===//
// Embedding and loss: token ids have no gradient.
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.append({EmbeddingGradOp::create(
                           b, getLoc(), getTable().getType(), resultGrads[0],
                           getIds(), getVocabParallelAxisAttr()),
                       Value()});
  return success();
}

LogicalResult CrossEntropyOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.append(
      {CrossEntropyGradOp::create(b, getLoc(), resultGrads[0], getLogits(),
                                  getTargets(), getVocabParallelAxisAttr()),
       Value()});
  return success();
}

//===----------------------------------------------------------------------===//
// Collectives: each forward collective's backward is its Megatron dual.
//===----------------------------------------------------------------------===//

LogicalResult AllReduceOp::buildVJP(OpBuilder &, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(resultGrads[0]);
  return success();
}

LogicalResult CopyToParallelOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      AllReduceOp::create(b, getLoc(), resultGrads[0], getAxisAttr()));
  return success();
}

LogicalResult AllGatherOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(
      ReduceScatterOp::create(b, getLoc(), getInput().getType(), resultGrads[0],
                              getAxisAttr(), getDimAttr()));
  return success();
}

LogicalResult ReduceScatterOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(AllGatherOp::create(b, getLoc(), getInput().getType(),
                                             resultGrads[0], getAxisAttr(),
                                             getDimAttr()));
  return success();
}

LogicalResult
ScatterToParallelOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                              SmallVectorImpl<Value> &operandGrads) {
  operandGrads.push_back(AllGatherOp::create(b, getLoc(), getInput().getType(),
                                             resultGrads[0], getAxisAttr(),
                                             getDimAttr()));
  return success();
}
