//===- PlanDialect.cpp - The plan dialect ---------------------------------===//
//
// Registration and verifiers of the plan ops.
//
//===----------------------------------------------------------------------===//

#include "dialects/plan/IR/PlanDialect.h"

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
  return type.getNumElements() *
         int64_t(type.getElementTypeBitWidth() / 8);
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

LogicalResult KernelOp::verify() {
  if (getCallee().empty())
    return emitOpError("callee must not be empty");
  if (getOuts().empty())
    return emitOpError("kernel '") << getCallee() << "' writes no buffer";
  return success();
}

#define GET_OP_CLASSES
#include "dialects/plan/IR/PlanOps.cpp.inc"
