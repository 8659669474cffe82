//===- Pipelines.h - llmc's pass pipelines ----------------------*- C++ -*-===//
//
// Every pipeline llmc runs is built here, one line of "why" per pass.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_PIPELINES_H
#define LLMC_COMPILER_PIPELINES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace llmc {

/// How the training step is split: over data-parallel ranks, ZeRO, and
/// pipeline stages with gradient accumulation over microbatches.
struct TrainPipelineOptions {
  int64_t dataParallel = 1;
  int64_t zeroStage = 0;
  /// How data-parallel gradients travel: "overlap" (each bucket starts as
  /// the backward pass completes it), "blocking" (all after the backward
  /// pass, nothing hidden), or "none" (not at all: a benchmark baseline
  /// whose replicas diverge; bench/dp_overlap).
  std::string dpComm = "overlap";
  std::string recompute = "none";
  /// Microbatches per step (> 1: gradients are summed over them).
  int64_t microbatches = 1;
  /// Pipeline stages, and which one this program is.
  int64_t stages = 1;
  int64_t stage = 0;
  /// The parameter the first and last stage share (a tied embedding).
  std::string tied;
  bool pipelined() const { return microbatches > 1 || stages > 1; }
};

/// From the one-device `@loss` (or one pipeline stage's) to a
/// memory-planned `@train_step` program, run by each of `dataParallel` ranks.
void buildTrainPipeline(mlir::OpPassManager &pm,
                        const TrainPipelineOptions &options = {});

/// How an inference plan pages its KV cache.
struct InferPipelineOptions {
  int64_t blockTokens = 16;
  int64_t blocks = 0;
  int64_t maxBlocks = 0; // block-table entries per sequence
  int64_t tensorParallel = 1;
};

/// From `@prefill` and `@decode` (the one-device forward built at the
/// prefill's and at one token) to a memory-planned `@infer` plan with a
/// program of each name over one KV cache.
void buildInferPipeline(mlir::OpPassManager &pm,
                        const InferPipelineOptions &options);

} // namespace llmc

#endif // LLMC_COMPILER_PIPELINES_H
