// What a training run resumes from a checkpoint folder: AdamW's moments and
// the step each part was saved at, the data position and the learning-rate
// schedule, each checked against what this run is asked to do, so a resume
// continues the run it comes from or says why it cannot.
#pragma once

#include "runtime/executor.h"
#include "runtime/fault_injection.h"
#include "runtime/io/checkpoint_dir.h"
#include "runtime/io/safetensors.h"
#include "runtime/io/tensor_spec.h"
#include "runtime/io/token_file.h"
#include "runtime/lr_schedule.h"
#include "runtime/mesh_group.h"
#include "runtime/model_tensors.h"
#include "runtime/rank_programs.h"
#include "runtime/train.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace llmc {

/// Where a run starts and what it continues with.
struct RunStart {
  int64_t step = 0;
  LrSchedule schedule;
  io::BatchOrder order;
  uint64_t seed = 0;
  /// A run relaunched on its own folder after it finished (a requeued job):
  /// there is nothing left to do.
  bool finished = false;
};

/// Fills this rank's `params` (and AdamW's moments) from the seed, from
/// weights, or where a checkpoint left off, and says where the run starts.
/// The same folder given to --load and --save starts from the seed until it
/// holds a checkpoint, and resumes after. The leader proves the files whole
/// (their checksums); the others check sizes only.
RunStart start_run(const TrainOptions &o, const planfile::Plan &file,
                   const RankPrograms &programs,
                   std::vector<PlanTensor> &params, const io::TokenFile &data,
                   int64_t tokens_per_step, const MeshGroup &group,
                   const FaultInjection &fault);

/// The `llmc.step` a checkpoint file records in its metadata.
int64_t recorded_step(const io::SafetensorsReader &reader,
                      const std::string &path);

/// Loads AdamW's moments of a checkpoint into `exec`'s arena; returns the
/// step they were saved at.
int64_t load_optimizer(Executor &exec, const std::string &path,
                       const std::vector<io::TensorSpec> &model_moments);

/// The data order and seed to continue with; refuses data that would not
/// continue the checkpoint's batches (another file, global batch, order or
/// seed).
std::pair<io::BatchOrder, uint64_t>
resumed_data_order(const TrainOptions &o, const io::CheckpointRef &ref,
                   const io::TokenFile &data, int64_t tokens_per_step);

/// The schedule to continue with at `step`: the checkpoint's, with what the
/// command line sets; a change of rate is refused unless --new-schedule.
LrSchedule resumed_schedule(const TrainOptions &o, const io::CheckpointRef &ref,
                            int64_t step);

} // namespace llmc
