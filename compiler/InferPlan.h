//===- InferPlan.h - Inference layouts by their compiled costs --*- C++ -*-===//
//
// `llmc plan --mode infer`: which tensor-parallel degree and batch serve a
// model fastest on a cluster. Each candidate is compiled as the inference
// plan `llmc compile --mode infer` writes (its KV cache holding every
// sequence at full length, within the device's memory), and its prefill and
// decode programs are costed kernel by kernel (planner/plan_cost.h): decode
// is bound by the bytes of weights and cache it reads, prefill by its GEMMs.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_INFERPLAN_H
#define LLMC_COMPILER_INFERPLAN_H

#include "compiler/planner/cluster_spec.h"
#include "passes/Choices.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc {

struct InferSearchOptions {
  std::string configPath;
  int devices = 1;
  int64_t promptTokens = 128, outputTokens = 128;
  /// 0: no bound on the time per output token.
  double maxSecondsPerToken = 0;
  WeightsDtype weightsDtype = WeightsDtype::FP32;
  /// BF16Mixed: bf16 weights and GEMMs that round their activations too.
  Precision precision = Precision::FP32;
  /// Fraction of device memory a plan must leave free.
  double memoryHeadroom = 0.1;
};

/// One layout: `replicas` copies of the model, each on `tp` devices, each
/// running `maxBatch` sequences at once.
struct InferCandidate {
  int tp = 1, replicas = 1;
  int64_t maxBatch = 1;
  uint64_t arenaBytes = 0, kvCacheBytes = 0;
  /// Time to the first token (one prompt's prefill), per output token (one
  /// decode step of maxBatch sequences), and the tokens all replicas
  /// generate per second when every request brings a prompt to prefill.
  double ttftSeconds = 0, tpotSeconds = 0, tokensPerSecond = 0;
};

struct InferSearchResult {
  /// Fastest first; only those within the latency bound.
  std::vector<InferCandidate> candidates;
  int compiled = 0;
  /// Why the last refused candidate was refused, when none fits.
  std::string refused;
};

llvm::Expected<InferSearchResult>
searchInferLayouts(const InferSearchOptions &options,
                   const planner::ClusterSpec &cluster);

/// Compiles `candidate` to `path`: its KV cache filling what the device's
/// memory leaves after weights and activations.
llvm::Error writeInferPlan(const InferSearchOptions &options,
                           const planner::ClusterSpec &cluster,
                           const InferCandidate &candidate,
                           const std::string &path);

} // namespace llmc

#endif // LLMC_COMPILER_INFERPLAN_H
