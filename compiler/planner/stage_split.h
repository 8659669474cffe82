//===- stage_split.h - Layers per pipeline stage, balanced by cost --------===//
//
// The contiguous split of a model's layers over pipeline stages that
// minimises the most expensive stage, where the first stage also pays for
// the embedding and the last for the final norm, LM head and loss (on small
// models they weigh as much as several layers). `llmc compile` splits
// pipelines this way (frontends/hf/PipelineSplit) and the planner costs the
// stages it would build.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <vector>

namespace llmc::planner {

// Layers of each of `stages` stages (each at least one), summing to
// `layers`; a layer costs `layer`, the first stage also `first`, the last
// also `last`. Ties keep the later stages' layers fewer, as Megatron's
// uneven splits do. Requires 1 <= stages <= layers.
std::vector<int64_t> balanced_stage_layers(int64_t layers, int64_t stages,
                                           double layer, double first,
                                           double last);

} // namespace llmc::planner
