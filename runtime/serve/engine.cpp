// The generation engine; see engine.h.
#include "runtime/serve/engine.h"

#include "runtime/device.h"
#include "runtime/io/error.h"

#include <algorithm>

namespace llmc::serve {

Engine::Engine(ModelRunner &runner, uint64_t default_seed, Batching batching)
    : runner_(runner), default_seed_(default_seed),
      blocks_(runner.kv_blocks(), runner.kv_block_tokens(),
              runner.table_width()),
      scheduler_(blocks_, runner.max_batch(), batching) {}

int64_t Engine::add_request(std::vector<int32_t> prompt,
                            SamplingParams params) {
  int64_t id = next_id_;
  std::string where = "request " + std::to_string(id) + ": ";
  if (prompt.empty())
    throw io::InputError(where + "the prompt is empty");
  if (int64_t(prompt.size()) > runner_.max_seq())
    throw io::InputError(where + "a prompt of " +
                         std::to_string(prompt.size()) +
                         " tokens is longer than the plan's --max-seq " +
                         std::to_string(runner_.max_seq()));
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= runner_.vocab())
      throw io::InputError(where + "prompt token " + std::to_string(i) +
                           " is " + std::to_string(prompt[i]) +
                           ", outside the vocabulary of " +
                           std::to_string(runner_.vocab()));
  if (std::string error = params.validate(runner_.vocab()); !error.empty())
    throw io::InputError(where + error);
  // Each request its own stream: the default seed mixed with its id.
  uint64_t mix = default_seed_ ^ (uint64_t(id) * 0x9E3779B97F4A7C15ull);
  auto seq =
      std::make_unique<Sequence>(id, std::move(prompt), Sampler(params, mix));
  scheduler_.add(seq.get());
  sequences_[id] = std::move(seq);
  ++next_id_;
  return id;
}

void Engine::append(Sequence &seq, const float *logits,
                    std::vector<TokenEvent> &events, const Sample *sampled) {
  if (observer_)
    observer_(seq.id, logits, runner_.vocab());
  Sample s = sampled ? *sampled : seq.sampler.sample(logits, runner_.vocab());
  bool stop = seq.sampler.is_stop(s.token);
  if (!stop) {
    seq.output.push_back(s.token);
    seq.logprobs.push_back(s.logprob);
  }
  bool full = int64_t(seq.output.size()) >= seq.max_tokens() ||
              seq.length() >= runner_.max_seq();
  TokenEvent event{seq.id, stop ? -1 : s.token, s.logprob, stop || full, ""};
  if (event.finished) {
    event.finish_reason = stop ? "stop" : "length";
    seq.finish_reason = event.finish_reason;
    scheduler_.finish(&seq);
  }
  events.push_back(std::move(event));
}

void Engine::run(bool prefill, const std::vector<Sequence *> &seqs,
                 std::vector<TokenEvent> &events) {
  if (seqs.empty())
    return;
  std::vector<StepRow> rows;
  for (Sequence *seq : seqs) {
    // A prefill feeds the tokens not yet cached (the prompt, or after a
    // preemption all tokens so far), at most a chunk of prefill_tokens();
    // a decode the one last sampled.
    StepRow row;
    row.start = seq->cached;
    int64_t end =
        std::min(seq->length(), seq->cached + runner_.prefill_tokens());
    for (int64_t i = seq->cached; i < end; ++i)
      row.tokens.push_back(seq->token(i));
    row.block_table = blocks_.padded_table(seq->id);
    seq->cached = end;
    rows.push_back(std::move(row));
  }
  // The prefill program may take fewer rows than a step has prefills: it
  // runs once per group of them.
  size_t group = size_t(prefill ? runner_.prefill_rows() : runner_.max_batch());
  for (size_t first = 0; first < rows.size(); first += group) {
    size_t end = std::min(rows.size(), first + group);
    const float *logits =
        runner_.step(prefill, {std::make_move_iterator(rows.begin() + first),
                               std::make_move_iterator(rows.begin() + end)});
    ++(prefill ? stats_.prefill_runs : stats_.decode_runs);
    // A sequence samples once all its tokens are cached: after a decode,
    // or after the last chunk of its prefill.
    std::vector<Sequence *> sampling;
    std::vector<int64_t> rows;
    for (size_t b = first; b < end; ++b)
      if (seqs[b]->cached == seqs[b]->length()) {
        sampling.push_back(seqs[b]);
        rows.push_back(int64_t(b - first));
      }
    sample_rows(logits, sampling, rows, events);
  }
}

void Engine::sample_rows(const float *logits,
                         const std::vector<Sequence *> &seqs,
                         const std::vector<int64_t> &rows,
                         std::vector<TokenEvent> &events) {
  if (seqs.empty())
    return;
  const int64_t V = runner_.vocab();
  const DeviceBackend *device = runner_.device();
  bool on_device = device && device->sample;
  // The host reads the rows to sample them, or to show them to the
  // observer.
  const float *host = nullptr;
  if (!on_device || observer_) {
    host = runner_.host_logits(logits,
                               *std::max_element(rows.begin(), rows.end()) + 1);
  }
  auto row = [&](size_t i) { return host ? host + rows[i] * V : nullptr; };
  if (!on_device) {
    for (size_t i = 0; i < seqs.size(); ++i)
      append(*seqs[i], row(i), events);
    return;
  }
  // Each request's uniform from its own stream, as the host's sampler
  // would take it, so a seed gives the same tokens on either side.
  std::vector<DeviceSampleRow> requests;
  for (size_t i = 0; i < seqs.size(); ++i) {
    const SamplingParams &p = seqs[i]->sampler.params();
    requests.push_back({rows[i], p.temperature, p.top_p, p.top_k,
                        seqs[i]->sampler.next_uniform()});
  }
  std::vector<int32_t> tokens(seqs.size());
  std::vector<double> logprobs(seqs.size());
  device->sample(logits, V, requests, tokens.data(), logprobs.data());
  for (size_t i = 0; i < seqs.size(); ++i) {
    Sample s{tokens[i], logprobs[i]};
    append(*seqs[i], row(i), events, &s);
  }
}

void Engine::abort(int64_t id) {
  auto it = sequences_.find(id);
  if (it == sequences_.end() || it->second->state == SequenceState::Finished)
    return;
  scheduler_.abort(it->second.get());
  it->second->finish_reason = "abort";
}

void Engine::release(int64_t id) {
  auto it = sequences_.find(id);
  if (it != sequences_.end() && it->second->state == SequenceState::Finished)
    sequences_.erase(it);
}

std::vector<TokenEvent> Engine::step() {
  ScheduledStep step = scheduler_.schedule();
  stats_.max_running = std::max(
      stats_.max_running, int64_t(step.decodes.size() + step.prefills.size()));
  std::vector<TokenEvent> events;
  run(false, step.decodes, events);
  run(true, step.prefills, events);
  ++stats_.steps;
  stats_.preemptions = scheduler_.preemptions();
  return events;
}

} // namespace llmc::serve
