// OpenAI's completions and chat completions API in JSON: requests parsed
// into a prompt and sampling parameters (a bad field is an ApiError naming
// it, HTTP 400), responses and stream chunks built from generated text. No
// HTTP and no model here: http_server.cpp joins this to the engine.
#pragma once

#include "runtime/serve/sampling_params.h"

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmc::serve {

// A request the API refuses: the HTTP status, OpenAI's error type and the
// field at fault (empty when none).
class ApiError : public std::runtime_error {
public:
  ApiError(int status, std::string type, std::string param,
           const std::string &message)
      : std::runtime_error(message), status(status), type(std::move(type)),
        param(std::move(param)) {}
  int status;
  std::string type, param;
  // {"error": {"message", "type", "param", "code"}}
  std::string json() const;
};

// Text in, token ids out (and back); empty when the model has no tokenizer.
struct TextCodec {
  std::function<std::vector<int32_t>(const std::string &)> encode;
  std::function<std::string(const std::vector<int32_t> &)> decode;
};

struct CompletionRequest {
  bool chat = false;
  bool stream = false;
  bool include_usage = false; // stream_options.include_usage
  std::vector<int32_t> prompt;
  SamplingParams params;
  std::vector<std::string> stop; // stop strings, matched in the text
  int64_t logprobs = -1;         // completions: top logprobs; -1: none
};

// Parses a /v1/completions or /v1/chat/completions body. Chat messages are
// rendered as "<role>: <content>\n" per message, then "assistant:" (a plain
// template; models here store none).
CompletionRequest parse_request(const std::string &body, bool chat,
                                const TextCodec &codec, int64_t vocab);

// The text of a stop string's end: the generated text cut before the first
// stop string, and whether one was found.
bool cut_at_stop(std::string &text, const std::vector<std::string> &stop);

// `text` (a decoded prefix of the output) without its unsettled end: the
// replacement characters (U+FFFD) a decoder writes for a character cut
// short, and the bytes of one not complete yet. What streams out first.
std::string settled_text(std::string text);

// The answer or stream chunks, in OpenAI's shapes.
struct CompletionResult {
  std::string id, model;
  int64_t created = 0;
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<double> logprobs;
  std::string finish_reason;
  int64_t prompt_tokens = 0;
};
std::string response_json(const CompletionRequest &request,
                          const CompletionResult &result,
                          const TextCodec &codec);
// One server-sent event: "data: {chunk}\n\n" with `delta` (the new text),
// and a finish reason on the last.
std::string stream_chunk(const CompletionRequest &request,
                         const CompletionResult &result,
                         const std::string &delta, bool first,
                         const std::string &finish_reason);
// OpenAI's last chunk of a stream with stream_options.include_usage: no
// choices, the token counts.
std::string usage_chunk(const CompletionRequest &request,
                        const CompletionResult &result);

} // namespace llmc::serve
