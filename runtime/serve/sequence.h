// A request's life in the engine: its tokens so far, how many of them the
// KV cache holds, its sampler, and why it finished.
#pragma once

#include "runtime/serve/sampler.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::serve {

enum class SequenceState { Waiting, Running, Finished };

struct Sequence {
  Sequence(int64_t id, std::vector<int32_t> prompt, Sampler sampler)
      : id(id), prompt(std::move(prompt)), sampler(std::move(sampler)) {}

  int64_t id;
  std::vector<int32_t> prompt, output;
  std::vector<double> logprobs;
  Sampler sampler;
  SequenceState state = SequenceState::Waiting;
  // Tokens (prompt then output) whose keys and values are in the cache.
  int64_t cached = 0;
  std::string finish_reason; // "stop" or "length"
  int64_t preemptions = 0;

  int64_t length() const { return int64_t(prompt.size() + output.size()); }
  int64_t max_tokens() const { return sampler.params().max_tokens; }
  int32_t token(int64_t i) const {
    return i < int64_t(prompt.size()) ? prompt[size_t(i)]
                                      : output[size_t(i) - prompt.size()];
  }
};

} // namespace llmc::serve
