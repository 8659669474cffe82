//===- Compile.h - The `llmc compile` driver --------------------*- C++ -*-===//
//
// Turns a model description into llm IR or a summary. Every failure comes
// back as one line for the user; the tool prints it and exits with code 2.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_COMPILE_H
#define LLMC_COMPILER_COMPILE_H

#include "passes/Choices.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace llmc {

enum class CompileMode { Forward, Train, Infer };
enum class EmitKind { MLIR, Summary, Plan, Import };

struct CompileOptions {
  std::string configPath; // a config.json, or an ONNX model
  CompileMode mode = CompileMode::Forward;
  EmitKind emit = EmitKind::MLIR;
  int64_t microBatch = 1;
  int64_t seqLen = 0;         // 0: the model's full context
  int64_t dataParallel = 1;   // ranks of --mesh dp=N; micro-batch is per rank
  int64_t tensorParallel = 1; // ranks of --mesh tp=N
  bool sequenceParallel = false; // --sequence-parallel, over the tp ranks
  int64_t zeroStage = 0;         // --zero, over the dp ranks
  Recompute recompute = Recompute::None;
  Precision precision = Precision::FP32; // --precision, training only
  Fusion fusion = Fusion::All;           // --fusion
  DpComm dpComm = DpComm::Overlap;
  int64_t pipelineStages = 1; // ranks of --mesh pp=N
  int64_t microbatches = 1;   // --microbatches, per step and dp rank
  Schedule schedule = Schedule::OneFOneB;
  int64_t virtualStages = 1;          // --virtual-stages: model chunks per rank
  std::vector<int64_t> pipelineSplit; // --pipeline-split: layers per stage
  uint64_t deviceMemory = 0;          // --device-memory in bytes; 0: unchecked
  // --mode infer: the batch and longest sequence of a step, the KV cache.
  int64_t maxBatch = 8;
  int64_t maxSeq = 0; // 0: the model's full context
  int64_t kvBlockTokens = 16;
  int64_t kvBlocks = 0;      // 0: every sequence at maxSeq
  int64_t prefillTokens = 0; // tokens per sequence a prefill step takes;
                             // 0: min(maxSeq, 256)
  int64_t prefillRows = 0;   // sequences one prefill run takes; 0: maxBatch
  WeightsDtype weightsDtype = WeightsDtype::FP32; // --weights-dtype
  std::string outputPath; // the plan file, for EmitKind::Plan
  /// An ONNX model's weights as Hugging Face safetensors (--weights-out).
  std::string weightsOut;
  /// Set by compile(): the config.json text plans carry.
  std::string hfConfigText;
};

/// How an inference plan of `precision` stores its GEMM weights: bf16 for
/// bf16-mixed (whose GEMMs round their activations too), else `asked`.
inline WeightsDtype inferWeightsDtype(Precision precision, WeightsDtype asked) {
  return precision == Precision::BF16Mixed ? WeightsDtype::BF16 : asked;
}

/// Runs `llmc compile`: IR and summaries go to `os`, plan files to
/// `options.outputPath`.
llvm::Error compile(const CompileOptions &options, llvm::raw_ostream &os);

} // namespace llmc

#endif // LLMC_COMPILER_COMPILE_H
