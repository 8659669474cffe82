//===- Pipelines.h - llmc's pass pipelines ----------------------*- C++ -*-===//
//
// Every pipeline llmc runs is built here, one line of "why" per pass.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_PIPELINES_H
#define LLMC_COMPILER_PIPELINES_H

#include "passes/Choices.h"

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
  /// How data-parallel gradients travel (none: bench/dp_overlap's baseline).
  DpComm dpComm = DpComm::Overlap;
  Recompute recompute = Recompute::None;
  /// Microbatches per step (> 1: gradients are summed over them).
  int64_t microbatches = 1;
  /// Pipeline stages, and which one this program is.
  int64_t stages = 1;
  int64_t stage = 0;
  /// The parameter the first and last stage share (a tied embedding).
  std::string tied;
  /// bf16-mixed: every GEMM multiplies bf16-rounded operands.
  Precision precision = Precision::FP32;
  Fusion fusion = Fusion::All;
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
  WeightsDtype weightsDtype = WeightsDtype::FP32;
  Fusion fusion = Fusion::All;
  // BF16Mixed: bf16 weights, and GEMMs that round their activations too.
  Precision precision = Precision::FP32;
};

/// From `@forward` of general llm ops (an ONNX graph lowered op by op) to
/// a memory-planned plan of one program.
void buildGeneralPipeline(mlir::OpPassManager &pm);

/// From `@prefill` and `@decode` (the one-device forward built at the
/// prefill's and at one token) to a memory-planned `@infer` plan with a
/// program of each name over one KV cache.
void buildInferPipeline(mlir::OpPassManager &pm,
                        const InferPipelineOptions &options);

/// The registered pipeline and its options that `buildTrainPipeline(pm, o)`
/// builds, e.g. `llmc-train-pipeline{dp=2 recompute=selective}`.
std::string trainPipelineSpec(const TrainPipelineOptions &o);
std::string inferPipelineSpec(const InferPipelineOptions &o);

/// Registers the pipelines above with llmc-opt, as `llmc-train-pipeline`
/// and `llmc-infer-pipeline`: what `llmc compile` runs on the module that
/// `llmc compile --emit=import` prints.
void registerPipelines();

} // namespace llmc

#endif // LLMC_COMPILER_PIPELINES_H
