//===- GeneralLowering.cpp - An ONNX graph op by op as llm ops ------------===//

#include "frontends/onnx/GeneralLowering.h"

#include "dialects/llm/IR/LLMOps.h"
#include "frontends/hf/ModelBuilder.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace mlir;
using namespace llmc::onnx_import;
/// The graph's values; mlir::Value is spelled in full.
using GraphValue = llmc::onnx_import::Value;
using llvm::formatv;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// ONNX's elementwise ops of one input, by the llm.unary kind they lower to.
const llvm::StringMap<const char *> &unaryKinds() {
  static const llvm::StringMap<const char *> kinds = {
      {"Neg", "neg"},
      {"Abs", "abs"},
      {"Relu", "relu"},
      {"Exp", "exp"},
      {"Log", "log"},
      {"Sqrt", "sqrt"},
      {"Reciprocal", "reciprocal"},
      {"Tanh", "tanh"},
      {"Sigmoid", "sigmoid"},
      {"Erf", "erf"},
      {"Sin", "sin"},
      {"Cos", "cos"},
      {"Floor", "floor"},
      {"Ceil", "ceil"}};
  return kinds;
}

/// Ops of two or more inputs folded left with one llm.binary kind.
const llvm::StringMap<const char *> &binaryKinds() {
  static const llvm::StringMap<const char *> kinds = {
      {"Add", "add"}, {"Sub", "sub"}, {"Mul", "mul"}, {"Div", "div"},
      {"Pow", "pow"}, {"Max", "max"}, {"Min", "min"}, {"Sum", "add"}};
  return kinds;
}

const llvm::StringMap<const char *> &reduceKinds() {
  static const llvm::StringMap<const char *> kinds = {
      {"ReduceSum", "sum"}, {"ReduceMean", "mean"}, {"ReduceMax", "max"},
      {"ReduceMin", "min"}, {"ReduceProd", "prod"}, {"ReduceSumSquare", "sum"}};
  return kinds;
}

/// A constant's elements as integers, clamped (INT64_MAX, an exporter's
/// "to the end", arrives as a double just past it).
std::vector<int64_t> toInts(const std::vector<double> &data) {
  std::vector<int64_t> ints;
  for (double d : data)
    ints.push_back(static_cast<int64_t>(
        std::clamp(std::isnan(d) ? 0.0 : d, -0x1p62, 0x1p62)));
  return ints;
}

/// The ops that only rearrange or rename elements: a view of the input in
/// its output's shape.
bool isReshapeLike(llvm::StringRef op) {
  return op == "Reshape" || op == "Squeeze" || op == "Unsqueeze";
}

/// A function argument's part: data, a trained weight, or a constant.
enum class ArgKind { Input, Param, Const };

/// The elements of a float weight, all finite (AdamW's decay would turn an
/// infinite one into NaN).
bool allFinite(const std::vector<float> &data) {
  return llvm::all_of(data, [](float x) { return std::isfinite(x); });
}

/// Whether a (rows x cols) weight `t` holds the transpose of `w`.
bool isTransposeOf(const GraphValue &t, const GraphValue &w) {
  if (t.rank() != 2 || w.rank() != 2 || t.shape[0] != w.shape[1] ||
      t.shape[1] != w.shape[0])
    return false;
  int64_t rows = t.shape[0], cols = t.shape[1];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (t.weight[r * cols + c] != w.weight[c * rows + r])
        return false;
  return true;
}

class Lowering {
public:
  Lowering(const Graph &g, MLIRContext &context, GeneralProgram program)
      : g(g), b(&context), loc(b.getUnknownLoc()), program(program) {}

  llvm::Expected<LoweredGraph> run();

private:
  const Graph &g;
  OpBuilder b;
  Location loc;
  GeneralProgram program;
  Block *body = nullptr;
  llvm::DenseMap<const GraphValue *, mlir::Value> values;
  /// Weights by the name a node read them under: to train, each name a
  /// deduplicated export gave one stored tensor is its own parameter.
  llvm::StringMap<mlir::Value> weights;
  std::vector<std::string> argNames; // per block argument
  std::vector<ArgKind> argKinds;
  LoweredGraph result;

  bool training() const { return program == GeneralProgram::Loss; }
  mlir::Value addArgument(Type type, const std::string &name, ArgKind kind) {
    argNames.push_back(name);
    argKinds.push_back(kind);
    return body->addArgument(type, loc);
  }
  mlir::Value constant(const GraphValue &v);
  mlir::Value weight(const GraphValue &v, const std::string &name);
  llvm::Expected<mlir::Value> lossOf(mlir::Value targets);

  RankedTensorType tensorOf(const GraphValue &v) {
    return RankedTensorType::get(v.shape, b.getF32Type());
  }
  /// `anyConstant`: an integer or bool constant is read as floats (a
  /// Where's condition). `usedName`: the name the node read `v` under.
  llvm::Expected<mlir::Value> operand(const GraphValue *v,
                                      const std::string &user,
                                      bool anyConstant = false,
                                      llvm::StringRef usedName = {});
  llvm::Expected<mlir::Value> in(const Node &n, size_t i);
  llvm::Error lowerNode(const Node &n);
  llvm::Error lowerLayerNorm(const Node &n);
  llvm::Error lowerGemm(const Node &n);
  llvm::Error lowerGather(const Node &n);
  llvm::Error bind(const Node &n, mlir::Value v);

  mlir::Value splat(llvm::ArrayRef<int64_t> shape, float value) {
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(RankedTensorType::get(shape, b.getF32Type()),
                               value));
  }
  mlir::Value binary(mlir::Value x, mlir::Value y, llvm::StringRef kind) {
    return llm::BinaryOp::create(b, loc, x, y, b.getStringAttr(kind));
  }
  mlir::Value unary(mlir::Value x, llvm::StringRef kind) {
    return llm::UnaryOp::create(b, loc, x, b.getStringAttr(kind));
  }
  mlir::Value transpose(mlir::Value x, llvm::ArrayRef<int64_t> perm) {
    return llm::TransposeOp::create(b, loc, x, b.getDenseI64ArrayAttr(perm));
  }
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(
        shape, cast<RankedTensorType>(x.getType()).getElementType());
    return llm::ReshapeOp::create(b, loc, type, x);
  }
};

/// The llm value of `v`, read by `user` (for errors): an earlier result, a
/// graph input, or a constant or weight, an argument from its first read.
llvm::Expected<mlir::Value> Lowering::operand(const GraphValue *v,
                                              const std::string &user,
                                              bool anyConstant,
                                              llvm::StringRef usedName) {
  if (!v)
    return fail(user + ": an input is missing");
  if (auto it = values.find(v); it != values.end())
    return it->second;
  if (!v->isConstant && !v->isWeight)
    return fail(user + ": input '" + v->name + "' is not computed");
  if (v->type != ElementType::Float && !(anyConstant && v->isConstant))
    return fail(user + ": input '" + v->name +
                "' is an integer or bool constant; the general lowering "
                "reads float32 tensors only");
  if (v->isConstant)
    return values[v] = constant(*v);
  return weight(*v, usedName.empty() || !training() ? v->name : usedName.str());
}

/// A folded constant: one value everywhere is a splat (a fill in the
/// plan); others are read from the weights file and never trained.
mlir::Value Lowering::constant(const GraphValue &v) {
  std::vector<float> data;
  for (double d : v.data) // past float's range: infinite, not UB
    data.push_back(std::fabs(d) > 3.4028234663852886e38
                       ? std::copysign(INFINITY, d)
                       : static_cast<float>(d));
  if (!data.empty() &&
      llvm::all_of(data, [&](float x) { return x == data[0]; }) &&
      !std::isnan(data[0]))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(tensorOf(v), data[0]));
  result.constants.push_back({v.name, v.shape, std::move(data)});
  return addArgument(tensorOf(v), v.name, ArgKind::Const);
}

/// A weight, a parameter by `name`. To train, a weight whose transpose is
/// stored under a module's name (the exporter folded a tied LM head into a
/// transposed copy of the embedding) is read as that one, transposed, so
/// both uses train one tensor; one with infinities stays constant.
mlir::Value Lowering::weight(const GraphValue &v, const std::string &name) {
  if (auto it = weights.find(name); it != weights.end())
    return it->second;
  mlir::Value arg;
  if (training() && llvm::StringRef(v.name).starts_with("onnx::"))
    for (const GraphValue &w : g.values())
      if (w.isWeight && !llvm::StringRef(w.name).starts_with("onnx::") &&
          isTransposeOf(v, w)) {
        arg = llm::TransposeOp::create(b, loc, weight(w, w.name),
                                       b.getDenseI64ArrayAttr({1, 0}));
        break;
      }
  if (!arg) {
    result.constants.push_back({name, v.shape, v.weight});
    arg = addArgument(tensorOf(v), name,
                      !training() || allFinite(v.weight) ? ArgKind::Param
                                                         : ArgKind::Const);
  }
  return weights[name] = arg;
}

/// Records `v` as output 0 of `n`, whose shape the graph computed.
llvm::Error Lowering::bind(const Node &n, mlir::Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getShape() != llvm::ArrayRef(n.outputs[0]->shape))
    return fail(n.describe() + ": lowered to a result of another shape "
                               "than the graph's (an llmc bug)");
  values[n.outputs[0]] = v;
  return llvm::Error::success();
}

/// Input `i` of `n` as a float operand: integer inputs are token ids, which
/// only Gather reads.
llvm::Expected<mlir::Value> Lowering::in(const Node &n, size_t i) {
  llvm::StringRef usedName;
  if (n.proto && int(i) < n.proto->input_size())
    usedName = n.proto->input(int(i));
  auto v = operand(n.input(i), n.describe(), false, usedName);
  if (v && !cast<RankedTensorType>(v->getType()).getElementType().isF32())
    return fail(n.describe() + ": input '" + n.input(i)->name +
                "' holds integer ids, which only Gather reads");
  return v;
}

/// LayerNormalization over the axes from `axis` on: the fused llm.layer_norm
/// for the usual last-axis form with a bias and Y alone used, else its
/// arithmetic in general ops (any axis, no bias, the Mean and InvStdDev
/// outputs).
llvm::Error Lowering::lowerLayerNorm(const Node &n) {
  const GraphValue *xv = n.input(0);
  if (!xv || !n.input(1) || xv->rank() == 0)
    return fail(n.describe() + ": a LayerNorm needs data of rank 1 or more "
                               "and a scale");
  int64_t rank = xv->rank(), axis = n.attrInt("axis", -1);
  if (axis < 0)
    axis += rank;
  float epsilon = n.attrFloat("epsilon", 1e-5f);
  if (axis < 0 || axis >= rank || !(epsilon >= 0) || !std::isfinite(epsilon))
    return fail(n.describe() + ": axis " +
                std::to_string(n.attrInt("axis", -1)) +
                " out of range, or epsilon not a finite non-negative number");
  auto x = in(n, 0), w = in(n, 1);
  if (!x)
    return x.takeError();
  if (!w)
    return w.takeError();
  std::optional<mlir::Value> bias;
  if (n.input(2)) {
    auto v = in(n, 2);
    if (!v)
      return v.takeError();
    bias = *v;
  }
  auto used = [&](size_t i) {
    return i < n.outputs.size() && n.outputs[i] &&
           !n.outputs[i]->name.empty() &&
           (!n.outputs[i]->users.empty() ||
            llvm::is_contained(g.outputs(), n.outputs[i]));
  };
  std::vector<int64_t> row{xv->shape.back()};
  if (axis == rank - 1 && bias && n.input(1)->shape == row &&
      n.input(2)->shape == row && epsilon > 0 && !used(1) && !used(2))
    return bind(n, llm::LayerNormOp::create(b, loc, *x, *w, *bias,
                                            b.getF64FloatAttr(epsilon))
                       .getResult());
  llvm::SmallVector<int64_t> dims;
  for (int64_t d = axis; d < rank; ++d)
    dims.push_back(d);
  auto mean = [&](mlir::Value v) -> mlir::Value {
    return llm::ReduceOp::create(b, loc, v, b.getStringAttr("mean"),
                                 b.getDenseI64ArrayAttr(dims), true);
  };
  mlir::Value mu = mean(*x);
  mlir::Value centered = binary(*x, mu, "sub");
  mlir::Value variance = mean(binary(centered, centered, "mul"));
  mlir::Value invStd = unary(
      unary(binary(variance, splat({}, epsilon), "add"), "sqrt"), "reciprocal");
  mlir::Value y = binary(binary(centered, invStd, "mul"), *w, "mul");
  if (bias)
    y = binary(y, *bias, "add");
  for (auto [i, v] :
       llvm::enumerate(llvm::ArrayRef<mlir::Value>{y, mu, invStd}))
    if (i < n.outputs.size() && n.outputs[i]) {
      if (cast<RankedTensorType>(v.getType()).getShape() !=
          llvm::ArrayRef(n.outputs[i]->shape))
        return fail(n.describe() + ": lowered to a result of another shape "
                                   "than the graph's (an llmc bug)");
      values[n.outputs[i]] = v;
    }
  return llvm::Error::success();
}

/// Gemm: alpha·A'·B' + beta·C, C broadcast; the plain A·B(ᵀ) + bias vector
/// is one llm.matmul with its bias.
llvm::Error Lowering::lowerGemm(const Node &n) {
  const GraphValue *c = n.input(2);
  if (!n.input(0) || !n.input(1) || n.input(0)->rank() != 2 ||
      n.input(1)->rank() != 2)
    return fail(n.describe() + ": Gemm takes two matrices");
  auto a = in(n, 0), w = in(n, 1);
  if (!a)
    return a.takeError();
  if (!w)
    return w.takeError();
  std::optional<mlir::Value> cv;
  if (c) {
    auto v = in(n, 2);
    if (!v)
      return v.takeError();
    cv = *v;
  }
  bool transA = n.attrInt("transA", 0), transB = n.attrInt("transB", 0);
  float alpha = n.attrFloat("alpha", 1), beta = n.attrFloat("beta", 1);
  if (!transA && alpha == 1 && beta == 1 &&
      (!c || c->shape == std::vector<int64_t>{n.outputs[0]->shape.back()}))
    return bind(n, llm::MatmulOp::create(
                       b, loc, *a, *w, cv ? *cv : mlir::Value(), false, transB)
                       .getResult());
  mlir::Value y =
      llm::MatmulOp::create(b, loc, transA ? transpose(*a, {1, 0}) : *a, *w,
                            mlir::Value(), false, transB);
  if (alpha != 1)
    y = binary(y, splat({}, alpha), "mul");
  if (cv)
    y = binary(y, beta != 1 ? binary(*cv, splat({}, beta), "mul") : *cv, "add");
  return bind(n, y);
}

/// Gather of a float tensor along any axis: by run-time integer ids, the
/// axis moved first and the rest flattened into rows of an llm.embedding
/// (the ids must lie in 0..n-1); by constant indices (negative ones count
/// from the end), slices of the axis concatenated.
llvm::Error Lowering::lowerGather(const Node &n) {
  const GraphValue *data = n.input(0), *ids = n.input(1);
  if (!data || !ids || data->rank() == 0 || data->type != ElementType::Float)
    return fail(n.describe() + ": Gather takes float data of rank 1 or more "
                               "and indices");
  int64_t rank = data->rank(), axis = n.attrInt("axis", 0);
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    return fail(n.describe() + ": axis " +
                std::to_string(n.attrInt("axis", 0)) + " is out of range");
  auto x = in(n, 0);
  if (!x)
    return x.takeError();
  int64_t size = data->shape[axis];
  const std::vector<int64_t> &outShape = n.outputs[0]->shape;
  if (ids->isConstant) {
    std::vector<int64_t> indices = toInts(ids->data);
    if (indices.empty() || indices.size() > 256)
      return fail(n.describe() + ": a Gather of " +
                  std::to_string(indices.size()) +
                  " constant indices (1 to 256 are lowered)");
    llvm::SmallVector<mlir::Value> pieces;
    std::vector<int64_t> sliceShape = data->shape;
    sliceShape[axis] = 1;
    for (int64_t i : indices) {
      if (i < -size || i >= size)
        return fail(n.describe() + ": index " + std::to_string(i) +
                    " is out of range for an axis of " + std::to_string(size));
      llvm::SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
      offsets[axis] = i < 0 ? i + size : i;
      pieces.push_back(tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get(sliceShape, b.getF32Type()), *x,
          ValueRange{}, ValueRange{}, ValueRange{},
          b.getDenseI64ArrayAttr(offsets), b.getDenseI64ArrayAttr(sliceShape),
          b.getDenseI64ArrayAttr(strides)));
    }
    mlir::Value v =
        pieces.size() == 1
            ? pieces[0]
            : llm::ConcatOp::create(b, loc, pieces, b.getI64IntegerAttr(axis))
                  .getResult();
    return bind(n, reshape(v, outShape));
  }
  auto idsValue = values.find(ids);
  if (idsValue == values.end() || ids->rank() == 0 ||
      !isa<IntegerType>(
          cast<RankedTensorType>(idsValue->second.getType()).getElementType()))
    return fail(n.describe() + ": Gather's indices must be constants or "
                               "run-time integer ids of rank 1 or more");
  // [axis, the other axes in order] as rows: [size, rest].
  std::vector<int64_t> perm{axis}, others;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis) {
      perm.push_back(d);
      others.push_back(data->shape[d]);
    }
  int64_t rest = std::accumulate(others.begin(), others.end(), int64_t(1),
                                 std::multiplies<int64_t>());
  mlir::Value table =
      reshape(axis == 0 ? *x : transpose(*x, perm), {size, rest});
  std::vector<int64_t> rows = ids->shape;
  rows.push_back(rest);
  mlir::Value v = llm::EmbeddingOp::create(
      b, loc, RankedTensorType::get(rows, b.getF32Type()), table,
      idsValue->second, StringAttr());
  // [ids..., others...] -> data[:axis] + ids + data[axis+1:].
  std::vector<int64_t> gathered = ids->shape;
  gathered.insert(gathered.end(), others.begin(), others.end());
  v = reshape(v, gathered);
  if (axis > 0) {
    int64_t q = ids->rank();
    llvm::SmallVector<int64_t> order;
    for (int64_t d = 0; d < axis; ++d)
      order.push_back(q + d);
    for (int64_t d = 0; d < q; ++d)
      order.push_back(d);
    for (int64_t d = q + axis; d < int64_t(gathered.size()); ++d)
      order.push_back(d);
    v = transpose(v, order);
  }
  return bind(n, v);
}

llvm::Error Lowering::lowerNode(const Node &n) {
  llvm::StringRef op = n.op;
  // A float operand: integer inputs are token ids, which only Gather reads.
  auto in = [&](size_t i) { return Lowering::in(n, i); };
  auto unsupported = [&](const llvm::Twine &why) {
    return fail(n.describe() + ": " + why);
  };
  if (op == "Split") {
    // The pieces' sizes are the outputs' (the graph folded the split).
    auto x = in(0);
    if (!x)
      return x.takeError();
    int64_t rank = n.input(0)->rank(), axis = n.attrInt("axis", 0);
    if (axis < 0)
      axis += rank;
    llvm::SmallVector<Type> types;
    for (const GraphValue *v : n.outputs)
      types.push_back(tensorOf(*v));
    auto split =
        llm::SplitOp::create(b, loc, types, *x, b.getI64IntegerAttr(axis));
    for (auto [v, piece] : llvm::zip(n.outputs, split.getResults()))
      values[v] = piece;
    return llvm::Error::success();
  }
  if (op == "LayerNormalization")
    return lowerLayerNorm(n);
  if (n.outputs.size() != 1)
    return unsupported("only single-output ops are lowered");
  if (op == "Concat") {
    llvm::SmallVector<mlir::Value> pieces;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      auto x = in(i);
      if (!x)
        return x.takeError();
      // A piece of size 0 adds nothing (and kernels take no empty tensor).
      if (n.input(i)->numElements() > 0)
        pieces.push_back(*x);
    }
    int64_t rank = n.outputs[0]->rank(), axis = n.attrInt("axis", 0);
    if (axis < 0)
      axis += rank;
    if (pieces.size() == 1)
      return bind(n, pieces[0]);
    return bind(n,
                llm::ConcatOp::create(b, loc, pieces, b.getI64IntegerAttr(axis))
                    .getResult());
  }
  if (op == "Identity") {
    auto x = in(0);
    if (!x)
      return x.takeError();
    return bind(n, *x);
  }
  if (auto it = unaryKinds().find(op); it != unaryKinds().end()) {
    auto x = in(0);
    if (!x)
      return x.takeError();
    return bind(n, llm::UnaryOp::create(b, loc, *x, b.getStringAttr(it->second))
                       .getResult());
  }
  if (auto it = binaryKinds().find(op); it != binaryKinds().end()) {
    auto acc = in(0);
    if (!acc)
      return acc.takeError();
    mlir::Value v = *acc;
    for (size_t i = 1; i < n.inputs.size(); ++i) {
      auto x = in(i);
      if (!x)
        return x.takeError();
      v = llm::BinaryOp::create(b, loc, v, *x, b.getStringAttr(it->second))
              .getResult();
    }
    return bind(n, v);
  }
  if (auto it = reduceKinds().find(op); it != reduceKinds().end()) {
    auto x = in(0);
    if (!x)
      return x.takeError();
    mlir::Value v = *x;
    int64_t rank = n.input(0)->rank();
    std::optional<std::vector<int64_t>> axes = n.attrInts("axes");
    if (op == "ReduceSum" && n.input(1)) {
      const GraphValue *a = n.input(1);
      if (!a->isConstant)
        return unsupported("axes are computed at run time");
      axes = toInts(a->data);
    }
    if (n.attrInt("noop_with_empty_axes", 0) && (!axes || axes->empty()))
      return bind(n, v);
    llvm::SmallVector<int64_t> dims;
    if (!axes || axes->empty()) {
      dims.resize(rank);
      std::iota(dims.begin(), dims.end(), 0);
    }
    for (int64_t a : axes ? *axes : std::vector<int64_t>{}) {
      int64_t d = a < 0 ? a + rank : a;
      if (d < 0 || d >= rank)
        return unsupported(formatv("axis {0} is out of range", a));
      dims.push_back(d);
    }
    llvm::sort(dims);
    dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
    if (op == "ReduceSumSquare")
      v = llm::BinaryOp::create(b, loc, v, v, b.getStringAttr("mul"));
    bool keep = n.attrInt("keepdims", 1);
    return bind(n, llm::ReduceOp::create(b, loc, v, b.getStringAttr(it->second),
                                         b.getDenseI64ArrayAttr(dims), keep)
                       .getResult());
  }
  if (op == "Cast") {
    const GraphValue *x = n.input(0);
    if (!x || x->type != ElementType::Float ||
        n.outputs[0]->type != ElementType::Float)
      return unsupported("only casts between float types are lowered (the "
                         "plan computes in float32)");
    auto v = in(0);
    if (!v)
      return v.takeError();
    return bind(n, *v);
  }
  if (op == "Gather")
    return lowerGather(n);
  if (op == "Expand") {
    // Broadcast to the graph's output shape: a product with ones of it.
    auto x = in(0);
    if (!x)
      return x.takeError();
    return bind(n, binary(*x, splat(n.outputs[0]->shape, 1.0f), "mul"));
  }
  if (op == "Where") {
    auto c = operand(n.input(0), n.describe(), /*anyConstant=*/true);
    if (!c)
      return c.takeError();
    auto x = in(1), y = in(2);
    if (!x)
      return x.takeError();
    if (!y)
      return y.takeError();
    return bind(n, llm::WhereOp::create(b, loc, *c, *x, *y).getResult());
  }
  if (op == "Gemm")
    return lowerGemm(n);
  if (op == "Slice") {
    // Every step-th element (backwards for a negative step) from constant
    // offsets.
    const GraphValue *x = n.input(0);
    if (!x)
      return unsupported("no data to slice");
    int64_t rank = x->rank();
    auto constInts = [&](size_t i) -> std::optional<std::vector<int64_t>> {
      const GraphValue *v = n.input(i);
      if (!v || !v->isConstant)
        return std::nullopt;
      return toInts(v->data);
    };
    auto starts = constInts(1), ends = constInts(2);
    auto axes = constInts(3), steps = constInts(4);
    if (!starts || !ends || (n.input(3) && !axes) || (n.input(4) && !steps))
      return unsupported("slice bounds computed at run time");
    if (ends->size() != starts->size() ||
        (axes && axes->size() != starts->size()) ||
        (steps && steps->size() != starts->size()))
      return unsupported("starts, ends, axes and steps of different lengths");
    std::vector<int64_t> offsets(rank, 0);
    llvm::SmallVector<int64_t> strides(rank, 1);
    for (size_t i = 0; i < starts->size(); ++i) {
      int64_t axis = axes ? (*axes)[i] : int64_t(i);
      if (axis < 0)
        axis += rank;
      int64_t step = steps ? (*steps)[i] : 1;
      if (axis < 0 || axis >= rank || step == 0)
        return unsupported("only nonzero steps on axes in range are lowered");
      int64_t dim = x->shape[axis], start = (*starts)[i];
      if (start < 0)
        start += dim;
      // Backwards from the last element at most.
      offsets[axis] = std::clamp<int64_t>(start, 0, step > 0 ? dim : dim - 1);
      strides[axis] = step;
    }
    auto v = in(0);
    if (!v)
      return v.takeError();
    return bind(n,
                tensor::ExtractSliceOp::create(
                    b, loc, tensorOf(*n.outputs[0]), *v, ValueRange{},
                    ValueRange{}, ValueRange{}, b.getDenseI64ArrayAttr(offsets),
                    b.getDenseI64ArrayAttr(n.outputs[0]->shape),
                    b.getDenseI64ArrayAttr(strides))
                    .getResult());
  }
  if (op == "Softmax") {
    auto x = in(0);
    if (!x)
      return x.takeError();
    int64_t rank = n.input(0)->rank(), axis = n.attrInt("axis", -1);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return unsupported("axis out of range");
    mlir::Value v = *x;
    // llmc's softmax runs along the last axis: another axis is swapped
    // with it and back.
    llvm::SmallVector<int64_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[axis], perm[rank - 1]);
    bool swap = axis != rank - 1;
    if (swap)
      v = llm::TransposeOp::create(b, loc, v, b.getDenseI64ArrayAttr(perm));
    v = llm::SoftmaxOp::create(b, loc, v, b.getI64IntegerAttr(-1));
    if (swap)
      v = llm::TransposeOp::create(b, loc, v, b.getDenseI64ArrayAttr(perm));
    return bind(n, v);
  }
  if (op == "MatMul") {
    auto lhs = in(0), rhs = in(1);
    if (!lhs)
      return lhs.takeError();
    if (!rhs)
      return rhs.takeError();
    const GraphValue &a = *n.input(0), &w = *n.input(1);
    bool shared = w.rank() == 2;
    bool batched =
        a.rank() == w.rank() &&
        std::equal(a.shape.begin(), a.shape.end() - 2, w.shape.begin());
    if (a.rank() < 2 || w.rank() < 2 || !(shared || batched))
      return unsupported("operands " + std::to_string(a.rank()) + "-d and " +
                         std::to_string(w.rank()) +
                         "-d: llmc multiplies [..., M, K] by [K, N] or by "
                         "[..., K, N] of the same batch dimensions");
    return bind(n, llm::MatmulOp::create(b, loc, *lhs, *rhs, mlir::Value(),
                                         false, false)
                       .getResult());
  }
  if (op == "Transpose") {
    auto x = in(0);
    if (!x)
      return x.takeError();
    int64_t rank = n.input(0)->rank();
    std::vector<int64_t> perm(rank);
    std::iota(perm.rbegin(), perm.rend(), 0); // ONNX's default: reversed
    if (auto p = n.attrInts("perm"))
      perm = *p;
    return bind(
        n, llm::TransposeOp::create(b, loc, *x, b.getDenseI64ArrayAttr(perm))
               .getResult());
  }
  if (isReshapeLike(op)) {
    auto x = in(0);
    if (!x)
      return x.takeError();
    return bind(n, llm::ReshapeOp::create(b, loc, tensorOf(*n.outputs[0]), *x)
                       .getResult());
  }
  return unsupported("not supported by the general lowering "
                     "(frontends/onnx/README.md lists what is)");
}

/// @loss's value: the mean cross-entropy of the graph's logits (its only
/// output, or the one named "logits": [batch, seq, vocab]) against the
/// next tokens, `targets`.
llvm::Expected<mlir::Value> Lowering::lossOf(mlir::Value targets) {
  const GraphValue *logits = nullptr;
  for (const GraphValue *v : g.outputs())
    if (g.outputs().size() == 1 || v->name == "logits")
      logits = v;
  if (!logits)
    return fail("--mode train: the graph has " +
                std::to_string(g.outputs().size()) +
                " outputs and none named 'logits' to train on");
  auto ids = cast<RankedTensorType>(targets.getType()).getShape();
  if (logits->rank() != 3 || logits->shape[0] != ids[0] ||
      logits->shape[1] != ids[1])
    return fail(
        formatv("--mode train: graph output '{0}' has shape [{1}]; "
                "a language model's logits are [batch, seq, vocab] "
                "= [{2}, {3}, vocab]",
                logits->name,
                llvm::make_range(logits->shape.begin(), logits->shape.end()),
                ids[0], ids[1])
            .str());
  auto x = operand(logits, "graph output '" + logits->name + "'");
  if (!x)
    return x.takeError();
  return llm::CrossEntropyOp::create(b, loc, *x, targets, StringAttr())
      .getResult();
}

llvm::Expected<LoweredGraph> Lowering::run() {
  result.module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(result.module->getBody());
  auto func = func::FuncOp::create(
      b, loc, training() ? llmc::kLossFuncName : llmc::kForwardFuncName,
      b.getFunctionType(TypeRange{}, TypeRange{}));
  body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  for (size_t i = 0; i < g.inputs().size(); ++i) {
    const GraphValue *v = g.inputs()[i];
    // Integer inputs are token ids (read by Gather), as int32.
    Type type = v->type == ElementType::Int
                    ? Type(RankedTensorType::get(v->shape, b.getI32Type()))
                    : Type(tensorOf(*v));
    if (v->type == ElementType::Bool)
      return fail("graph input '" + v->name +
                  "': the general lowering takes float32 and integer inputs");
    values[v] = addArgument(type, v->name, ArgKind::Input);
  }
  // To train, the graph reads one batch of token ids (named input_ids in
  // the plan, as the training loop feeds them) and the loss reads the
  // next tokens, `targets`, of the same shape.
  mlir::Value targets;
  if (training()) {
    const GraphValue *ids = g.inputs().size() == 1 ? g.inputs()[0] : nullptr;
    if (!ids || ids->type != ElementType::Int || ids->rank() != 2)
      return fail("--mode train: a graph lowered op by op trains from one "
                  "input, token ids of shape [batch, seq]; this one takes " +
                  std::to_string(g.inputs().size()) + " inputs" +
                  (ids ? " ('" + ids->name + "', not integer [batch, seq])"
                       : std::string()));
    argNames[0] = "input_ids";
    targets = addArgument(values[ids].getType(), "targets", ArgKind::Input);
  }
  for (const Node &n : g.nodes()) {
    // Folded nodes (their outputs are constants) and weights renamed by
    // Identity leave nothing to compute.
    bool computes = llvm::any_of(n.outputs, [](const GraphValue *v) {
      return !v->isConstant && !v->isWeight;
    });
    if (!computes || (n.op == "Identity" && n.input(0) && n.input(0)->isWeight))
      continue;
    if (llvm::Error e = lowerNode(n))
      return std::move(e);
    ++result.nodesLowered;
  }
  llvm::SmallVector<mlir::Value> outs;
  llvm::SmallVector<std::string> outNames;
  if (training()) {
    auto loss = lossOf(targets);
    if (!loss)
      return loss.takeError();
    outs.push_back(*loss);
    outNames.push_back("loss");
  }
  for (const GraphValue *v :
       training() ? std::vector<GraphValue *>{} : g.outputs()) {
    if (v->type != ElementType::Float)
      return fail("graph output '" + v->name +
                  "': the general lowering returns float32 tensors only");
    // A constant output is returned from its constant.
    auto out = operand(v, "graph output '" + v->name + "'");
    if (!out)
      return out.takeError();
    outs.push_back(*out);
    outNames.push_back(v->name);
  }
  func::ReturnOp::create(b, loc, outs);
  func.setType(
      b.getFunctionType(body->getArgumentTypes(), ValueRange(outs).getTypes()));
  for (size_t i = 0; i < argNames.size(); ++i)
    func.setArgAttr(
        i,
        argKinds[i] == ArgKind::Param   ? llm::LLMDialect::kParamAttrName
        : argKinds[i] == ArgKind::Const ? llm::LLMDialect::kConstAttrName
                                        : llm::LLMDialect::kInputAttrName,
        b.getStringAttr(argNames[i]));
  for (auto [i, name] : llvm::enumerate(outNames))
    func.setResultAttr(i, llm::LLMDialect::kOutputAttrName,
                       b.getStringAttr(name));
  // What the checks above let through is refused here, in one line.
  std::string first;
  {
    ScopedDiagnosticHandler handler(b.getContext(), [&](Diagnostic &d) {
      if (first.empty())
        first = d.str();
      return success();
    });
    if (failed(mlir::verify(*result.module)))
      return fail("the graph lowers to invalid llm IR: " + first);
  }
  return std::move(result);
}

} // namespace

llvm::Expected<LoweredGraph>
llmc::onnx_import::lowerGeneral(const Graph &graph, mlir::MLIRContext &context,
                                GeneralProgram program) {
  context.loadDialect<llm::LLMDialect, func::FuncDialect, tensor::TensorDialect,
                      arith::ArithDialect>();
  Lowering lowering(graph, context, program);
  return lowering.run();
}
