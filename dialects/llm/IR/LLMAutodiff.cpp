//===- LLMAutodiff.cpp - Vector-Jacobian products of llm ops --------------===//
//
// Each forward op's buildVJP: given the gradients of its results, build the
// gradients of its operands, in the llm dialect, at the builder's insertion
// point. GEMM gradients are GEMMs again, with the transposes chosen so no
// weight is ever materialised transposed.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
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

//===----------------------------------------------------------------------===//
// General ops (graphs imported op by op)
//===----------------------------------------------------------------------===//

/// A tensor of `type` filled with `value` (a splat constant: a plan fill).
static Value splat(OpBuilder &b, Location loc, Type type, float value) {
  auto tensor = cast<RankedTensorType>(type);
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(tensor,
                             b.getFloatAttr(tensor.getElementType(), value)));
}

static Value unary(OpBuilder &b, Location loc, Value x, StringRef kind) {
  return UnaryOp::create(b, loc, x, b.getStringAttr(kind));
}

static Value binary(OpBuilder &b, Location loc, Value x, Value y,
                    StringRef kind) {
  return BinaryOp::create(b, loc, x, y, b.getStringAttr(kind));
}

/// A scalar constant, broadcast by llm.binary wherever it is used.
static Value scalar(OpBuilder &b, Location loc, float value) {
  return splat(b, loc, RankedTensorType::get({}, b.getF32Type()), value);
}

/// The gradient of an operand broadcast to `grad`'s shape: summed over the
/// dimensions it was stretched along (numpy's rule), then given its shape.
static Value unbroadcast(OpBuilder &b, Location loc, Value grad, Type target) {
  if (grad.getType() == target)
    return grad;
  ArrayRef<int64_t> out = tensorType(grad).getShape();
  ArrayRef<int64_t> in = cast<RankedTensorType>(target).getShape();
  size_t lead = out.size() - in.size();
  SmallVector<int64_t> axes;
  for (size_t d = 0; d < out.size(); ++d)
    if (d < lead || (in[d - lead] == 1 && out[d] != 1))
      axes.push_back(int64_t(d));
  Value summed = ReduceOp::create(b, loc, grad, b.getStringAttr("sum"),
                                  b.getDenseI64ArrayAttr(axes), true);
  return ReshapeOp::create(b, loc, target, summed);
}

LogicalResult UnaryOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0], x = getInput(), y = getResult();
  auto mul = [&](Value a, Value c) { return binary(b, loc, a, c, "mul"); };
  StringRef kind = getKind();
  Value dx;
  if (kind == "neg")
    dx = unary(b, loc, dy, "neg");
  else if (kind == "abs")
    dx = mul(dy, unary(b, loc, x, "sign"));
  else if (kind == "relu")
    dx = mul(dy, unary(b, loc, y, "sign"));
  else if (kind == "exp")
    dx = mul(dy, y);
  else if (kind == "log")
    dx = binary(b, loc, dy, x, "div");
  else if (kind == "sqrt") // dy / (2·sqrt(x))
    dx = binary(b, loc, mul(dy, scalar(b, loc, 0.5f)), y, "div");
  else if (kind == "reciprocal") // -dy / x²
    dx = unary(b, loc, mul(dy, mul(y, y)), "neg");
  else if (kind == "tanh") // dy·(1 - y²)
    dx = mul(dy, binary(b, loc, scalar(b, loc, 1.0f), mul(y, y), "sub"));
  else if (kind == "sigmoid") // dy·y·(1 - y)
    dx = mul(dy, mul(y, binary(b, loc, scalar(b, loc, 1.0f), y, "sub")));
  else if (kind == "erf") // dy·2/√π·exp(-x²)
    dx = mul(mul(dy, scalar(b, loc, 1.1283791670955126f)),
             unary(b, loc, unary(b, loc, mul(x, x), "neg"), "exp"));
  else if (kind == "sin")
    dx = mul(dy, unary(b, loc, x, "cos"));
  else if (kind == "cos")
    dx = unary(b, loc, mul(dy, unary(b, loc, x, "sin")), "neg");
  else // floor, ceil, sign: flat almost everywhere
    dx = splat(b, loc, x.getType(), 0.0f);
  operandGrads.push_back(dx);
  return success();
}

LogicalResult BinaryOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0], l = getLhs(), r = getRhs(), y = getResult();
  auto op = [&](Value a, Value c, StringRef kind) {
    return binary(b, loc, a, c, kind);
  };
  StringRef kind = getKind();
  Value dl, dr;
  if (kind == "add") {
    dl = dr = dy;
  } else if (kind == "sub") {
    dl = dy;
    dr = unary(b, loc, dy, "neg");
  } else if (kind == "mul") {
    dl = op(dy, r, "mul");
    dr = op(dy, l, "mul");
  } else if (kind == "div") { // dl = dy / r, dr = -dl·y
    dl = op(dy, r, "div");
    dr = unary(b, loc, op(dl, y, "mul"), "neg");
  } else if (kind == "pow") { // dl = dy·r·l^(r-1), dr = dy·y·log(l)
    Value rMinus1 = op(r, scalar(b, loc, 1.0f), "sub");
    dl = op(op(dy, r, "mul"), op(l, rMinus1, "pow"), "mul");
    dr = op(op(dy, y, "mul"), unary(b, loc, l, "log"), "mul");
  } else { // max, min: the gradient goes to the operand that is the result
    Value zeros = splat(b, loc, y.getType(), 0.0f);
    dl = WhereOp::create(b, loc, op(l, y, "sub"), zeros, dy);
    dr = WhereOp::create(b, loc, op(r, y, "sub"), zeros, dy);
  }
  operandGrads.push_back(unbroadcast(b, loc, dl, l.getType()));
  operandGrads.push_back(unbroadcast(b, loc, dr, r.getType()));
  return success();
}

LogicalResult ReduceOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                 SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value x = getInput();
  auto xType = tensorType(x);
  // The reduced values with their axes kept (size 1), so they broadcast
  // back over x.
  SmallVector<int64_t> kept(xType.getShape());
  for (int64_t a : getAxes())
    kept[a] = 1;
  auto keptType = RankedTensorType::get(kept, xType.getElementType());
  auto keep = [&](Value v) -> Value {
    return v.getType() == keptType ? v : ReshapeOp::create(b, loc, keptType, v);
  };
  Value dy = keep(resultGrads[0]), y = keep(getResult());
  auto op = [&](Value a, Value c, StringRef kind) {
    return binary(b, loc, a, c, kind);
  };
  Value ones = splat(b, loc, xType, 1.0f);
  StringRef kind = getKind();
  Value dx;
  if (kind == "sum") {
    dx = op(ones, dy, "mul");
  } else if (kind == "mean") {
    int64_t count = xType.getNumElements() /
                    std::max<int64_t>(1, keptType.getNumElements());
    dx = op(ones, op(dy, scalar(b, loc, 1.0f / float(count)), "mul"), "mul");
  } else if (kind == "prod") { // y / x
    dx = op(op(ones, op(dy, y, "mul"), "mul"), x, "div");
  } else { // max, min: to every element equal to the result
    Value spread = op(ones, dy, "mul");
    dx = WhereOp::create(b, loc, op(x, y, "sub"), splat(b, loc, xType, 0.0f),
                         spread);
  }
  operandGrads.push_back(dx);
  return success();
}

LogicalResult WhereOp::buildVJP(OpBuilder &b, ValueRange resultGrads,
                                SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0], c = getCondition();
  Value zeros = splat(b, loc, dy.getType(), 0.0f);
  Value dl = WhereOp::create(b, loc, c, dy, zeros);
  Value dr = WhereOp::create(b, loc, c, zeros, dy);
  operandGrads.push_back(Value()); // the condition chooses; no gradient
  operandGrads.push_back(unbroadcast(b, loc, dl, getLhs().getType()));
  operandGrads.push_back(unbroadcast(b, loc, dr, getRhs().getType()));
  return success();
}
