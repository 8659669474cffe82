//===- stage_split.cpp - Layers per pipeline stage, balanced by cost ------===//
#include "compiler/planner/stage_split.h"

#include <algorithm>
#include <limits>

namespace llmc::planner {

std::vector<int64_t> balanced_stage_layers(int64_t layers, int64_t stages,
                                           double layer, double first,
                                           double last) {
  auto cost = [&](int64_t stage, int64_t n) {
    return double(n) * layer + (stage == 0 ? first : 0) +
           (stage == stages - 1 ? last : 0);
  };
  // best[p][l]: the smallest most-expensive stage when the first p stages
  // hold the first l layers; from[p][l] the layers of stage p-1.
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> best(
      size_t(stages + 1), std::vector<double>(size_t(layers + 1), kInf));
  std::vector<std::vector<int64_t>> from(
      size_t(stages + 1), std::vector<int64_t>(size_t(layers + 1), 0));
  best[0][0] = 0;
  for (int64_t p = 1; p <= stages; ++p)
    for (int64_t l = p; l <= layers; ++l)
      for (int64_t n = 1; n <= l - (p - 1); ++n) {
        double c = std::max(best[p - 1][l - n], cost(p - 1, n));
        if (c < best[p][l]) {
          best[p][l] = c;
          from[p][l] = n;
        }
      }
  std::vector<int64_t> counts(size_t(stages), 0);
  for (int64_t p = stages, l = layers; p > 0; --p) {
    counts[size_t(p - 1)] = from[p][l];
    l -= from[p][l];
  }
  return counts;
}

} // namespace llmc::planner
