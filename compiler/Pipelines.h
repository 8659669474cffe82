//===- Pipelines.h - llmc's pass pipelines ----------------------*- C++ -*-===//
//
// Every pipeline llmc runs is built here, one line of "why" per pass.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_PIPELINES_H
#define LLMC_COMPILER_PIPELINES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace llmc {

/// From the one-device `@loss` to a memory-planned `@train_step` program,
/// run by each of `dataParallel` ranks.
void buildTrainPipeline(mlir::OpPassManager &pm, int64_t dataParallel = 1,
                        int64_t zeroStage = 0,
                        llvm::StringRef recompute = "none");

} // namespace llmc

#endif // LLMC_COMPILER_PIPELINES_H
