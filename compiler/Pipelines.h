//===- Pipelines.h - llmc's pass pipelines ----------------------*- C++ -*-===//
//
// Every pipeline llmc runs is built here, one line of "why" per pass.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_PIPELINES_H
#define LLMC_COMPILER_PIPELINES_H

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace llmc {

/// From the one-device `@loss` to a memory-planned `@train_step` program.
void buildTrainPipeline(mlir::OpPassManager &pm);

} // namespace llmc

#endif // LLMC_COMPILER_PIPELINES_H
