// The plan search: every data/tensor/pipeline split of the devices, with
// sequence parallelism, virtual stages, micro-batch size, recomputation and
// ZeRO stage, scored by the analytic estimate; the fastest layouts that fit.
#pragma once

#include "compiler/planner/estimate.h"

#include <vector>

namespace llmc::planner {

struct Candidate {
  Layout layout;
  EstimateResult result;
};

struct SearchOptions {
  int devices = 0;
  int global_batch = 0; // sequences per step
  Precision precision = Precision::BF16Mixed;
  int top = 10; // how many candidates to keep
  // The fraction of device memory a candidate must leave free (allocator
  // fragmentation, buffers the estimate does not count): a layout fits when
  // its memory is at most (1 - memory_headroom) of the device's.
  double memory_headroom = 0.1;
  // Compute costs from the compiled graph; layouts it cannot compile are
  // skipped.
  CompiledComputeFn compiled;
};

struct SearchResult {
  std::vector<Candidate> best; // fastest first; empty when nothing fits
  long long evaluated = 0;     // layouts estimated
  // When nothing fits: the smallest per-device memory seen.
  Candidate smallest;
};

// Pruning: a tensor split must divide the heads and fit in one node; a
// pipeline split must divide the layers; per layout, recomputation is tried
// from none to full and the first that fits is kept (more recomputation only
// costs time), so only layouts that can fit are scored further.
SearchResult search(const ModelShape &model, const ClusterSpec &cluster,
                    const SearchOptions &options);

// The largest term of a memory breakdown, e.g. "activations".
const char *dominant_term(const MemoryBreakdown &memory);

} // namespace llmc::planner
