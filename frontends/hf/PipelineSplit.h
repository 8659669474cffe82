//===- PipelineSplit.h - Layers per pipeline stage --------------*- C++ -*-===//
//
// Which layers each pipeline stage holds: balanced by cost, or as the user
// says. A layer costs its forward and backward FLOPs per token; the first
// stage also pays for the embedding and the last for the final norm, LM head
// and cross-entropy, which on small models weigh as much as several layers.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_FRONTENDS_HF_PIPELINESPLIT_H
#define LLMC_FRONTENDS_HF_PIPELINESPLIT_H

#include "frontends/hf/ModelBuilder.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace llmc {

/// The cost of each stage part, in FLOPs per token (forward + backward).
struct StageCosts {
  double layer = 0;
  double embedding = 0;
  double head = 0;
};
StageCosts stageCosts(const ModelConfig &config, int64_t seq);

/// The `stages` stages of the model: `layersPerStage` when given (it must
/// have one positive count per stage summing to the model's layers), else
/// the contiguous split that minimises the most expensive stage.
llvm::Expected<std::vector<PipelineStage>>
splitPipeline(const ModelConfig &config, int64_t stages, int64_t seq,
              llvm::ArrayRef<int64_t> layersPerStage = {});

} // namespace llmc

#endif // LLMC_FRONTENDS_HF_PIPELINESPLIT_H
