//===- rank_programs.h - The programs this rank runs of a training plan
//----===//
//
// A plan runs on a rank as one executor, or, pipelined, as one executor per
// model chunk the rank holds (each with a stash slot per microbatch its
// schedule keeps in flight) driven by a PipelineRank. Every executor is
// wired to the mesh's communicators by axis name.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/executor.h"
#include "runtime/mesh_group.h"
#include "runtime/model_tensors.h"
#include "runtime/pipeline.h"

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmc {

struct RankPrograms {
  /// Builds this rank's executors of `file` for its place in `group`.
  RankPrograms(const planfile::Plan &file, const MeshGroup &group,
               const std::string &plan_path);

  /// The first (or only) executor: its plan holds the model's description.
  Executor &first() const { return *executors[0]; }
  /// This rank's tensors of `category` over all its chunks.
  std::vector<PlanTensor> tensors(planfile::Category category) const;
  void set_profiling(bool on) const;
  /// Kernel seconds by kind, summed over the chunks.
  std::map<std::string, double> kernel_seconds() const;
  /// Bytes this rank has sent so far per kind of collective: the mesh's
  /// communicators', and on a device its own (NCCL) ones'.
  std::array<uint64_t, comm::kNumCollectives>
  bytes_sent(const MeshGroup &group) const;

  std::vector<std::unique_ptr<Executor>> executors;
  std::vector<const planfile::Plan *> plans; // by executor, for traces
  std::unique_ptr<PipelineRank> stage;       // pipelined plans only
};

} // namespace llmc
