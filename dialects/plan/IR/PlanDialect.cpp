//===- PlanDialect.cpp - The plan dialect ---------------------------------===//
//
// Registration and verifiers of the plan ops.
//
//===----------------------------------------------------------------------===//

#include "dialects/plan/IR/PlanDialect.h"

#include "runtime/kernels/kernel_table.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::plan;

#include "dialects/plan/IR/PlanDialect.cpp.inc"
#include "dialects/plan/IR/PlanEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/plan/IR/PlanAttrs.cpp.inc"

void PlanDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/plan/IR/PlanOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/plan/IR/PlanAttrs.cpp.inc"
      >();
}

static bool isContiguous(MemRefType type) {
  return type.getLayout().isIdentity();
}

int64_t BufferOp::getSizeInBytes() {
  MemRefType type = getBuffer().getType();
  return type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
}

LogicalResult BufferOp::verify() {
  MemRefType type = getBuffer().getType();
  if (!isContiguous(type))
    return emitOpError("buffer must have the identity (row-major) layout");
  if (!type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0)
    return emitOpError("element type must be an integer or float of whole "
                       "bytes");
  if (std::optional<uint64_t> offset = getOffset();
      offset && int64_t(*offset) < 0)
    return emitOpError("offset must be non-negative");
  return success();
}

LogicalResult ViewOp::verify() {
  MemRefType source = getSource().getType(), result = getResult().getType();
  if (!isContiguous(source) || !isContiguous(result))
    return emitOpError("views need the identity (row-major) layout");
  if (source.getElementType() != result.getElementType())
    return emitOpError("view must keep the element type");
  if (source.getNumElements() != result.getNumElements())
    return emitOpError("view of ")
           << source.getNumElements() << " elements cannot have "
           << result.getNumElements();
  return success();
}

/// A kernel operand as the kernel table sees it.
static FailureOr<llmc::kernels::TensorDesc> describe(Value value) {
  auto type = cast<MemRefType>(value.getType());
  llmc::kernels::TensorDesc t;
  if (type.getElementType().isF32())
    t.dtype = llmc::kernels::DType::F32;
  else if (type.getElementType().isInteger(32))
    t.dtype = llmc::kernels::DType::I32;
  else if (type.getElementType().isInteger(8))
    t.dtype = llmc::kernels::DType::I8;
  else if (type.getElementType().isBF16())
    t.dtype = llmc::kernels::DType::BF16;
  else
    return failure();
  t.shape.assign(type.getShape().begin(), type.getShape().end());
  return t;
}

/// A kernel parameter as the kernel table sees it (the kinds the plan file
/// can hold).
static FailureOr<llmc::kernels::ParamValue> describe(Attribute attr) {
  using llmc::kernels::ParamType;
  llmc::kernels::ParamValue v;
  if (auto b = dyn_cast<BoolAttr>(attr)) {
    v.type = ParamType::Bool;
    v.b = b.getValue();
  } else if (auto i = dyn_cast<IntegerAttr>(attr)) {
    v.type = ParamType::Int;
    v.i = i.getInt();
  } else if (auto f = dyn_cast<FloatAttr>(attr)) {
    v.type = ParamType::Float;
    v.f = f.getValueAsDouble();
  } else if (auto s = dyn_cast<StringAttr>(attr)) {
    v.type = ParamType::String;
    v.s = s.str();
  } else if (auto ints = dyn_cast<DenseI64ArrayAttr>(attr)) {
    v.type = ParamType::Ints;
    v.ints.assign(ints.asArrayRef().begin(), ints.asArrayRef().end());
  } else {
    return failure();
  }
  return v;
}

// Every call is checked against the kernel table (runtime/kernels), the same
// check the runtime makes when it loads a plan file.
LogicalResult KernelOp::verify() {
  llmc::kernels::CallDesc call;
  call.name = getCallee().str();
  for (auto [values, list] :
       {std::pair{getIns(), &call.ins}, std::pair{getOuts(), &call.outs}})
    for (Value v : values) {
      FailureOr<llmc::kernels::TensorDesc> t = describe(v);
      if (failed(t))
        return emitOpError("kernel '")
               << getCallee() << "' has an operand of type " << v.getType()
               << "; kernels take f32, i32 and i8 buffers";
      list->push_back(*t);
    }
  for (NamedAttribute param : getParams()) {
    FailureOr<llmc::kernels::ParamValue> v = describe(param.getValue());
    if (failed(v))
      return emitOpError("kernel '")
             << getCallee() << "' parameter '" << param.getName().getValue()
             << "' is not a bool, integer, float, string or i64 array";
    call.params[param.getName().str()] = *v;
  }
  if (std::string error = llmc::kernels::check_call(call); !error.empty())
    return emitOpError(error);
  return success();
}

#define GET_OP_CLASSES
#include "dialects/plan/IR/PlanOps.cpp.inc"
