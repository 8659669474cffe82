// Which sequences run in the next step (continuous batching, as Orca and
// vLLM do it): every running sequence decodes one token (or prefills the
// next chunk of a long prompt), then waiting ones are prefilled, oldest
// first, while batch slots and cache blocks last.
// When the pool cannot hold a running sequence's next token, the youngest
// running sequence is preempted: its blocks are freed and it waits again,
// to be recomputed (prefilled with its tokens so far) when room returns.
#pragma once

#include "runtime/serve/block_manager.h"
#include "runtime/serve/sequence.h"

#include <deque>
#include <vector>

namespace llmc::serve {

// How requests are grouped into batches (--batching).
enum class Batching {
  // New sequences join the running batch whenever a slot and blocks are
  // free; finished ones leave at once (Orca, vLLM).
  Continuous,
  // Batches in arrival order: a batch runs until all of it has finished.
  Static,
  // Static batches of requests sorted by prompt length, then by requested
  // output length (Colossal-AI's OPT service), so a batch's sequences end
  // about together.
  Bucket,
};

struct ScheduledStep {
  std::vector<Sequence *> prefills, decodes;
};

class Scheduler {
public:
  Scheduler(BlockManager &blocks, int64_t max_batch,
            Batching batching = Batching::Continuous)
      : blocks_(blocks), max_batch_(max_batch), batching_(batching) {}

  void add(Sequence *seq) { waiting_.push_back(seq); }
  // At most `sequences` prefill chunks run in a step while others decode
  // (0: every admitted and prefilling sequence, the default). The rest keep
  // their slots and blocks and run in later steps, oldest first: a burst of
  // arrivals then delays the running sequences' next token by a few chunks,
  // not by every arrival's first chunk at once (vLLM's and Sarathi's
  // per-step token budget, counted in chunks).
  void set_prefill_budget(int64_t sequences) { prefill_budget_ = sequences; }
  // The sequences of the next step, their blocks reserved; finished
  // sequences have been dropped (and their blocks freed) by finish().
  ScheduledStep schedule();
  void finish(Sequence *seq);
  // Drops a sequence wherever it is (a client went away), freeing its
  // blocks at once.
  void abort(Sequence *seq);

  bool idle() const { return waiting_.empty() && running_.empty(); }
  int64_t waiting() const { return int64_t(waiting_.size()); }
  int64_t running() const { return int64_t(running_.size()); }
  int64_t preemptions() const { return preemptions_; }

private:
  void preempt(Sequence *seq);

  BlockManager &blocks_;
  int64_t max_batch_;
  Batching batching_;
  std::deque<Sequence *> waiting_;  // oldest first
  std::vector<Sequence *> running_; // in order of admission
  int64_t preemptions_ = 0;
  int64_t prefill_budget_ = 0;
};

} // namespace llmc::serve
