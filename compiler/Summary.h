//===- Summary.h - Size and cost summary of a compiled model ----*- C++ -*-===//
//
// What `llmc compile --emit=summary` prints: parameter count and per-token
// forward flops, taken from the built IR (not from a closed formula).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_SUMMARY_H
#define LLMC_COMPILER_SUMMARY_H

#include "frontends/hf/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

namespace llmc {

/// Summarizes a module built by buildModel: counts the flops of `@forward`
/// with llmc-count-flops and the parameters from its `llm.param` arguments.
llvm::Expected<llvm::json::Object> summarizeModel(mlir::ModuleOp module,
                                                  const ModelConfig &config);

} // namespace llmc

#endif // LLMC_COMPILER_SUMMARY_H
