// The generation engine (vLLM's EngineCore): it owns the requests, and each
// step() asks the scheduler which sequences run, runs the model's prefill
// and decode programs on them, samples one token per sequence and reports
// the tokens. `llmc generate` drives it, and `llmc serve` will.
#pragma once

#include "runtime/serve/block_manager.h"
#include "runtime/serve/model_runner.h"
#include "runtime/serve/scheduler.h"
#include "runtime/serve/sequence.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmc::serve {

// One token of one request, as it is generated.
struct TokenEvent {
  int64_t request;
  int32_t token; // -1 when the request finished on a stop token
  double logprob;
  bool finished;
  std::string finish_reason; // "stop" or "length" once finished
};

// What the engine did so far: for metrics and tests.
struct EngineStats {
  int64_t steps = 0, prefill_runs = 0, decode_runs = 0;
  int64_t preemptions = 0, max_running = 0;
};

class Engine {
public:
  // `default_seed` seeds requests that give none: request i gets a seed
  // derived from it and i, so runs repeat.
  explicit Engine(ModelRunner &runner, uint64_t default_seed = 0,
                  Batching batching = Batching::Continuous);

  // Queues a request; throws io::InputError with one line for a prompt the
  // model cannot take (empty, too long, token ids outside the vocabulary)
  // or bad sampling parameters. Returns its id (0, 1, ... in arrival order).
  int64_t add_request(std::vector<int32_t> prompt, SamplingParams params);

  // One engine step: the tokens generated in it.
  std::vector<TokenEvent> step();
  // Stops request `id` (its client went away): its blocks return to the
  // pool at once; finish_reason "abort". Nothing for a finished request.
  void abort(int64_t id);
  // Forgets a finished request, so a long-running server's memory stays
  // bounded; sequence(id) is invalid afterwards.
  void release(int64_t id);
  bool idle() const { return scheduler_.idle(); }

  const Sequence &sequence(int64_t id) const { return *sequences_.at(id); }
  // Sees every row of logits a request's token is sampled from, in order
  // (for tests against a reference).
  using LogitsObserver =
      std::function<void(int64_t request, const float *logits, int64_t vocab)>;
  void observe_logits(LogitsObserver observer) {
    observer_ = std::move(observer);
  }
  const EngineStats &stats() const { return stats_; }
  int64_t kv_blocks_used() const { return blocks_.used_blocks(); }
  int64_t waiting() const { return scheduler_.waiting(); }
  int64_t running() const { return scheduler_.running(); }
  // See Scheduler::set_prefill_budget (--prefill-budget).
  void set_prefill_budget(int64_t sequences) {
    scheduler_.set_prefill_budget(sequences);
  }

private:
  // Runs prefill or decode on `seqs` and samples a token for each.
  void run(bool prefill, const std::vector<Sequence *> &seqs,
           std::vector<TokenEvent> &events);
  // Appends the token sampled from `logits` (the sequence's row, on the
  // host); with `sampled`, the device already drew it from that row, and
  // `logits` is null unless an observer sees them.
  void append(Sequence &seq, const float *logits,
              std::vector<TokenEvent> &events, const Sample *sampled = nullptr);
  // The rows of a step's logits (in the arena) that sample, sampled
  // together: on the device when it samples (runtime/device.h), else one by
  // one here.
  void sample_rows(const float *logits, const std::vector<Sequence *> &seqs,
                   const std::vector<int64_t> &rows,
                   std::vector<TokenEvent> &events);

  ModelRunner &runner_;
  uint64_t default_seed_;
  BlockManager blocks_;
  Scheduler scheduler_;
  std::map<int64_t, std::unique_ptr<Sequence>> sequences_;
  int64_t next_id_ = 0;
  EngineStats stats_;
  LogitsObserver observer_;
};

} // namespace llmc::serve
