//===- checkpoint_save.h - Writing a training checkpoint from every rank
//---===//
//
// Every rank takes part in gathering its split tensors (over tp and dp, then
// the pipeline stages to the leader); the leader writes the step folder
// (weights, AdamW state, config, tokenizer, manifest) and publishes it, and
// every rank learns whether it could, so a failed write stops the whole job
// instead of leaving the others waiting in the next step.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/fault_injection.h"
#include "runtime/io/checkpoint_dir.h"
#include "runtime/io/safetensors.h"
#include "runtime/mesh_group.h"
#include "runtime/model_tensors.h"
#include "runtime/rank_programs.h"

#include <string>
#include <utility>
#include <vector>

namespace llmc {

/// What a run writes into each of its checkpoints besides the tensors.
struct CheckpointTarget {
  std::string run_dir;
  // Copied into each step folder: (source, name in the folder), from
  // data::Tokenizer::files().
  std::vector<std::pair<std::string, std::string>> tokenizer_files;
  int64_t keep_last = 0;
  /// model.safetensors' dtype: F32, or BF16 with the fp32 weights in
  /// master.safetensors beside it.
  io::DType weights_dtype = io::DType::F32;
  /// The run's record (data position, order, seed, schedule); the step is
  /// filled in per save.
  io::CheckpointManifest manifest;
};

/// Before step 0: a run folder that cannot be written fails now, not after
/// the last step (on every rank), and temporary folders of a killed run go.
void prepare_checkpoints(const CheckpointTarget &target,
                         const MeshGroup &group);

/// Writes the checkpoint of `step` (collective over the whole mesh): the
/// rank's `params` and `moments` of `file`. Throws io::InputError on every
/// rank when the leader could not write it.
void save_checkpoint(int64_t step, const CheckpointTarget &target,
                     const std::vector<PlanTensor> &params,
                     const std::vector<PlanTensor> &moments,
                     const planfile::Plan &file, const RankPrograms &programs,
                     const MeshGroup &group, const FaultInjection &fault);

} // namespace llmc
