//===- PlanDialect.h - The plan dialect -------------------------*- C++ -*-===//
//
// Declares the plan dialect and its ops.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_DIALECTS_PLAN_IR_PLANDIALECT_H
#define LLMC_DIALECTS_PLAN_IR_PLANDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/plan/IR/PlanDialect.h.inc"
#include "dialects/plan/IR/PlanEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/plan/IR/PlanAttrs.h.inc"

#define GET_OP_CLASSES
#include "dialects/plan/IR/PlanOps.h.inc"

#endif // LLMC_DIALECTS_PLAN_IR_PLANDIALECT_H
