//===- PipelineSplit.cpp - Layers per pipeline stage ----------------------===//

#include "frontends/hf/PipelineSplit.h"

#include "compiler/planner/stage_split.h"

using namespace llmc;

StageCosts llmc::stageCosts(const ModelConfig &c, int64_t seq) {
  double C = double(c.hiddenSize), F = double(c.intermediateSize);
  double kv = double(c.numKVHeads * c.headDim());
  double weights = c.family == ModelFamily::GPT2
                       ? 4 * C * C + 2 * C * F
                       : 2 * C * C + 2 * C * kv + 3 * C * F;
  // Forward 2 FLOPs per weight and token, backward twice that; attention
  // adds Q·Kᵀ and P·V over the (causal, so half the) sequence.
  StageCosts costs;
  costs.layer = 3 * (2 * weights + 2 * double(seq) * C);
  costs.head = 3 * 2 * C * double(c.vocabSize);
  // A lookup and its scatter-add: memory bound, a few passes over C.
  costs.embedding = 3 * C;
  return costs;
}

llvm::Expected<std::vector<PipelineStage>>
llmc::splitPipeline(const ModelConfig &config, int64_t stages, int64_t seq,
                    llvm::ArrayRef<int64_t> layersPerStage) {
  int64_t L = config.numLayers;
  const char *layersField =
      config.family == ModelFamily::GPT2 ? "n_layer" : "num_hidden_layers";
  if (stages <= 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--mesh pp=%lld must be positive",
                                   (long long)stages);
  if (stages > L)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "--mesh pp=%lld has more stages than the model's %s = %lld (each "
        "stage holds at least one layer)",
        (long long)stages, layersField, (long long)L);

  std::vector<int64_t> counts(layersPerStage.begin(), layersPerStage.end());
  if (!counts.empty()) {
    int64_t total = 0;
    for (int64_t n : counts) {
      if (n <= 0)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "--pipeline-split: every stage needs at least one layer, got %lld",
            (long long)n);
      total += n;
    }
    if (int64_t(counts.size()) != stages || total != L)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "--pipeline-split gives %lld stages of %lld layers in all; expected "
          "%lld stages (--mesh pp) covering the model's %s = %lld",
          (long long)counts.size(), (long long)total, (long long)stages,
          layersField, (long long)L);
  } else {
    StageCosts cost = stageCosts(config, seq);
    counts = planner::balanced_stage_layers(L, stages, cost.layer,
                                            cost.embedding, cost.head);
  }

  std::vector<PipelineStage> split;
  int64_t first = 0;
  for (int64_t p = 0; p < stages; ++p) {
    int64_t end = first + counts[size_t(p)];
    split.push_back({first, end, p == 0, p == stages - 1});
    first = end;
  }
  return split;
}
