//===- CompiledCosts.h - Planner costs from compiled programs ---*- C++ -*-===//
//
// The planner's compute costs, taken from the graph llmc actually compiles:
// one transformer layer of the model, built for a layout's micro-batch,
// tensor-parallel size and sequence parallelism, differentiated and lowered
// to a plan (with the layout's recomputation), then costed kernel by kernel
// (planner/plan_cost.h). Cached per (micro-batch, tp, sp, precision,
// recompute), so a search compiles each once.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_COMPILER_COMPILEDCOSTS_H
#define LLMC_COMPILER_COMPILEDCOSTS_H

#include "compiler/planner/estimate.h"
#include "frontends/hf/ModelConfig.h"

#include <map>
#include <memory>
#include <optional>
#include <tuple>

namespace mlir {
class MLIRContext;
}

namespace llmc {

class CompiledCosts {
public:
  CompiledCosts(const ModelConfig &config, int64_t seqLen,
                const planner::ClusterSpec &cluster);
  ~CompiledCosts();

  /// The layout's costs, or nullopt when it cannot be compiled (a tp that
  /// does not divide the model); see planner::CompiledCompute.
  std::optional<planner::CompiledCompute>
  operator()(const planner::Layout &layout);

  /// Programs compiled so far (each distinct key once).
  int compiled() const { return int(cache.size()); }

private:
  ModelConfig oneLayer;
  int64_t seqLen;
  planner::ClusterSpec cluster;
  std::unique_ptr<mlir::MLIRContext> context;
  std::map<std::tuple<int, int, bool, int, int>,
           std::optional<planner::CompiledCompute>>
      cache;
};

} // namespace llmc

#endif // LLMC_COMPILER_COMPILEDCOSTS_H
