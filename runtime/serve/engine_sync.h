// Tensor-parallel serving: rank 0 runs the HTTP server and its engine; every
// other rank of the plan holds an engine of its own and, before each step,
// applies what rank 0 did to its engine since the last one (requests added,
// requests aborted). Every rank then schedules the same batches from the
// same state, so the plan's collectives match without shipping tensors.
// (vLLM's driver broadcasts each step's batch instead; replaying the
// engine's inputs keeps the follower as small as this.)
#pragma once

#include "runtime/serve/engine.h"

#include <mpi.h>

#include <cstdint>
#include <vector>

namespace llmc::serve {

// What rank 0 did to its engine between two steps.
struct EngineOps {
  struct Add {
    std::vector<int32_t> prompt;
    SamplingParams params;
  };
  std::vector<Add> adds;       // in the order add_request took them
  std::vector<int64_t> aborts; // applied after the adds
  bool step = false;           // then one engine step
  bool stop = false;           // the server is done: followers return

  bool empty() const {
    return adds.empty() && aborts.empty() && !step && !stop;
  }
};

class EngineSync {
public:
  // Rank 0 of `world` leads; the others follow.
  explicit EngineSync(MPI_Comm world) : world_(world) {}

  // Rank 0: sends `ops` to every follower (a collective).
  void publish(const EngineOps &ops);
  // A follower: the next ops, waiting as long as the server is idle.
  EngineOps receive();

private:
  void broadcast(std::vector<char> &bytes);
  MPI_Comm world_;
};

// A follower's life: applies the leader's ops to `engine` and steps with it,
// releasing what finishes as the leader does, until the leader stops.
void follow(Engine &engine, EngineSync &sync);

} // namespace llmc::serve
