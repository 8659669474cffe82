//===- LLMOps.cpp - Ops of the llm dialect --------------------------------===//
//
// Shape inference, verifiers and flop counts of the llm ops. Inference and
// verification share one function per op: inferReturnTypes checks the
// operands and reports what is wrong, so a bad op gets one clear message.
//
//===----------------------------------------------------------------------===//

#include "dialects/llm/IR/LLMOps.h"
#include "runtime/kernels/general_kinds.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::llm;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {
/// Reports errors of shape inference in the same form as an op verifier
/// ("'llm.x' op ..."), or stays silent when no location is given.
struct InferError {
  std::optional<Location> loc;
  StringRef opName;
  LogicalResult operator()(const Twine &message) const {
    return emitOptionalError(loc, "'", opName, "' op ", message);
  }
};
} // namespace

static std::string typeString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << type;
  return s;
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(shape, os, "x");
  return shape.empty() ? std::string("scalar") : s;
}

static RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

static int64_t numElements(Value value) {
  int64_t n = 1;
  for (int64_t d : tensorType(value).getShape())
    n = flopProduct({n, d});
  return n;
}

/// Memory-bound work: a nominal `perElement` flops for each element of `v`.
static FlopCount vectorFlops(int64_t perElement, Value v) {
  return {0, 0, flopProduct({perElement, numElements(v)})};
}

/// Maps a possibly negative axis into [0, rank), or returns failure.
static FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return failure();
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// EmbeddingOp
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto table = tensorType(adaptor.getTable());
  auto ids = tensorType(adaptor.getIds());
  if (table.getRank() != 2)
    return error("table must have rank 2 (vocab x hidden), got " +
                 shapeString(table.getShape()));
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  inferred.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto lhs = tensorType(adaptor.getLhs());
  auto rhs = tensorType(adaptor.getRhs());
  if (lhs.getElementType() != rhs.getElementType())
    return error("lhs and rhs must have the same element type");
  if (lhs.getRank() < 2)
    return error("lhs must have rank >= 2, got " + shapeString(lhs.getShape()));
  if (rhs.getRank() != 2 && rhs.getRank() != lhs.getRank())
    return error("rhs must have rank 2 or the rank of lhs (" +
                 Twine(lhs.getRank()) + "), got " +
                 shapeString(rhs.getShape()));
  ArrayRef<int64_t> lhsShape = lhs.getShape(), rhsShape = rhs.getShape();
  ArrayRef<int64_t> batch = lhsShape.drop_back(2);
  if (rhs.getRank() > 2 && rhsShape.drop_back(2) != batch)
    return error("batch dimensions of lhs (" + shapeString(batch) +
                 ") and rhs (" + shapeString(rhsShape.drop_back(2)) +
                 ") must match");
  int64_t lhsRows = lhsShape[lhsShape.size() - 2], lhsCols = lhsShape.back();
  int64_t rhsRows = rhsShape[rhsShape.size() - 2], rhsCols = rhsShape.back();
  int64_t m = adaptor.getTransposeLhs() ? lhsCols : lhsRows;
  int64_t k = adaptor.getTransposeLhs() ? lhsRows : lhsCols;
  int64_t rhsK = adaptor.getTransposeRhs() ? rhsCols : rhsRows;
  int64_t n = adaptor.getTransposeRhs() ? rhsRows : rhsCols;
  if (k != rhsK)
    return error("contracting dimensions differ: lhs has " + Twine(k) +
                 ", rhs has " + Twine(rhsK));
  if (Value bias = adaptor.getBias()) {
    auto biasType = tensorType(bias);
    if (biasType.getElementType() != lhs.getElementType())
      return error("bias must have the element type of lhs");
    if (biasType.getShape() != ArrayRef<int64_t>{n})
      return error("bias must have shape " + Twine(n) + ", got " +
                   shapeString(biasType.getShape()));
  }
  SmallVector<int64_t> shape(batch);
  shape.append({m, n});
  inferred.push_back(RankedTensorType::get(shape, lhs.getElementType()));
  return success();
}

int64_t MatmulOp::getM() {
  return tensorType(getResult()).getShape().drop_back().back();
}
int64_t MatmulOp::getN() { return tensorType(getResult()).getShape().back(); }
int64_t MatmulOp::getK() {
  ArrayRef<int64_t> shape = tensorType(getLhs()).getShape();
  return getTransposeLhs() ? shape.drop_back().back() : shape.back();
}
int64_t MatmulOp::getBatchCount() {
  int64_t count = 1;
  for (int64_t d : tensorType(getResult()).getShape().drop_back(2))
    count = flopProduct({count, d});
  return count;
}

FlopCount MatmulOp::getFlopCount() {
  FlopCount flops;
  flops.matmul = flopProduct({2, getBatchCount(), getM(), getN(), getK()});
  if (getBias())
    flops.vector = numElements(getResult());
  return flops;
}

//===----------------------------------------------------------------------===//
// AddOp, MulOp
//===----------------------------------------------------------------------===//

static LogicalResult inferBinary(StringRef opName, std::optional<Location> loc,
                                 Value lhsValue, Value rhsValue,
                                 SmallVectorImpl<Type> &inferred) {
  InferError error{loc, opName};
  auto lhs = tensorType(lhsValue), rhs = tensorType(rhsValue);
  if (lhs.getElementType() != rhs.getElementType())
    return error("lhs and rhs must have the same element type");
  ArrayRef<int64_t> lhsShape = lhs.getShape(), rhsShape = rhs.getShape();
  if (rhsShape.size() > lhsShape.size() ||
      lhsShape.take_back(rhsShape.size()) != rhsShape)
    return error("rhs shape " + shapeString(rhsShape) +
                 " must equal the lhs shape " + shapeString(lhsShape) +
                 " or a suffix of it");
  inferred.push_back(lhs);
  return success();
}

LogicalResult AddOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  return inferBinary(getOperationName(), loc, adaptor.getLhs(),
                     adaptor.getRhs(), inferred);
}
LogicalResult MulOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  return inferBinary(getOperationName(), loc, adaptor.getLhs(),
                     adaptor.getRhs(), inferred);
}

// Nominal vector flops per output element, by op. They weight memory-bound
// work in the cost model; the model flops of MFU never include them.
FlopCount AddOp::getFlopCount() { return vectorFlops(1, getResult()); }
FlopCount MulOp::getFlopCount() { return vectorFlops(1, getResult()); }
FlopCount GeluOp::getFlopCount() { return vectorFlops(8, getResult()); }
FlopCount SiluOp::getFlopCount() { return vectorFlops(4, getResult()); }
FlopCount SwigluOp::getFlopCount() { return vectorFlops(5, getResult()); }
FlopCount LayerNormOp::getFlopCount() { return vectorFlops(8, getResult()); }
FlopCount RmsNormOp::getFlopCount() { return vectorFlops(5, getResult()); }
FlopCount SoftmaxOp::getFlopCount() { return vectorFlops(5, getResult()); }
FlopCount RopeOp::getFlopCount() { return vectorFlops(3, getResult()); }
FlopCount CrossEntropyOp::getFlopCount() { return vectorFlops(5, getLogits()); }

//===----------------------------------------------------------------------===//
// LayerNormOp, RmsNormOp
//===----------------------------------------------------------------------===//

/// Checks that a norm parameter is a vector over the input's last dimension.
static LogicalResult checkNormParam(const InferError &error, StringRef name,
                                    RankedTensorType input, Value param) {
  auto type = tensorType(param);
  if (input.getRank() < 1)
    return error("input must have rank >= 1");
  if (type.getElementType() != input.getElementType())
    return error(name + " must have the element type of the input");
  if (type.getShape() != input.getShape().take_back())
    return error(name + " must have shape " + Twine(input.getShape().back()) +
                 " (the input's last dimension), got " +
                 shapeString(type.getShape()));
  return success();
}

static LogicalResult checkEpsilon(const InferError &error, FloatAttr epsilon) {
  if (!epsilon || !(epsilon.getValueAsDouble() > 0.0))
    return error("epsilon must be positive");
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto input = tensorType(adaptor.getInput());
  if (failed(checkNormParam(error, "weight", input, adaptor.getWeight())) ||
      failed(checkNormParam(error, "bias", input, adaptor.getBias())) ||
      failed(checkEpsilon(error, adaptor.getEpsilonAttr())))
    return failure();
  inferred.push_back(input);
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto input = tensorType(adaptor.getInput());
  if (failed(checkNormParam(error, "weight", input, adaptor.getWeight())) ||
      failed(checkEpsilon(error, adaptor.getEpsilonAttr())))
    return failure();
  inferred.push_back(input);
  return success();
}

//===----------------------------------------------------------------------===//
// UnaryOp, BinaryOp, ReduceOp
//===----------------------------------------------------------------------===//

/// `op`'s kind must be one of `kinds`.
template <typename Op, size_t N>
static LogicalResult verifyKind(Op op,
                                const std::array<const char *, N> &kinds) {
  std::string kind = op.getKind().str();
  if (llmc::kernels::kind_index(kinds, kind.c_str()) >= 0)
    return success();
  return op.emitOpError("kind '")
         << kind << "' is not one of " << llvm::join(kinds, ", ");
}

LogicalResult UnaryOp::verify() {
  return verifyKind(*this, llmc::kernels::kUnaryKinds);
}
FlopCount UnaryOp::getFlopCount() { return vectorFlops(4, getResult()); }

/// Numpy broadcasting of two shapes; failure when they do not broadcast.
static FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                       ArrayRef<int64_t> b) {
  if (a.size() < b.size())
    std::swap(a, b);
  SmallVector<int64_t> shape(a);
  size_t offset = a.size() - b.size();
  for (size_t i = 0; i < b.size(); ++i) {
    int64_t &d = shape[offset + i];
    if (d == b[i] || b[i] == 1)
      continue;
    if (d != 1)
      return failure();
    d = b[i];
  }
  return shape;
}

LogicalResult BinaryOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto lhs = tensorType(adaptor.getLhs()), rhs = tensorType(adaptor.getRhs());
  if (lhs.getElementType() != rhs.getElementType())
    return error("lhs and rhs must have the same element type");
  auto shape = broadcastShapes(lhs.getShape(), rhs.getShape());
  if (failed(shape))
    return error("shapes " + shapeString(lhs.getShape()) + " and " +
                 shapeString(rhs.getShape()) + " do not broadcast");
  inferred.push_back(RankedTensorType::get(*shape, lhs.getElementType()));
  return success();
}
LogicalResult BinaryOp::verify() {
  return verifyKind(*this, llmc::kernels::kBinaryKinds);
}
FlopCount BinaryOp::getFlopCount() { return vectorFlops(1, getResult()); }

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto c = tensorType(adaptor.getCondition()), a = tensorType(adaptor.getLhs()),
       r = tensorType(adaptor.getRhs());
  if (a.getElementType() != r.getElementType())
    return error("lhs and rhs must have the same element type");
  auto shape = broadcastShapes(c.getShape(), a.getShape());
  if (succeeded(shape))
    shape = broadcastShapes(*shape, r.getShape());
  if (failed(shape))
    return error("shapes " + shapeString(c.getShape()) + ", " +
                 shapeString(a.getShape()) + " and " +
                 shapeString(r.getShape()) + " do not broadcast");
  inferred.push_back(RankedTensorType::get(*shape, a.getElementType()));
  return success();
}
FlopCount WhereOp::getFlopCount() { return vectorFlops(1, getResult()); }

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto input = tensorType(adaptor.getInput());
  ArrayRef<int64_t> axes = adaptor.getAxes();
  SmallVector<int64_t> shape;
  for (auto [d, size] : llvm::enumerate(input.getShape())) {
    if (!llvm::is_contained(axes, int64_t(d)))
      shape.push_back(size);
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] < 0 || axes[i] >= input.getRank() ||
        (i > 0 && axes[i] <= axes[i - 1]))
      return error("axes must be increasing dimensions of the input");
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}
LogicalResult ReduceOp::verify() {
  return verifyKind(*this, llmc::kernels::kReduceKinds);
}
FlopCount ReduceOp::getFlopCount() { return vectorFlops(1, getInput()); }

//===----------------------------------------------------------------------===//
// SoftmaxOp
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::verify() {
  int64_t rank = tensorType(getInput()).getRank();
  auto axis = static_cast<int64_t>(getAxis());
  if (failed(normalizeAxis(axis, rank)))
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

/// Checks attention operands and returns the output type [B, Hq, Tq, Dv].
static FailureOr<RankedTensorType> inferAttentionType(const InferError &error,
                                                      Value query, Value key,
                                                      Value value, bool causal,
                                                      FloatAttr scale) {
  auto q = tensorType(query), k = tensorType(key), v = tensorType(value);
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return error("query, key and value must have rank 4 "
                 "(batch, heads, sequence, head_dim)");
  if (q.getElementType() != k.getElementType() ||
      q.getElementType() != v.getElementType())
    return error("query, key and value must have the same element type");
  ArrayRef<int64_t> qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
  if (qs[0] != ks[0] || qs[0] != vs[0])
    return error("query, key and value must have the same batch size");
  if (ks[1] != vs[1] || ks[2] != vs[2])
    return error("key " + shapeString(ks) + " and value " + shapeString(vs) +
                 " must agree in heads and sequence length");
  if (qs[3] != ks[3])
    return error("query head_dim " + Twine(qs[3]) +
                 " differs from key head_dim " + Twine(ks[3]));
  if (ks[1] == 0 || qs[1] % ks[1] != 0)
    return error("kv heads (" + Twine(ks[1]) + ") must divide query heads (" +
                 Twine(qs[1]) + ")");
  if (causal && qs[2] > ks[2])
    return error("causal attention needs query length (" + Twine(qs[2]) +
                 ") <= key length (" + Twine(ks[2]) + ")");
  if (scale && !(scale.getValueAsDouble() > 0.0))
    return error("scale must be positive");
  return RankedTensorType::get({qs[0], qs[1], qs[2], vs[3]},
                               q.getElementType());
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  FailureOr<RankedTensorType> type = inferAttentionType(
      InferError{loc, getOperationName()}, adaptor.getQuery(), adaptor.getKey(),
      adaptor.getValue(), adaptor.getCausal(), adaptor.getScaleAttr());
  if (failed(type))
    return failure();
  inferred.push_back(*type);
  return success();
}

static double attentionScale(FloatAttr scale, Value query) {
  if (scale)
    return scale.getValueAsDouble();
  return 1.0 / std::sqrt(double(tensorType(query).getShape()[3]));
}

double AttentionOp::getScaleOrDefault() {
  return attentionScale(getScaleAttr(), getQuery());
}

FlopCount AttentionOp::getFlopCount() {
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  int64_t tk = tensorType(getKey()).getShape()[2];
  int64_t dv = tensorType(getValue()).getShape()[3];
  int64_t scores = flopProduct({q[0], q[1], q[2], tk});
  FlopCount flops;
  flops.attention =
      flopSum(flopProduct({2, scores, q[3]}), flopProduct({2, scores, dv}));
  flops.vector = flopProduct({5, scores}); // scale, mask, softmax
  return flops;
}

//===----------------------------------------------------------------------===//
// RopeOp
//===----------------------------------------------------------------------===//

LogicalResult RopeOp::verify() {
  auto type = tensorType(getInput());
  if (type.getRank() != 4)
    return emitOpError("input must have rank 4 "
                       "(batch, heads, sequence, head_dim), got ")
           << shapeString(type.getShape());
  if (type.getShape()[3] % 2 != 0)
    return emitOpError("head_dim must be even, got ") << type.getShape()[3];
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError("theta must be positive");
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp, TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto input = tensorType(getInput()), result = tensorType(getResult());
  if (input.getElementType() != result.getElementType())
    return emitOpError("result must have the element type of the input");
  if (input.getNumElements() != result.getNumElements())
    return emitOpError("cannot reshape ")
           << shapeString(input.getShape()) << " (" << input.getNumElements()
           << " elements) to " << shapeString(result.getShape()) << " ("
           << result.getNumElements() << " elements)";
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto input = tensorType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  if (int64_t(perm.size()) != input.getRank())
    return error("permutation has " + Twine(perm.size()) +
                 " entries but the input has rank " + Twine(input.getRank()));
  llvm::SmallSet<int64_t, 8> seen;
  SmallVector<int64_t> shape;
  for (int64_t d : perm) {
    if (d < 0 || d >= input.getRank() || !seen.insert(d).second)
      return error("permutation must hold each of 0.." +
                   Twine(input.getRank() - 1) + " exactly once");
    shape.push_back(input.getDimSize(d));
  }
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// SplitOp, ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult SplitOp::verify() {
  auto input = tensorType(getInput());
  auto givenAxis = static_cast<int64_t>(getAxis());
  FailureOr<int64_t> axis = normalizeAxis(givenAxis, input.getRank());
  if (failed(axis))
    return emitOpError("axis ")
           << givenAxis << " is out of range for rank " << input.getRank();
  if (getResults().empty())
    return emitOpError("must have at least one result");
  int64_t total = 0;
  for (auto [i, result] : llvm::enumerate(getResults())) {
    auto type = tensorType(result);
    if (type.getElementType() != input.getElementType())
      return emitOpError("result ")
             << i << " must have the input's element type";
    if (type.getRank() != input.getRank())
      return emitOpError("result ") << i << " must have the input's rank";
    for (int64_t d = 0; d < input.getRank(); ++d)
      if (d != *axis && type.getDimSize(d) != input.getDimSize(d))
        return emitOpError("result ")
               << i << " differs from the input in dimension " << d
               << ", which is not the split axis";
    total += type.getDimSize(*axis);
  }
  if (total != input.getDimSize(*axis))
    return emitOpError("result sizes along axis ")
           << givenAxis << " add up to " << total << ", but the input has "
           << input.getDimSize(*axis);
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  if (adaptor.getInputs().empty())
    return error("must have at least one input");
  auto first = tensorType(adaptor.getInputs().front());
  auto givenAxis = static_cast<int64_t>(adaptor.getAxis());
  FailureOr<int64_t> axis = normalizeAxis(givenAxis, first.getRank());
  if (failed(axis))
    return error("axis " + Twine(givenAxis) + " is out of range for rank " +
                 Twine(first.getRank()));
  SmallVector<int64_t> shape(first.getShape());
  shape[*axis] = 0;
  for (auto [i, value] : llvm::enumerate(adaptor.getInputs())) {
    auto type = tensorType(value);
    if (type.getElementType() != first.getElementType() ||
        type.getRank() != first.getRank())
      return error("input " + Twine(i) +
                   " must have the element type and rank of input 0");
    for (int64_t d = 0; d < first.getRank(); ++d)
      if (d != *axis && type.getDimSize(d) != first.getDimSize(d))
        return error("input " + Twine(i) +
                     " differs from input 0 in "
                     "dimension " +
                     Twine(d) + ", which is not the axis");
    shape[*axis] += type.getDimSize(*axis);
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// CrossEntropyOp
//===----------------------------------------------------------------------===//

/// Checks logits [..., V] against targets [...]; the loss is a scalar.
static FailureOr<RankedTensorType>
inferCrossEntropyType(const InferError &error, Value logitsValue,
                      Value targetsValue) {
  auto logits = tensorType(logitsValue), targets = tensorType(targetsValue);
  if (logits.getRank() < 1)
    return error("logits must have rank >= 1");
  if (logits.getShape().drop_back() != targets.getShape())
    return error("targets shape " + shapeString(targets.getShape()) +
                 " must equal the logits shape without its last dimension (" +
                 shapeString(logits.getShape().drop_back()) + ")");
  return RankedTensorType::get({}, logits.getElementType());
}

LogicalResult
CrossEntropyOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                 Adaptor adaptor,
                                 SmallVectorImpl<Type> &inferred) {
  FailureOr<RankedTensorType> type =
      inferCrossEntropyType(InferError{loc, getOperationName()},
                            adaptor.getLogits(), adaptor.getTargets());
  if (failed(type))
    return failure();
  inferred.push_back(*type);
  return success();
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingGradOp::verify() {
  auto dout = tensorType(getDout()), result = tensorType(getResult());
  ArrayRef<int64_t> ids = tensorType(getIds()).getShape();
  if (result.getRank() != 2)
    return emitOpError("result must have rank 2 (vocab x hidden), got ")
           << shapeString(result.getShape());
  SmallVector<int64_t> expected(ids);
  expected.push_back(result.getDimSize(1));
  if (dout.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("dout must have shape ")
           << shapeString(expected)
           << " (the ids' shape and the hidden size), got "
           << shapeString(dout.getShape());
  if (dout.getElementType() != result.getElementType())
    return emitOpError("result must have the element type of dout");
  return success();
}

LogicalResult SumToOp::verify() {
  auto input = tensorType(getInput()), result = tensorType(getResult());
  ArrayRef<int64_t> in = input.getShape(), out = result.getShape();
  if (input.getElementType() != result.getElementType())
    return emitOpError("result must have the element type of the input");
  if (out.size() > in.size() || in.take_back(out.size()) != out)
    return emitOpError("result shape ")
           << shapeString(out) << " must be a suffix of the input shape "
           << shapeString(in);
  return success();
}

LogicalResult SoftmaxGradOp::verify() {
  int64_t rank = tensorType(getOutput()).getRank();
  auto axis = static_cast<int64_t>(getAxis());
  if (failed(normalizeAxis(axis, rank)))
    return emitOpError("axis ") << axis << " is out of range for rank " << rank;
  return success();
}

/// Checks that a gradient has the type of the value it is the gradient of.
static LogicalResult checkGradType(const InferError &error, Value grad,
                                   Value of, StringRef name) {
  if (grad.getType() != of.getType())
    return error("dout type " + typeString(grad.getType()) +
                 " must equal the " + name + " type " +
                 typeString(of.getType()));
  return success();
}

/// Checks the operands a norm's gradient op shares with its forward op.
static LogicalResult checkNormGrad(const InferError &error, Value dout,
                                   Value input, Value weight,
                                   FloatAttr epsilon) {
  if (failed(checkNormParam(error, "weight", tensorType(input), weight)) ||
      failed(checkEpsilon(error, epsilon)) ||
      failed(checkGradType(error, dout, input, "input")))
    return failure();
  return success();
}

LogicalResult
LayerNormGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                  Adaptor adaptor,
                                  SmallVectorImpl<Type> &inferred) {
  if (failed(checkNormGrad(InferError{loc, getOperationName()},
                           adaptor.getDout(), adaptor.getInput(),
                           adaptor.getWeight(), adaptor.getEpsilonAttr())))
    return failure();
  Type weight = adaptor.getWeight().getType();
  inferred.append({adaptor.getInput().getType(), weight, weight});
  return success();
}

LogicalResult RmsNormGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &inferred) {
  if (failed(checkNormGrad(InferError{loc, getOperationName()},
                           adaptor.getDout(), adaptor.getInput(),
                           adaptor.getWeight(), adaptor.getEpsilonAttr())))
    return failure();
  inferred.append(
      {adaptor.getInput().getType(), adaptor.getWeight().getType()});
  return success();
}

LogicalResult
AttentionGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                  Adaptor adaptor,
                                  SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  FailureOr<RankedTensorType> outType = inferAttentionType(
      error, adaptor.getQuery(), adaptor.getKey(), adaptor.getValue(),
      adaptor.getCausal(), adaptor.getScaleAttr());
  if (failed(outType))
    return failure();
  if (adaptor.getOutput().getType() != *outType)
    return error("output must have the attention output type " +
                 shapeString(outType->getShape()));
  if (failed(checkGradType(error, adaptor.getDout(), adaptor.getOutput(),
                           "output")))
    return failure();
  inferred.append({adaptor.getQuery().getType(), adaptor.getKey().getType(),
                   adaptor.getValue().getType()});
  return success();
}

double AttentionGradOp::getScaleOrDefault() {
  return attentionScale(getScaleAttr(), getQuery());
}

LogicalResult
CrossEntropyGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  FailureOr<RankedTensorType> lossType =
      inferCrossEntropyType(error, adaptor.getLogits(), adaptor.getTargets());
  if (failed(lossType))
    return failure();
  if (adaptor.getDloss().getType() != *lossType)
    return error("dloss must be a scalar of the logits' element type");
  inferred.push_back(adaptor.getLogits().getType());
  return success();
}

FlopCount EmbeddingGradOp::getFlopCount() { return vectorFlops(1, getDout()); }
FlopCount SumToOp::getFlopCount() { return vectorFlops(1, getInput()); }
FlopCount GeluGradOp::getFlopCount() { return vectorFlops(12, getResult()); }
FlopCount SiluGradOp::getFlopCount() { return vectorFlops(6, getResult()); }
FlopCount SwigluGradOp::getFlopCount() { return vectorFlops(8, getDgate()); }
FlopCount LayerNormGradOp::getFlopCount() {
  return vectorFlops(12, getDinput());
}
FlopCount RmsNormGradOp::getFlopCount() { return vectorFlops(8, getDinput()); }
FlopCount SoftmaxGradOp::getFlopCount() { return vectorFlops(4, getResult()); }
FlopCount CrossEntropyGradOp::getFlopCount() {
  return vectorFlops(5, getLogits());
}
FlopCount AttentionGradOp::getFlopCount() {
  // Recomputed QKᵀ, then dP = dO·Vᵀ, dV = Pᵀ·dO, dQ = dS·K and dK = dSᵀ·Q.
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  int64_t tk = tensorType(getKey()).getShape()[2];
  int64_t dv = tensorType(getValue()).getShape()[3];
  int64_t scores = flopProduct({q[0], q[1], q[2], tk});
  FlopCount flops;
  flops.attention =
      flopSum(flopProduct({6, scores, q[3]}), flopProduct({4, scores, dv}));
  flops.vector = flopProduct({8, scores});
  return flops;
}

//===----------------------------------------------------------------------===//
// Optimizer ops
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

/// All dimensions of `whole` and `block` agree but `dim`, where `whole` is a
/// whole multiple of `block`: the shapes of a tensor and one rank's block.
static LogicalResult verifyBlockShapes(Operation *op, Value whole, Value block,
                                       int64_t dim, StringRef wholeName) {
  auto w = tensorType(whole), p = tensorType(block);
  if (dim < 0 || dim >= w.getRank() || w.getRank() != p.getRank())
    return op->emitOpError("dim ")
           << dim << " must name a dimension of both "
           << shapeString(w.getShape()) << " and " << shapeString(p.getShape());
  for (int64_t d = 0; d < w.getRank(); ++d) {
    bool ok = d == dim ? w.getDimSize(d) % p.getDimSize(d) == 0
                       : w.getDimSize(d) == p.getDimSize(d);
    if (!ok)
      return op->emitOpError("the ")
             << wholeName << " " << shapeString(w.getShape())
             << " must be the block " << shapeString(p.getShape())
             << " repeated along dim " << dim;
  }
  if (w.getElementType() != p.getElementType())
    return op->emitOpError("input and result must have one element type");
  return success();
}

LogicalResult AllGatherOp::verify() {
  return verifyBlockShapes(*this, getResult(), getInput(), getDim(), "result");
}
LogicalResult ReduceScatterOp::verify() {
  return verifyBlockShapes(*this, getInput(), getResult(), getDim(), "input");
}
LogicalResult ScatterToParallelOp::verify() {
  return verifyBlockShapes(*this, getInput(), getResult(), getDim(), "input");
}

LogicalResult GradNormOp::verify() {
  if (getGrads().empty())
    return emitOpError("needs at least one gradient");
  if (getSharded().has_value() != getAxis().has_value())
    return emitOpError("takes `axis` and `sharded` together");
  if (getSharded() && getSharded()->size() != getGrads().size())
    return emitOpError("has ")
           << getSharded()->size() << " `sharded` flags for "
           << getGrads().size() << " gradients";
  return success();
}

FlopCount AccumulateGradOp::getFlopCount() {
  return vectorFlops(1, getResult());
}

FlopCount GradNormOp::getFlopCount() {
  int64_t n = 0;
  for (Value g : getGrads())
    n = flopSum(n, numElements(g));
  return {0, 0, flopProduct({2, n})};
}

FlopCount AdamWOp::getFlopCount() { return vectorFlops(16, getParam()); }

//===----------------------------------------------------------------------===//
// Inference over a paged KV cache
//===----------------------------------------------------------------------===//

/// Checks `block_table` [B, M] and `positions` [B, T] against the batch B
/// and tokens T of a [B, H, T, D] tensor.
static LogicalResult checkPaging(const InferError &error,
                                 ArrayRef<int64_t> tokens, Value blockTable,
                                 Value positions) {
  auto table = tensorType(blockTable), pos = tensorType(positions);
  if (table.getRank() != 2 || table.getShape()[0] != tokens[0])
    return error("block_table must be [batch, blocks per sequence] with "
                 "batch " +
                 Twine(tokens[0]) + ", got " + shapeString(table.getShape()));
  if (pos.getRank() != 2 || pos.getShape()[0] != tokens[0] ||
      pos.getShape()[1] != tokens[2])
    return error("positions must be [batch, tokens] = [" + Twine(tokens[0]) +
                 ", " + Twine(tokens[2]) + "], got " +
                 shapeString(pos.getShape()));
  return success();
}

LogicalResult KVCacheWriteOp::verify() {
  InferError error{getLoc(), getOperationName()};
  auto x = tensorType(getInput()), cache = tensorType(getCache());
  if (x.getRank() != 4 || cache.getRank() != 4)
    return error("input must be [batch, heads, tokens, head_dim] and cache "
                 "[blocks, heads, block_tokens, head_dim], got " +
                 shapeString(x.getShape()) + " and " +
                 shapeString(cache.getShape()));
  if (x.getShape()[1] != cache.getShape()[1] ||
      x.getShape()[3] != cache.getShape()[3])
    return error("input " + shapeString(x.getShape()) + " and cache " +
                 shapeString(cache.getShape()) +
                 " differ in heads or head_dim");
  return checkPaging(error, x.getShape(), getBlockTable(), getPositions());
}

LogicalResult
PagedAttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                   Adaptor adaptor,
                                   SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto q = tensorType(adaptor.getQuery());
  auto k = tensorType(adaptor.getKeyCache());
  auto v = tensorType(adaptor.getValueCache());
  if (q.getRank() != 4 || k.getRank() != 4 || v.getRank() != 4)
    return error("query, key_cache and value_cache must have rank 4");
  ArrayRef<int64_t> qs = q.getShape(), ks = k.getShape(), vs = v.getShape();
  if (ks[0] != vs[0] || ks[1] != vs[1] || ks[2] != vs[2])
    return error("key_cache " + shapeString(ks) + " and value_cache " +
                 shapeString(vs) + " must agree in blocks, heads and tokens");
  if (qs[3] != ks[3])
    return error("query head_dim " + Twine(qs[3]) +
                 " differs from key head_dim " + Twine(ks[3]));
  if (ks[1] == 0 || qs[1] % ks[1] != 0)
    return error("kv heads (" + Twine(ks[1]) + ") must divide query heads (" +
                 Twine(qs[1]) + ")");
  if (auto scale = adaptor.getScaleAttr();
      scale && !(scale.getValueAsDouble() > 0.0))
    return error("scale must be positive");
  if (failed(checkPaging(error, qs, adaptor.getBlockTable(),
                         adaptor.getPositions())))
    return failure();
  inferred.push_back(
      RankedTensorType::get({qs[0], qs[1], qs[2], vs[3]}, q.getElementType()));
  return success();
}

double PagedAttentionOp::getScaleOrDefault() {
  return attentionScale(getScaleAttr(), getQuery());
}

// The attention a step computes: each token against the whole context it
// sees, at most the blocks of the table (the kernel skips what is past).
FlopCount PagedAttentionOp::getFlopCount() {
  ArrayRef<int64_t> q = tensorType(getQuery()).getShape();
  ArrayRef<int64_t> k = tensorType(getKeyCache()).getShape();
  int64_t context = tensorType(getBlockTable()).getShape()[1] * k[2];
  int64_t dv = tensorType(getValueCache()).getShape()[3];
  int64_t scores = flopProduct({q[0], q[1], q[2], context});
  FlopCount flops;
  flops.attention =
      flopSum(flopProduct({2, scores, q[3]}), flopProduct({2, scores, dv}));
  flops.vector = flopProduct({5, scores});
  return flops;
}

LogicalResult RopeAtOp::verify() {
  auto type = tensorType(getInput());
  if (type.getRank() != 4 || type.getShape()[3] % 2 != 0)
    return emitOpError("input must be (batch, heads, tokens, head_dim) with "
                       "head_dim even, got ")
           << shapeString(type.getShape());
  if (!(getTheta().convertToDouble() > 0.0))
    return emitOpError("theta must be positive");
  auto pos = tensorType(getPositions());
  if (pos.getRank() != 2 || pos.getShape()[0] != type.getShape()[0] ||
      pos.getShape()[1] != type.getShape()[2])
    return emitOpError("positions must be [batch, tokens], got ")
           << shapeString(pos.getShape());
  return success();
}

FlopCount RopeAtOp::getFlopCount() { return vectorFlops(3, getResult()); }

LogicalResult LastTokenOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  InferError error{loc, getOperationName()};
  auto x = tensorType(adaptor.getInput());
  auto pos = tensorType(adaptor.getPositions());
  if (x.getRank() != 3)
    return error("input must be [batch, tokens, hidden], got " +
                 shapeString(x.getShape()));
  if (pos.getShape() != x.getShape().drop_back())
    return error("positions " + shapeString(pos.getShape()) +
                 " must be input's [batch, tokens]");
  inferred.push_back(RankedTensorType::get({x.getShape()[0], x.getShape()[2]},
                                           x.getElementType()));
  return success();
}

#define GET_OP_CLASSES
#include "dialects/llm/IR/LLMOps.cpp.inc"
