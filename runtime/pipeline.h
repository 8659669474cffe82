// One training step of a pipeline stage: the stage's schedule of forwards and
// backwards over the microbatches, activations and their gradients passed to
// the neighbour stages with non-blocking sends, then the optimizer once.
#pragma once

#include "runtime/executor.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llmc {

namespace comm {
class Communicator;
class Request;
} // namespace comm

class PipelineStage {
public:
  // `exec` runs this stage's plan (with plan::max_in_flight stash slots);
  // `pp` is the pipeline axis (nullptr with one stage). Throws
  // plan::PlanError when the plan lacks a buffer its stage needs.
  PipelineStage(Executor &exec, comm::Communicator *pp,
                const std::string &plan_path);
  ~PipelineStage();

  // Fills microbatch `m`'s token ids and targets (row major, B x T each);
  // either pointer may be a scratch buffer the stage does not read.
  using Feed = std::function<void(int64_t m, int32_t *ids, int32_t *targets)>;

  // Runs one step; returns the mean of the microbatches' losses on the last
  // stage (0 on the others).
  float run_step(const OptimizerStep &opt, const Feed &feed);

  // The most microbatches the last step held activations of at once (its
  // stash slots in use), as the schedule actually ran.
  int64_t peak_in_flight() const { return peak_in_flight_; }
  uint64_t stash_bytes() const { return exec_.plan().stash_bytes(); }

  bool first() const { return stage_ == 0; }
  bool last() const { return stage_ + 1 == stages_; }

private:
  int64_t slot_of(int64_t microbatch, bool acquire);
  void send(int tensor, int peer, int tag);
  void wait_sends();

  Executor &exec_;
  comm::Communicator *pp_;
  int64_t stage_ = 0, stages_ = 1, microbatches_ = 1;
  // This stage's buffers (-1 where the stage has none).
  int ids_ = -1, targets_ = -1, hidden_in_ = -1, hidden_out_ = -1,
      grad_out_ = -1, grad_in_ = -1, loss_ = -1;
  std::vector<int32_t> scratch_ids_, scratch_targets_;
  // The stash slot of each microbatch in flight (-1: none), and free slots.
  std::vector<int64_t> slot_;
  std::vector<int64_t> free_slots_;
  int64_t slots_ = 0, peak_in_flight_ = 0;
  // Sends in flight, each with its own copy of the data.
  std::vector<std::pair<std::vector<float>, std::unique_ptr<comm::Request>>>
      sends_;
};

} // namespace llmc
