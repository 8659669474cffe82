//===- PipelineSplit.cpp - Layers per pipeline stage ----------------------===//

#include "frontends/hf/PipelineSplit.h"

#include <algorithm>
#include <limits>

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
    // best[p][l]: the smallest most-expensive stage when the first p stages
    // hold the first l layers; from[p][l] the layers of stage p-1.
    StageCosts cost = stageCosts(config, seq);
    auto stageCost = [&](int64_t p, int64_t layers) {
      return double(layers) * cost.layer + (p == 0 ? cost.embedding : 0) +
             (p == stages - 1 ? cost.head : 0);
    };
    constexpr double kInf = std::numeric_limits<double>::infinity();
    std::vector<std::vector<double>> best(
        size_t(stages + 1), std::vector<double>(size_t(L + 1), kInf));
    std::vector<std::vector<int64_t>> from(
        size_t(stages + 1), std::vector<int64_t>(size_t(L + 1), 0));
    best[0][0] = 0;
    for (int64_t p = 1; p <= stages; ++p)
      for (int64_t l = p; l <= L; ++l)
        for (int64_t n = 1; n <= l - (p - 1); ++n) {
          double c = std::max(best[p - 1][l - n], stageCost(p - 1, n));
          // Ties keep the later stages' layers fewer, as Megatron's
          // uneven splits do.
          if (c < best[p][l]) {
            best[p][l] = c;
            from[p][l] = n;
          }
        }
    counts.assign(size_t(stages), 0);
    for (int64_t p = stages, l = L; p > 0; --p) {
      counts[size_t(p - 1)] = from[p][l];
      l -= from[p][l];
    }
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
