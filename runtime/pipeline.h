// One training step of a pipeline rank: its schedule of forwards and
// backwards over the microbatches (on each of its model chunks, when
// interleaved), activations and their gradients passed to the neighbour
// ranks, then the gradient reductions, the norm summed over the ranks, and
// the updates, once per step.
//
// On the CPU the messages go through the host's MPI: sends without waiting,
// each receive posted ahead. On a device they stay in device memory and go
// through its communicator (NCCL), in the groups of plan::p2p_groups: NCCL
// runs a stream's sends and receives in order, each waiting for its peer,
// so they must be issued in groups proven not to wait on each other; the
// device's stream, not the host, waits for them.
#pragma once

#include "runtime/executor.h"
#include "runtime/plan/schedule.h"

#include <map>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llmc {

namespace comm {
class Communicator;
class Request;
} // namespace comm

class PipelineRank {
public:
  // `chunks` run the rank's model chunks (in chunk order; the first one's
  // plan holds the rank's schedule), each with plan::max_in_flight stash
  // slots; `pp` is the pipeline axis (nullptr with one rank);
  // `schedules` every pipeline rank's (plan::rank_schedules). Throws
  // plan::PlanError when a chunk lacks a buffer it needs.
  PipelineRank(std::vector<Executor *> chunks, comm::Communicator *pp,
               const std::vector<std::vector<planfile::Instruction>> &schedules,
               const std::string &plan_path);
  ~PipelineRank();

  // Fills microbatch `m`'s token ids and targets (row major, B x T each);
  // either pointer may be a scratch buffer the rank does not read.
  using Feed = std::function<void(int64_t m, int32_t *ids, int32_t *targets)>;

  // Runs one step; returns the mean of the microbatches' losses on the rank
  // of the last chunk (0 on the others).
  float run_step(const OptimizerStep &opt, const Feed &feed);

  // The gradient norm of the last step (the same on every rank).
  float grad_norm() const;
  // The most microbatches the last step held activations of at once, over
  // the rank's chunks, as the schedule actually ran, and their bytes.
  int64_t peak_in_flight() const { return peak_in_flight_; }
  uint64_t peak_stash_bytes() const { return peak_stash_bytes_; }

private:
  struct Chunk;
  Chunk &chunk_of(int64_t index);
  void send(Chunk &chunk, int tensor, int peer, int tag);
  void wait_sends();
  void reap_sends();
  void post_receive(size_t from, bool gradient);
  void receive(size_t index, Chunk &chunk, int tensor, bool gradient);
  void join_grad_norms();
  // The device's way (see the top of the file).
  void issue_groups(size_t at);
  void stage_send(size_t index, Chunk &chunk, int tensor);
  void land_receive(size_t index, Chunk &chunk, int tensor);
  float *staging(size_t index, size_t n);
  void release_staging(size_t index);

  std::vector<std::unique_ptr<Chunk>> chunks_;
  comm::Communicator *pp_;
  int64_t ranks_ = 1, rank_ = 0, microbatches_ = 1, model_chunks_ = 1;
  std::vector<planfile::Instruction> schedule_;
  std::vector<int32_t> scratch_ids_, scratch_targets_;
  int64_t peak_in_flight_ = 0;
  uint64_t peak_stash_bytes_ = 0;
  // Sends in flight, each with its own copy of the data.
  std::vector<std::pair<std::vector<float>, std::unique_ptr<comm::Request>>>
      sends_;
  // The next receive of each kind (activation, gradient), posted ahead into
  // a buffer of its own: the schedule index it serves, or none.
  struct Posted {
    size_t index = SIZE_MAX;
    std::vector<float> data;
    std::unique_ptr<comm::Request> request;
  };
  Posted posted_[2];

  // On a device: the pipeline axis's device communicator, this rank's
  // groups and the next to issue, and device buffers holding each message
  // between the arena and the network (by schedule index), and spare ones.
  comm::Communicator *device_pp_ = nullptr;
  std::vector<plan::P2PGroup> groups_;
  size_t next_group_ = 0;
  struct Staging {
    float *data;
    size_t n;
  };
  std::map<size_t, Staging> staged_;
  std::vector<Staging> spare_;
};

} // namespace llmc
