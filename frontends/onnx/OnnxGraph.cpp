//===- OnnxGraph.cpp - An ONNX graph at concrete shapes, folded -----------===//
//
// One pass over the nodes in their (topological) order: a node whose inputs
// are all constants is evaluated here; any other node gets its output shapes
// from the op's shape rule. Opsets 13-17 differ only in where some operands
// live (Split/Squeeze/Unsqueeze axes as attribute or input, ReduceMean axes
// as attribute); both forms are read here, so later stages see one form.
//
//===----------------------------------------------------------------------===//

#include "frontends/onnx/OnnxGraph.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

using namespace llmc::onnx_import;
using llvm::formatv;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The most elements a value the importer reasons about may have (as every
/// tensor of a model llmc compiles), and the most it folds into a constant:
/// folded values are held as doubles, and no real export folds more than a
/// mask or a position table.
constexpr int64_t kMaxElements = int64_t(1) << 40;
constexpr int64_t kMaxFoldedElements = int64_t(1) << 26;

/// The product of `shape`, or -1 when a dimension is negative or the product
/// passes kMaxElements (checked before each multiplication, so it never
/// overflows).
int64_t checkedProduct(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > kMaxElements / d))
      return -1;
    n *= d;
  }
  return n;
}

/// An integer held as a double: exporters write INT64_MAX for "to the end",
/// and doubles outside the int64 range must not convert (undefined
/// behaviour), so they saturate; NaN has no integer.
std::optional<int64_t> toInt(double d) {
  if (std::isnan(d))
    return std::nullopt;
  return d >= 0x1p63    ? INT64_MAX
         : d <= -0x1p63 ? INT64_MIN
                        : static_cast<int64_t>(d);
}

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

std::optional<ElementType> elementType(int32_t onnxType) {
  switch (onnxType) {
  case onnx::TensorProto::FLOAT:
  case onnx::TensorProto::FLOAT16:
  case onnx::TensorProto::DOUBLE:
  case onnx::TensorProto::BFLOAT16:
    return ElementType::Float;
  case onnx::TensorProto::BOOL:
    return ElementType::Bool;
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT64:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    return ElementType::Int;
  default:
    return std::nullopt;
  }
}

/// Numpy broadcasting of two shapes; nullopt when they do not broadcast.
std::optional<std::vector<int64_t>> broadcast(std::vector<int64_t> a,
                                              std::vector<int64_t> b) {
  if (a.size() < b.size())
    std::swap(a, b);
  b.insert(b.begin(), a.size() - b.size(), 1);
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i] || b[i] == 1)
      continue;
    if (a[i] != 1)
      return std::nullopt;
    a[i] = b[i];
  }
  return a;
}

/// Offsets into `in` (shape `inShape`, broadcast to `outShape`) of every
/// element of the output.
std::vector<int64_t> broadcastOffsets(const std::vector<int64_t> &inShape,
                                      const std::vector<int64_t> &outShape) {
  std::vector<int64_t> padded(outShape.size() - inShape.size(), 1);
  padded.insert(padded.end(), inShape.begin(), inShape.end());
  std::vector<int64_t> inStrides = stridesOf(padded);
  for (size_t i = 0; i < padded.size(); ++i)
    if (padded[i] == 1)
      inStrides[i] = 0;
  int64_t n = product(outShape);
  std::vector<int64_t> offsets(n);
  if (padded == outShape) { // no broadcast: element e is element e
    std::iota(offsets.begin(), offsets.end(), int64_t(0));
    return offsets;
  }
  // An odometer over the output's index, the offset kept as it turns (a
  // division per dimension and element made large folds crawl under the
  // sanitizers).
  const size_t rank = outShape.size();
  std::vector<int64_t> index(rank, 0);
  int64_t *at = index.data(), *dst = offsets.data();
  const int64_t *stride = inStrides.data(), *extent = outShape.data();
  int64_t off = 0;
  for (int64_t e = 0; e < n; ++e) {
    dst[e] = off;
    for (size_t i = rank; i-- > 0;) {
      off += stride[i];
      if (++at[i] < extent[i])
        break;
      off -= stride[i] * extent[i];
      at[i] = 0;
    }
  }
  return offsets;
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

bool isUnaryMath(llvm::StringRef op) {
  return llvm::is_contained({"Sqrt", "Neg", "Reciprocal", "Cos", "Sin", "Exp",
                             "Tanh", "Erf", "Sigmoid", "Relu", "Not", "Abs",
                             "Floor", "Ceil", "Log"},
                            op);
}

bool isBinaryMath(llvm::StringRef op) {
  return llvm::is_contained({"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less",
                             "Greater", "And", "Or", "Max", "Min"},
                            op);
}

// The folding of one unary or binary op, chosen once per node by its name
// (not once per element: large folds crawl under the sanitizers).
using UnaryFn = double (*)(double);
using BinaryFn = double (*)(double, double);

UnaryFn unaryMath(llvm::StringRef op) {
  return llvm::StringSwitch<UnaryFn>(op)
      .Case("Sqrt", [](double x) { return std::sqrt(x); })
      .Case("Neg", [](double x) { return -x; })
      .Case("Reciprocal", [](double x) { return 1.0 / x; })
      .Case("Cos", [](double x) { return std::cos(x); })
      .Case("Sin", [](double x) { return std::sin(x); })
      .Case("Exp", [](double x) { return std::exp(x); })
      .Case("Tanh", [](double x) { return std::tanh(x); })
      .Case("Erf", [](double x) { return std::erf(x); })
      .Case("Sigmoid", [](double x) { return 1.0 / (1.0 + std::exp(-x)); })
      .Case("Relu", [](double x) { return x > 0 ? x : 0.0; })
      .Case("Not", [](double x) { return double(x == 0); })
      .Case("Abs", [](double x) { return std::fabs(x); })
      .Case("Floor", [](double x) { return std::floor(x); })
      .Case("Ceil", [](double x) { return std::ceil(x); })
      .Default([](double x) { return std::log(x); }); // Log
}

BinaryFn binaryMath(llvm::StringRef op, bool integer) {
  if (op == "Div")
    return integer
               ? BinaryFn([](double a, double b) { return std::trunc(a / b); })
               : BinaryFn([](double a, double b) { return a / b; });
  return llvm::StringSwitch<BinaryFn>(op)
      .Case("Add", [](double a, double b) { return a + b; })
      .Case("Sub", [](double a, double b) { return a - b; })
      .Case("Mul", [](double a, double b) { return a * b; })
      .Case("Pow", [](double a, double b) { return std::pow(a, b); })
      .Case("Equal", [](double a, double b) { return double(a == b); })
      .Case("Less", [](double a, double b) { return double(a < b); })
      .Case("Greater", [](double a, double b) { return double(a > b); })
      .Case("And", [](double a, double b) { return double(a != 0 && b != 0); })
      .Case("Or", [](double a, double b) { return double(a != 0 || b != 0); })
      .Case("Max", [](double a, double b) { return std::max(a, b); })
      .Default([](double a, double b) { return std::min(a, b); }); // Min
}

} // namespace

//===----------------------------------------------------------------------===//
// Value and Node
//===----------------------------------------------------------------------===//

int64_t Value::numElements() const { return product(shape); }

std::optional<double> Value::scalar() const {
  if (!isConstant || data.size() != 1)
    return std::nullopt;
  return data[0];
}

static const onnx::AttributeProto *findAttr(const onnx::NodeProto *proto,
                                            llvm::StringRef name) {
  if (!proto)
    return nullptr;
  for (const onnx::AttributeProto &a : proto->attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t Node::attrInt(llvm::StringRef attr, int64_t otherwise) const {
  const onnx::AttributeProto *a = findAttr(proto, attr);
  return a && a->has_i() ? a->i() : otherwise;
}

float Node::attrFloat(llvm::StringRef attr, float otherwise) const {
  const onnx::AttributeProto *a = findAttr(proto, attr);
  return a && a->has_f() ? a->f() : otherwise;
}

std::optional<std::vector<int64_t>> Node::attrInts(llvm::StringRef attr) const {
  const onnx::AttributeProto *a = findAttr(proto, attr);
  if (!a)
    return std::nullopt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::string Node::attrString(llvm::StringRef attr) const {
  const onnx::AttributeProto *a = findAttr(proto, attr);
  return a ? a->s() : "";
}

std::string Node::describe() const {
  return formatv("node '{0}' ({1})", name, op).str();
}

//===----------------------------------------------------------------------===//
// Tensor data
//===----------------------------------------------------------------------===//

llvm::Expected<std::vector<double>>
llmc::onnx_import::tensorValues(const onnx::TensorProto &t) {
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxElements / std::max<int64_t>(n, 1))
      return fail(
          formatv("tensor '{0}': dimension {1} out of range", t.name(), d));
    n *= d;
  }
  if (n > kMaxFoldedElements)
    return fail(formatv("tensor '{0}': {1} elements, more than the importer "
                        "holds outside float32 weights (2^26)",
                        t.name(), n));
  std::vector<double> out(n);
  const std::string &raw = t.raw_data();
  auto fromRaw = [&](auto tag) -> llvm::Error {
    using T = decltype(tag);
    if (raw.size() != n * sizeof(T))
      return fail(formatv("tensor '{0}': {1} bytes of data for {2} elements",
                          t.name(), raw.size(), n));
    for (int64_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
      out[i] = static_cast<double>(v);
    }
    return llvm::Error::success();
  };
  auto fromField = [&](const auto &field) -> llvm::Error {
    if (field.size() != n)
      return fail(formatv("tensor '{0}': {1} values for {2} elements", t.name(),
                          field.size(), n));
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<double>(field.Get(i));
    return llvm::Error::success();
  };
  bool hasRaw = t.has_raw_data();
  llvm::Error e = llvm::Error::success();
  switch (t.data_type()) {
  case onnx::TensorProto::FLOAT:
    e = hasRaw ? fromRaw(float()) : fromField(t.float_data());
    break;
  case onnx::TensorProto::DOUBLE:
    e = hasRaw ? fromRaw(double()) : fromField(t.double_data());
    break;
  case onnx::TensorProto::INT64:
    e = hasRaw ? fromRaw(int64_t()) : fromField(t.int64_data());
    break;
  case onnx::TensorProto::INT32:
    e = hasRaw ? fromRaw(int32_t()) : fromField(t.int32_data());
    break;
  case onnx::TensorProto::BOOL:
  case onnx::TensorProto::UINT8:
    e = hasRaw ? fromRaw(uint8_t()) : fromField(t.int32_data());
    break;
  case onnx::TensorProto::INT8:
    e = hasRaw ? fromRaw(int8_t()) : fromField(t.int32_data());
    break;
  default:
    return fail(formatv("tensor '{0}': data type {1} is not supported (float, "
                        "double, int8/32/64, uint8 or bool expected)",
                        t.name(), t.data_type()));
  }
  if (e)
    return std::move(e);
  return out;
}

//===----------------------------------------------------------------------===//
// Shape rules and folding
//===----------------------------------------------------------------------===//

namespace {

/// What one node computes: output shapes and types always, output data when
/// every input is constant. Errors name the node.
class NodeEvaluator {
public:
  explicit NodeEvaluator(Node &node) : n(node) {}

  llvm::Error run();

private:
  Node &n;

  Value *in(size_t i) { return n.input(i); }
  Value &out(size_t i = 0) { return *n.outputs[i]; }
  bool allConstant() const {
    return llvm::all_of(n.inputs, [](Value *v) { return !v || v->isConstant; });
  }
  llvm::Error error(const llvm::Twine &what) {
    return fail(n.describe() + ": " + what);
  }
  /// Integers from a constant input (axes, shapes, starts, ...).
  llvm::Expected<std::vector<int64_t>> ints(size_t i, llvm::StringRef role) {
    Value *v = in(i);
    if (!v)
      return error(llvm::Twine("missing input ") + role);
    if (!v->isConstant)
      return error(llvm::Twine("input '") + v->name + "' (" + role +
                   ") is computed at run time; the importer needs it constant "
                   "once the batch and sequence sizes are bound");
    std::vector<int64_t> r;
    for (double d : v->data) {
      std::optional<int64_t> i = toInt(d);
      if (!i)
        return error(llvm::Twine("input '") + v->name + "' (" + role +
                     ") holds NaN");
      r.push_back(*i);
    }
    return r;
  }
  /// Axes from the input (opset >= 13) or the attribute (earlier forms).
  llvm::Expected<std::optional<std::vector<int64_t>>> axes(size_t input) {
    if (in(input)) {
      auto a = ints(input, "axes");
      if (!a)
        return a.takeError();
      return std::optional<std::vector<int64_t>>(*a);
    }
    return n.attrInts("axes");
  }
  /// Every output goes through here, before any of its data is computed:
  /// a shape past the limits is refused before anything is allocated.
  [[nodiscard]] llvm::Error setOut(std::vector<int64_t> shape, ElementType type,
                                   size_t i = 0) {
    int64_t count = checkedProduct(shape);
    if (count < 0)
      return error("output shape " + shapeString(shape) +
                   " has a negative dimension or more than 2^40 elements");
    if (allConstant() && count > kMaxFoldedElements)
      return error(formatv("folds into a constant of {0} elements, more than "
                           "the importer holds (2^26)",
                           count));
    out(i).shape = std::move(shape);
    out(i).type = type;
    return llvm::Error::success();
  }
  /// A pure copy of the input's elements, where it is a constant.
  void copyData(const Value &src) {
    if (src.isConstant)
      setData(src.data);
  }
  void setData(std::vector<double> data, size_t i = 0) {
    out(i).isConstant = true;
    out(i).data = std::move(data);
  }
  /// Output = input elements at `sources` (a pure data movement).
  void gather(const Value &src, const std::vector<int64_t> &sources) {
    if (!src.isConstant)
      return;
    std::vector<double> d(sources.size());
    for (size_t i = 0; i < sources.size(); ++i)
      d[i] = src.data[sources[i]];
    setData(std::move(d));
  }
  std::vector<int64_t> identity(int64_t count) {
    std::vector<int64_t> s(count);
    std::iota(s.begin(), s.end(), 0);
    return s;
  }

  llvm::Error constant();
  llvm::Error elementwise();
  llvm::Error variadic();
  llvm::Error shapeOp();
  llvm::Error cast();
  llvm::Error gatherOp();
  llvm::Error slice();
  llvm::Error unsqueezeOrSqueeze();
  llvm::Error concat();
  llvm::Error reshape();
  llvm::Error transpose();
  llvm::Error expand();
  llvm::Error constantOfShape();
  llvm::Error trilu();
  llvm::Error range();
  llvm::Error where();
  llvm::Error einsum();
  llvm::Error matmul();
  llvm::Error gemm();
  llvm::Error split();
  llvm::Error reduce();
};

llvm::Error NodeEvaluator::run() {
  llvm::StringRef op = n.op;
  if (op == "Constant")
    return constant();
  if (op == "Identity") {
    Value &src = *in(0);
    if (llvm::Error e = setOut(src.shape, src.type))
      return e;
    copyData(src);
    return llvm::Error::success();
  }
  // Sum and Mean, and Max and Min of one input or more than two (two are
  // binary math): every input broadcast together.
  if (op == "Sum" || op == "Mean" ||
      ((op == "Max" || op == "Min") && n.inputs.size() != 2))
    return variadic();
  if (isUnaryMath(op) || isBinaryMath(op))
    return elementwise();
  if (op == "Shape")
    return shapeOp();
  if (op == "Cast")
    return cast();
  if (op == "Gather")
    return gatherOp();
  if (op == "Slice")
    return slice();
  if (op == "Unsqueeze" || op == "Squeeze")
    return unsqueezeOrSqueeze();
  if (op == "Concat")
    return concat();
  if (op == "Reshape")
    return reshape();
  if (op == "Transpose")
    return transpose();
  if (op == "Expand")
    return expand();
  if (op == "ConstantOfShape")
    return constantOfShape();
  if (op == "Trilu")
    return trilu();
  if (op == "Range")
    return range();
  if (op == "Where")
    return where();
  if (op == "Einsum")
    return einsum();
  if (op == "MatMul")
    return matmul();
  if (op == "Gemm")
    return gemm();
  if (op == "Split")
    return split();
  if (llvm::is_contained({"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
                          "ReduceProd", "ReduceSumSquare"},
                         op))
    return reduce();

  if (op == "Softmax" || op == "LayerNormalization") {
    if (!in(0))
      return error("missing input 0");
    if (llvm::Error e = setOut(in(0)->shape, ElementType::Float))
      return e;
    if (op == "Softmax")
      return llvm::Error::success();
    // Mean and InvStdDev: the normalized axes (from `axis` on) kept as 1.
    int64_t rank = in(0)->rank(), axis = n.attrInt("axis", -1);
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return error("axis " + std::to_string(n.attrInt("axis", -1)) +
                   " is out of range for rank " + std::to_string(rank));
    std::vector<int64_t> stats = in(0)->shape;
    std::fill(stats.begin() + axis, stats.end(), 1);
    for (size_t i = 1; i < n.outputs.size() && i < 3; ++i)
      if (llvm::Error e = setOut(stats, ElementType::Float, i))
        return e;
    return llvm::Error::success();
  }
  return error("not supported by the ONNX importer (frontends/onnx/README.md "
               "lists what is)");
}

llvm::Error NodeEvaluator::constant() {
  for (const onnx::AttributeProto &a : n.proto->attribute()) {
    if (a.name() == "value") {
      auto type = elementType(a.t().data_type());
      if (!type)
        return error("constant of unsupported data type");
      auto data = tensorValues(a.t());
      if (!data)
        return data.takeError();
      if (llvm::Error e =
              setOut({a.t().dims().begin(), a.t().dims().end()}, *type))
        return e;
      setData(std::move(*data));
      return llvm::Error::success();
    }
    if (a.name() == "value_float" || a.name() == "value_int") {
      if (llvm::Error e =
              setOut({}, a.name() == "value_float" ? ElementType::Float
                                                   : ElementType::Int))
        return e;
      setData({a.name() == "value_float" ? double(a.f()) : double(a.i())});
      return llvm::Error::success();
    }
    if (a.name() == "value_floats" || a.name() == "value_ints") {
      std::vector<double> d;
      if (a.name() == "value_floats")
        d.assign(a.floats().begin(), a.floats().end());
      else
        d.assign(a.ints().begin(), a.ints().end());
      if (llvm::Error e = setOut({static_cast<int64_t>(d.size())},
                                 a.name() == "value_floats" ? ElementType::Float
                                                            : ElementType::Int))
        return e;
      setData(std::move(d));
      return llvm::Error::success();
    }
  }
  return error("no value attribute");
}

llvm::Error NodeEvaluator::elementwise() {
  llvm::StringRef op = n.op;
  Value *a = in(0), *b = in(1);
  if (!a || (isBinaryMath(op) && !b))
    return error("missing input");
  std::vector<int64_t> shape = a->shape;
  if (b) {
    auto s = broadcast(a->shape, b->shape);
    if (!s)
      return error("shapes " + shapeString(a->shape) + " and " +
                   shapeString(b->shape) + " do not broadcast");
    shape = *s;
  }
  bool logical =
      llvm::is_contained({"Equal", "Less", "Greater", "And", "Or", "Not"}, op);
  if (llvm::Error e = setOut(shape, logical ? ElementType::Bool : a->type))
    return e;
  if (!allConstant())
    return llvm::Error::success();
  int64_t count = product(shape);
  std::vector<double> d(count);
  if (!b) {
    UnaryFn f = unaryMath(op);
    for (int64_t i = 0; i < count; ++i)
      d[i] = f(a->data[i]);
  } else {
    std::vector<int64_t> oa = broadcastOffsets(a->shape, shape);
    std::vector<int64_t> ob = broadcastOffsets(b->shape, shape);
    BinaryFn f = binaryMath(op, a->type == ElementType::Int);
    for (int64_t i = 0; i < count; ++i)
      d[i] = f(a->data[oa[i]], b->data[ob[i]]);
  }
  setData(std::move(d));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::variadic() {
  if (n.inputs.empty() || llvm::is_contained(n.inputs, nullptr))
    return error("missing input");
  std::vector<int64_t> shape = in(0)->shape;
  for (Value *v : n.inputs) {
    auto s = broadcast(shape, v->shape);
    if (!s)
      return error("shapes " + shapeString(shape) + " and " +
                   shapeString(v->shape) + " do not broadcast");
    shape = *s;
  }
  if (llvm::Error e = setOut(shape, in(0)->type))
    return e;
  if (allConstant())
    return error("constant " + n.op + " is not folded");
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::shapeOp() {
  const std::vector<int64_t> &s = in(0)->shape;
  int64_t rank = s.size();
  int64_t start = normalizeAxis(n.attrInt("start", 0), rank);
  int64_t end = normalizeAxis(n.attrInt("end", rank), rank);
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, start, rank);
  if (llvm::Error e = setOut({end - start}, ElementType::Int))
    return e;
  setData(std::vector<double>(s.begin() + start, s.begin() + end));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::cast() {
  auto type = elementType(n.attrInt("to", 0));
  if (!type)
    return error(
        formatv("cast to data type {0} is not supported", n.attrInt("to", 0)));
  Value &src = *in(0);
  if (llvm::Error e = setOut(src.shape, *type))
    return e;
  if (src.isConstant) {
    std::vector<double> d = src.data;
    for (double &x : d)
      x = *type == ElementType::Bool  ? double(x != 0)
          : *type == ElementType::Int ? std::trunc(x)
                                      : double(float(x));
    setData(std::move(d));
  }
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::gatherOp() {
  Value &data = *in(0), &idx = *in(1);
  int64_t rank = data.rank();
  int64_t axis = normalizeAxis(n.attrInt("axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return error("axis out of range");
  std::vector<int64_t> shape(data.shape.begin(), data.shape.begin() + axis);
  shape.insert(shape.end(), idx.shape.begin(), idx.shape.end());
  shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  if (llvm::Error e = setOut(shape, data.type))
    return e;
  if (!data.isConstant || !idx.isConstant)
    return llvm::Error::success();
  int64_t outer = product({data.shape.begin(), data.shape.begin() + axis});
  int64_t inner = product({data.shape.begin() + axis + 1, data.shape.end()});
  int64_t dim = data.shape[axis];
  std::vector<int64_t> sources;
  for (int64_t o = 0; o < outer; ++o)
    for (double x : idx.data) {
      int64_t i = toInt(x).value_or(-1 - dim); // NaN: out of range
      if (i < 0)
        i += dim;
      if (i < 0 || i >= dim)
        return error(
            formatv("index {0} out of range for a dimension of {1}", x, dim));
      for (int64_t e = 0; e < inner; ++e)
        sources.push_back((o * dim + i) * inner + e);
    }
  gather(data, sources);
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::slice() {
  Value &data = *in(0);
  auto starts = ints(1, "starts");
  auto ends = ints(2, "ends");
  if (!starts)
    return starts.takeError();
  if (!ends)
    return ends.takeError();
  std::vector<int64_t> axesV = identity(starts->size()),
                       steps(starts->size(), 1);
  if (in(3)) {
    auto a = ints(3, "axes");
    if (!a)
      return a.takeError();
    axesV = *a;
  }
  if (in(4)) {
    auto s = ints(4, "steps");
    if (!s)
      return s.takeError();
    steps = *s;
  }
  if (axesV.size() != starts->size() || ends->size() != starts->size() ||
      steps.size() != starts->size())
    return error("starts, ends, axes and steps differ in length");
  int64_t rank = data.rank();
  std::vector<int64_t> begin(rank, 0), step(rank, 1), shape = data.shape;
  for (size_t i = 0; i < axesV.size(); ++i) {
    int64_t axis = normalizeAxis(axesV[i], rank);
    if (axis < 0 || axis >= rank || steps[i] == 0)
      return error("axis or step out of range");
    int64_t dim = data.shape[axis], s = (*starts)[i], e = (*ends)[i];
    // A step longer than the axis takes one element, as any such step
    // does; clamped, the arithmetic below cannot overflow.
    int64_t longest = std::max<int64_t>(dim, 1);
    steps[i] = std::clamp<int64_t>(steps[i], -longest, longest);
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    if (steps[i] > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      shape[axis] = std::max<int64_t>(0, (e - s + steps[i] - 1) / steps[i]);
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      shape[axis] = std::max<int64_t>(0, (s - e - steps[i] - 1) / -steps[i]);
    }
    begin[axis] = s;
    step[axis] = steps[i];
  }
  if (llvm::Error e = setOut(shape, data.type))
    return e;
  if (!data.isConstant)
    return llvm::Error::success();
  std::vector<int64_t> inStrides = stridesOf(data.shape);
  std::vector<int64_t> outStrides = stridesOf(shape);
  int64_t count = product(shape);
  std::vector<int64_t> sources(count);
  for (int64_t e = 0; e < count; ++e) {
    int64_t rest = e, off = 0;
    for (int64_t d = 0; d < rank; ++d) {
      off += (begin[d] + (rest / outStrides[d]) * step[d]) * inStrides[d];
      rest %= outStrides[d];
    }
    sources[e] = off;
  }
  gather(data, sources);
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::unsqueezeOrSqueeze() {
  Value &data = *in(0);
  auto a = axes(1);
  if (!a)
    return a.takeError();
  std::vector<int64_t> shape;
  if (n.op == "Unsqueeze") {
    if (!*a)
      return error("no axes");
    int64_t rank = data.rank() + (*a)->size();
    std::vector<bool> inserted(rank, false);
    for (int64_t axis : **a) {
      axis = normalizeAxis(axis, rank);
      if (axis < 0 || axis >= rank || inserted[axis])
        return error("axes out of range or repeated");
      inserted[axis] = true;
    }
    size_t next = 0;
    for (int64_t d = 0; d < rank; ++d)
      shape.push_back(inserted[d] ? 1 : data.shape[next++]);
  } else {
    std::vector<bool> removed(data.rank(), false);
    if (*a) {
      for (int64_t axis : **a) {
        axis = normalizeAxis(axis, data.rank());
        if (axis < 0 || axis >= data.rank() || data.shape[axis] != 1)
          return error("squeezes an axis that is not of size 1");
        removed[axis] = true;
      }
    }
    for (int64_t d = 0; d < data.rank(); ++d)
      if (!(*a ? removed[d] : data.shape[d] == 1))
        shape.push_back(data.shape[d]);
  }
  if (llvm::Error e = setOut(shape, data.type))
    return e;
  copyData(data);
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::concat() {
  Value &first = *in(0);
  int64_t rank = first.rank();
  int64_t axis = normalizeAxis(n.attrInt("axis", 0), rank);
  if (axis < 0 || axis >= rank)
    return error("axis out of range");
  std::vector<int64_t> shape = first.shape;
  shape[axis] = 0;
  for (Value *v : n.inputs) {
    for (int64_t d = 0; d < rank; ++d)
      if (v->rank() != rank || (d != axis && v->shape[d] != first.shape[d]))
        return error("inputs " + shapeString(first.shape) + " and " +
                     shapeString(v->shape) + " do not concatenate");
    shape[axis] += v->shape[axis];
  }
  if (llvm::Error e = setOut(shape, first.type))
    return e;
  if (!allConstant())
    return llvm::Error::success();
  int64_t outer = product({shape.begin(), shape.begin() + axis});
  std::vector<double> d;
  d.reserve(product(shape));
  for (int64_t o = 0; o < outer; ++o)
    for (Value *v : n.inputs) {
      int64_t chunk = product({v->shape.begin() + axis, v->shape.end()});
      d.insert(d.end(), v->data.begin() + o * chunk,
               v->data.begin() + (o + 1) * chunk);
    }
  setData(std::move(d));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::reshape() {
  Value &data = *in(0);
  auto target = ints(1, "shape");
  if (!target)
    return target.takeError();
  bool allowZero = n.attrInt("allowzero", 0);
  std::vector<int64_t> shape = *target;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= data.shape.size())
        return error("copies a dimension the input does not have");
      shape[i] = data.shape[i];
    }
    if (shape[i] == -1) {
      if (inferred >= 0)
        return error("more than one -1 in the target shape");
      inferred = i;
    } else if (shape[i] < 0) {
      return error("negative target dimension");
    } else if (shape[i] > 0 && known > kMaxElements / shape[i]) {
      return error("target shape has more than 2^40 elements");
    } else {
      known *= shape[i];
    }
  }
  if (inferred >= 0)
    shape[inferred] = known ? data.numElements() / known : 0;
  if (product(shape) != data.numElements())
    return error("cannot reshape " + shapeString(data.shape) + " to " +
                 shapeString(*target));
  if (llvm::Error e = setOut(shape, data.type))
    return e;
  copyData(data);
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::transpose() {
  Value &data = *in(0);
  int64_t rank = data.rank();
  std::vector<int64_t> perm =
      n.attrInts("perm").value_or(std::vector<int64_t>{});
  if (perm.empty())
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  std::vector<int64_t> sorted = perm;
  llvm::sort(sorted);
  if (sorted != identity(rank))
    return error("perm is not a permutation of the input's axes");
  std::vector<int64_t> shape(rank);
  for (int64_t d = 0; d < rank; ++d)
    shape[d] = data.shape[perm[d]];
  if (llvm::Error e = setOut(shape, data.type))
    return e;
  if (!data.isConstant)
    return llvm::Error::success();
  std::vector<int64_t> inStrides = stridesOf(data.shape);
  std::vector<int64_t> outStrides = stridesOf(shape);
  int64_t count = product(shape);
  std::vector<int64_t> sources(count);
  for (int64_t e = 0; e < count; ++e) {
    int64_t rest = e, off = 0;
    for (int64_t d = 0; d < rank; ++d) {
      off += (rest / outStrides[d]) * inStrides[perm[d]];
      rest %= outStrides[d];
    }
    sources[e] = off;
  }
  gather(data, sources);
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::expand() {
  Value &data = *in(0);
  auto target = ints(1, "shape");
  if (!target)
    return target.takeError();
  auto shape = broadcast(data.shape, *target);
  if (!shape)
    return error("cannot expand " + shapeString(data.shape) + " to " +
                 shapeString(*target));
  if (llvm::Error e = setOut(*shape, data.type))
    return e;
  if (data.isConstant)
    gather(data, broadcastOffsets(data.shape, *shape));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::constantOfShape() {
  auto shape = ints(0, "shape");
  if (!shape)
    return shape.takeError();
  for (int64_t d : *shape)
    if (d < 0 || d > (int64_t(1) << 32))
      return error("shape out of range");
  double fill = 0;
  ElementType type = ElementType::Float;
  for (const onnx::AttributeProto &a : n.proto->attribute())
    if (a.name() == "value") {
      auto v = tensorValues(a.t());
      if (!v)
        return v.takeError();
      if (v->size() != 1)
        return error("value must hold one element");
      fill = (*v)[0];
      type = elementType(a.t().data_type()).value_or(ElementType::Float);
    }
  if (llvm::Error e = setOut(*shape, type))
    return e;
  setData(std::vector<double>(product(*shape), fill));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::trilu() {
  Value &data = *in(0);
  if (data.rank() < 2)
    return error("needs a matrix");
  int64_t k = 0;
  if (in(1)) {
    auto kv = ints(1, "k");
    if (!kv)
      return kv.takeError();
    k = kv->empty() ? 0 : (*kv)[0];
  }
  if (llvm::Error e = setOut(data.shape, data.type))
    return e;
  if (!allConstant())
    return llvm::Error::success();
  bool upper = n.attrInt("upper", 1);
  int64_t rows = data.shape[data.rank() - 2], cols = data.shape.back();
  std::vector<double> d = data.data;
  for (int64_t e = 0; e < static_cast<int64_t>(d.size()); ++e) {
    int64_t i = (e / cols) % rows, j = e % cols;
    bool keep = upper ? j - i >= k : j - i <= k;
    if (!keep)
      d[e] = 0;
  }
  setData(std::move(d));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::range() {
  if (!allConstant())
    return error("start, limit and delta must be constants");
  double start = in(0)->data.at(0), limit = in(1)->data.at(0),
         delta = in(2)->data.at(0);
  if (delta == 0)
    return error("delta is 0");
  std::optional<int64_t> steps = toInt(std::ceil((limit - start) / delta));
  if (!steps || *steps > kMaxFoldedElements)
    return error("start, limit and delta give no count the importer holds");
  int64_t count = std::max<int64_t>(0, *steps);
  std::vector<double> d(count);
  for (int64_t i = 0; i < count; ++i)
    d[i] = start + i * delta;
  if (llvm::Error e = setOut({count}, in(0)->type))
    return e;
  setData(std::move(d));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::where() {
  Value &c = *in(0), &x = *in(1), &y = *in(2);
  auto s = broadcast(c.shape, x.shape);
  if (s)
    s = broadcast(*s, y.shape);
  if (!s)
    return error("condition and values do not broadcast");
  if (llvm::Error e = setOut(*s, x.type))
    return e;
  if (!allConstant())
    return llvm::Error::success();
  std::vector<int64_t> oc = broadcastOffsets(c.shape, *s),
                       ox = broadcastOffsets(x.shape, *s),
                       oy = broadcastOffsets(y.shape, *s);
  std::vector<double> d(product(*s));
  for (size_t i = 0; i < d.size(); ++i)
    d[i] = c.data[oc[i]] != 0 ? x.data[ox[i]] : y.data[oy[i]];
  setData(std::move(d));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::einsum() {
  // The one form exporters write for position tables: an outer product
  // ("i,j->ij", torch.outer).
  std::string eq = n.attrString("equation");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  Value *a = in(0), *b = in(1);
  bool outer = eq.size() == 7 && eq[1] == ',' && eq[3] == '-' && eq[4] == '>' &&
               eq[5] == eq[0] && eq[6] == eq[2] && eq[0] != eq[2] && a && b &&
               a->rank() == 1 && b->rank() == 1;
  if (!outer)
    return error("equation '" + eq +
                 "' is not supported (only the outer "
                 "product 'i,j->ij')");
  if (llvm::Error e = setOut({a->shape[0], b->shape[0]}, a->type))
    return e;
  if (!allConstant())
    return error("only constant operands are supported");
  std::vector<double> d;
  for (double x : a->data)
    for (double y : b->data)
      d.push_back(x * y);
  setData(std::move(d));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::matmul() {
  Value &a = *in(0), &b = *in(1);
  if (a.rank() < 2 || b.rank() < 2)
    return error("vector operands are not supported");
  int64_t m = a.shape[a.rank() - 2], k = a.shape.back();
  int64_t k2 = b.shape[b.rank() - 2], nn = b.shape.back();
  auto batch = broadcast({a.shape.begin(), a.shape.end() - 2},
                         {b.shape.begin(), b.shape.end() - 2});
  if (k != k2 || !batch)
    return error("shapes " + shapeString(a.shape) + " and " +
                 shapeString(b.shape) + " do not multiply");
  std::vector<int64_t> shape = *batch;
  shape.push_back(m);
  shape.push_back(nn);
  if (llvm::Error e = setOut(shape, a.type))
    return e;
  if (!allConstant())
    return llvm::Error::success();
  // Constant products are small (HF's RoPE angles: inv_freq times the
  // positions); the work is bounded as folded sizes are.
  int64_t outputs = product(shape);
  if (k > 0 && outputs > kMaxFoldedElements / k)
    return error("a constant matrix product of more than 2^26 "
                 "multiplications is not folded");
  std::vector<int64_t> batchShape = *batch;
  std::vector<int64_t> aBatch =
      broadcastOffsets({a.shape.begin(), a.shape.end() - 2}, batchShape);
  std::vector<int64_t> bBatch =
      broadcastOffsets({b.shape.begin(), b.shape.end() - 2}, batchShape);
  std::vector<double> d(outputs);
  for (size_t i = 0; i < aBatch.size(); ++i) {
    const double *pa = a.data.data() + aBatch[i] * m * k;
    const double *pb = b.data.data() + bBatch[i] * k * nn;
    double *pd = d.data() + i * m * nn;
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < nn; ++c) {
        double sum = 0;
        for (int64_t j = 0; j < k; ++j)
          sum += pa[r * k + j] * pb[j * nn + c];
        pd[r * nn + c] = sum;
      }
  }
  setData(std::move(d));
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::gemm() {
  Value &a = *in(0), &b = *in(1);
  if (a.rank() != 2 || b.rank() != 2)
    return error("operands must be matrices");
  bool ta = n.attrInt("transA", 0), tb = n.attrInt("transB", 0);
  int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  int64_t k2 = tb ? b.shape[1] : b.shape[0], nn = tb ? b.shape[0] : b.shape[1];
  if (k != k2)
    return error("shapes " + shapeString(a.shape) + " and " +
                 shapeString(b.shape) + " do not multiply");
  if (in(2) && !broadcast(in(2)->shape, {m, nn}))
    return error("bias does not broadcast to the product");
  if (llvm::Error e = setOut({m, nn}, a.type))
    return e;
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::split() {
  Value &data = *in(0);
  int64_t axis = normalizeAxis(n.attrInt("axis", 0), data.rank());
  if (axis < 0 || axis >= data.rank())
    return error("axis out of range");
  std::vector<int64_t> sizes;
  if (in(1)) {
    auto s = ints(1, "split");
    if (!s)
      return s.takeError();
    sizes = *s;
  } else if (auto s = n.attrInts("split")) {
    sizes = *s;
  } else {
    int64_t parts = n.outputs.size();
    if (parts == 0 || data.shape[axis] % parts)
      return error("the axis does not split evenly");
    sizes.assign(parts, data.shape[axis] / parts);
  }
  // Each size within the axis first, so that their sum cannot overflow.
  if (sizes.size() != n.outputs.size() ||
      llvm::any_of(sizes,
                   [&](int64_t s) { return s < 0 || s > data.shape[axis]; }) ||
      std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) !=
          data.shape[axis])
    return error("split sizes do not add up to the axis");
  int64_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::vector<int64_t> shape = data.shape;
    shape[axis] = sizes[i];
    if (llvm::Error e = setOut(shape, data.type, i))
      return e;
    if (data.isConstant) {
      int64_t outer = product({data.shape.begin(), data.shape.begin() + axis});
      int64_t inner =
          product({data.shape.begin() + axis + 1, data.shape.end()});
      std::vector<double> d;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < sizes[i]; ++j)
          for (int64_t e = 0; e < inner; ++e)
            d.push_back(
                data.data[(o * data.shape[axis] + offset + j) * inner + e]);
      setData(std::move(d), i);
    }
    offset += sizes[i];
  }
  return llvm::Error::success();
}

llvm::Error NodeEvaluator::reduce() {
  Value &data = *in(0);
  // ReduceMean keeps its axes as an attribute through opset 17; ReduceSum
  // moved them to an input at 13.
  auto a = n.op == "ReduceSum" ? axes(1) : n.attrInts("axes");
  if (!a)
    return a.takeError();
  // ReduceSum's noop_with_empty_axes: no axes, no reduction.
  if (n.attrInt("noop_with_empty_axes", 0) && (!*a || (*a)->empty()))
    return setOut(data.shape, data.type);
  std::vector<bool> reduced(data.rank(), !*a || (*a)->empty());
  if (*a)
    for (int64_t axis : **a) {
      axis = normalizeAxis(axis, data.rank());
      if (axis < 0 || axis >= data.rank())
        return error("axes out of range");
      reduced[axis] = true;
    }
  bool keep = n.attrInt("keepdims", 1);
  std::vector<int64_t> shape;
  for (int64_t d = 0; d < data.rank(); ++d)
    if (!reduced[d])
      shape.push_back(data.shape[d]);
    else if (keep)
      shape.push_back(1);
  if (llvm::Error e = setOut(shape, data.type))
    return e;
  if (data.isConstant)
    return error("constant reductions are not folded");
  return llvm::Error::success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

Value *Graph::newValue(const std::string &name) {
  Value &v = values_.emplace_back();
  v.name = name;
  if (!name.empty())
    byName_[name] = &v;
  return &v;
}

llvm::Error Graph::addNode(const onnx::NodeProto &proto) {
  Node &node = nodes_.emplace_back();
  node.op = proto.op_type();
  node.name = proto.name().empty() ? proto.output_size() ? proto.output(0) : ""
                                   : proto.name();
  node.proto = &proto;
  if (!proto.domain().empty() && proto.domain() != "ai.onnx")
    return fail(node.describe() + ": domain '" + proto.domain() +
                "' is not supported (only the default ONNX domain)");
  for (const std::string &name : proto.input()) {
    if (name.empty()) {
      node.inputs.push_back(nullptr);
      continue;
    }
    auto it = byName_.find(name);
    if (it == byName_.end())
      return fail(node.describe() + ": input '" + name +
                  "' is not produced by any earlier node, input or "
                  "initializer");
    node.inputs.push_back(it->second);
    it->second->users.push_back(&node);
  }
  for (const std::string &name : proto.output()) {
    Value *v = newValue(name);
    v->producer = &node;
    node.outputs.push_back(v);
  }
  // A weight renamed by Identity stays the weight, under one more name.
  if (node.op == "Identity" && node.input(0) && node.input(0)->isWeight) {
    aliases_.emplace(node.input(0), node.outputs[0]->name);
    byName_[node.outputs[0]->name] = node.input(0);
    node.outputs[0]->users.clear();
    return llvm::Error::success();
  }
  NodeEvaluator evaluator(node);
  return evaluator.run();
}

InputRole llmc::onnx_import::inputRole(llvm::StringRef name, int count) {
  if (name == "input_ids")
    return InputRole::Ids;
  if (name.contains("attention_mask"))
    return InputRole::AttentionMask;
  if (name.contains("position_ids"))
    return InputRole::Positions;
  if (name.starts_with("past_key_values") || name.starts_with("past_key") ||
      name.starts_with("past_value"))
    return InputRole::Past;
  // A graph of one input takes the token ids, whatever the exporter called
  // them.
  return count == 1 ? InputRole::Ids : InputRole::Other;
}

llvm::Expected<Graph> Graph::build(const onnx::ModelProto &model,
                                   const DimBinding &dims) {
  Graph g;
  const onnx::GraphProto &graph = model.graph();
  for (const onnx::TensorProto &t : graph.initializer()) {
    auto type = elementType(t.data_type());
    if (!type)
      return fail(formatv("initializer '{0}': data type {1} is not supported",
                          t.name(), t.data_type()));
    Value *v = g.newValue(t.name());
    v->shape.assign(t.dims().begin(), t.dims().end());
    v->type = *type;
    int64_t count = 1;
    for (int64_t d : v->shape) {
      if (d < 0 || d > (int64_t(1) << 40) / std::max<int64_t>(count, 1))
        return fail(formatv("initializer '{0}': dimension {1} out of range",
                            t.name(), d));
      count *= d;
    }
    if (*type == ElementType::Float && !v->shape.empty()) {
      if (t.data_type() != onnx::TensorProto::FLOAT)
        return fail(formatv("initializer '{0}': weights must be float32 "
                            "(data type {1})",
                            t.name(), t.data_type()));
      v->isWeight = true;
      // Weights are most of the file: copied as floats, never as doubles.
      int64_t n = v->numElements();
      if (t.has_raw_data()) {
        if (t.raw_data().size() != n * sizeof(float))
          return fail(formatv("initializer '{0}': {1} bytes of data for {2} "
                              "elements",
                              t.name(), t.raw_data().size(), n));
        v->weight.resize(n);
        std::memcpy(v->weight.data(), t.raw_data().data(), n * sizeof(float));
      } else if (t.float_data_size() == n) {
        v->weight.assign(t.float_data().begin(), t.float_data().end());
      } else {
        return fail(formatv("initializer '{0}': {1} values for {2} elements",
                            t.name(), t.float_data_size(), n));
      }
      continue;
    }
    auto data = tensorValues(t);
    if (!data)
      return data.takeError();
    {
      v->isConstant = true;
      v->data = std::move(*data);
    }
  }
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (g.byName_.count(input.name()))
      continue; // an initializer listed as an input (IR version < 4)
    const onnx::TypeProto_Tensor &tensor = input.type().tensor_type();
    auto type = elementType(tensor.elem_type());
    if (!input.type().has_tensor_type() || !type)
      return fail("graph input '" + input.name() +
                  "': a tensor of float, integer or bool elements expected");
    Value *v = g.newValue(input.name());
    v->type = *type;
    InputRole role = inputRole(input.name(), graph.input_size());
    const auto &shape = tensor.shape().dim();
    int64_t rank = shape.size();
    bool bound = role == InputRole::AttentionMask ||
                 role == InputRole::Positions || role == InputRole::Past;
    bool expected =
        role == InputRole::Past
            ? rank == 4 && *type == ElementType::Float
            : *type == ElementType::Int &&
                  (rank == 2 || (role == InputRole::Positions && rank == 1));
    if (bound && !expected)
      return fail(formatv("graph input '{0}': {1} expected", input.name(),
                          role == InputRole::Past
                              ? "float [batch, kv heads, past, head_dim]"
                              : "integers [batch, seq]"));
    for (int i = 0; i < rank; ++i) {
      if (shape[i].has_dim_value() && shape[i].dim_value() < 0)
        return fail(formatv("graph input '{0}': dimension {1} is negative",
                            input.name(), i));
      bool symbolic = !shape[i].has_dim_value();
      // A cache's past is bound to length 0: the first step of a sequence.
      if (role == InputRole::Past && i == 2) {
        if (!symbolic)
          return fail(formatv("graph input '{0}': the past length is fixed "
                              "at {1}; llmc imports cached exports whose "
                              "past length is dynamic (0 at the first step)",
                              input.name(), shape[i].dim_value()));
        v->shape.push_back(0);
        continue;
      }
      if (!symbolic) {
        v->shape.push_back(shape[i].dim_value());
        continue;
      }
      // Symbolic dimensions of a [batch, seq] input take the chosen sizes.
      bool seqAxis = bound ? rank <= 2 && i == rank - 1 : i == 1;
      if (i != 0 && !seqAxis)
        return fail(formatv("graph input '{0}': dimension {1} is symbolic; "
                            "only the batch (0) and sequence (1) axes may be",
                            input.name(), i));
      v->shape.push_back(seqAxis ? dims.seq : dims.batch);
    }
    if (checkedProduct(v->shape) < 0)
      return fail(formatv("graph input '{0}': shape {1} has more than 2^40 "
                          "elements",
                          input.name(), shapeString(v->shape)));
    // The inputs a cached export adds are constants of that first step: no
    // padding, positions from 0, nothing cached. llmc's own masks,
    // positions and paged cache replace them, so the graph must compute the
    // plain causal forward from these values, which the patterns check.
    if (bound) {
      if (v->numElements() > kMaxFoldedElements)
        return fail(formatv("graph input '{0}': shape {1} is larger than "
                            "the importer's constants (2^26 elements)",
                            input.name(), shapeString(v->shape)));
      v->isConstant = true;
      int64_t n = v->numElements(),
              last = v->shape.empty() ? 1 : v->shape.back();
      v->data.resize(n, 1.0);
      if (role == InputRole::Positions)
        for (int64_t i = 0; i < n; ++i)
          v->data[i] = static_cast<double>(i % last);
    }
    g.inputs_.push_back(v);
    g.roles_.push_back(role);
  }
  for (const onnx::NodeProto &node : graph.node())
    if (llvm::Error e = g.addNode(node))
      return std::move(e);
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = g.byName_.find(output.name());
    if (it == g.byName_.end())
      return fail("graph output '" + output.name() + "' is never produced");
    g.outputs_.push_back(it->second);
  }
  return std::move(g);
}
