//===- PlanExport.h - plan IR to the plan file ------------------*- C++ -*-===//
//
// Translates a planned program (plan dialect, after llmc-plan-memory) into
// the protobuf the runtime reads.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_PLANEXPORT_H
#define LLMC_COMPILER_PLANEXPORT_H

#include "runtime/plan/plan.pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

namespace llmc {

/// Exports `program`; `model` is copied into the plan as it is.
llvm::Expected<planfile::Plan> exportPlan(mlir::func::FuncOp program,
                                          const planfile::ModelInfo &model);

} // namespace llmc

#endif // LLMC_COMPILER_PLANEXPORT_H
