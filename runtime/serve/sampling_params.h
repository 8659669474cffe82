// Per-request sampling parameters, with the names and defaults of OpenAI's
// completions API (top_k is an extension, as in vLLM).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace llmc::serve {

struct SamplingParams {
  double temperature = 1.0;     // 0 = greedy (argmax, lowest id on ties)
  double top_p = 1.0;           // nucleus mass kept, in (0, 1]; 1 = off
  int64_t top_k = 0;            // highest-logit tokens kept; 0 = off
  std::optional<uint64_t> seed; // absent: the engine's default seed
  int64_t max_tokens = 16;
  std::vector<int32_t> stop_token_ids;
  bool logprobs = false; // return the chosen token's logprob

  // "" when valid, else one line naming the first bad field and what was
  // expected, fit to send back to an HTTP client as is.
  std::string validate(int64_t vocab_size) const {
    std::ostringstream os;
    // Written as !(ok) so that NaN fails every check.
    if (!(std::isfinite(temperature) && temperature >= 0.0))
      os << "temperature must be finite and >= 0 (0 = greedy), got "
         << temperature;
    else if (!(top_p > 0.0 && top_p <= 1.0))
      os << "top_p must be in (0, 1], got " << top_p;
    else if (top_k < 0)
      os << "top_k must be >= 0 (0 = off), got " << top_k;
    else if (max_tokens < 1)
      os << "max_tokens must be >= 1, got " << max_tokens;
    else
      for (size_t i = 0; i < stop_token_ids.size(); i++)
        if (stop_token_ids[i] < 0 || stop_token_ids[i] >= vocab_size) {
          os << "stop_token_ids[" << i << "] must be in [0, " << vocab_size
             << "), got " << stop_token_ids[i];
          break;
        }
    return os.str();
  }
};

} // namespace llmc::serve
