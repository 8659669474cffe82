//===- Registration.h - Dialects and passes llmc tools load -----*- C++ -*-===//
//
// One place that says which dialects, external models and passes the llmc
// tools know, so `llmc` and `llmc-opt` always agree.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_REGISTRATION_H
#define LLMC_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace llmc {

/// The llm dialect, upstream func/arith/tensor/linalg/shard, and the sharding
/// external models (without which sharding-propagation sees nothing).
void registerDialects(mlir::DialectRegistry &registry);

/// The llmc passes plus the upstream ones pass developers combine them with.
void registerPasses();

} // namespace llmc

#endif // LLMC_COMPILER_REGISTRATION_H
