// OpenAI's request and response JSON; see openai_api.h.
#include "runtime/serve/openai_api.h"

#include <nlohmann/json.hpp>

namespace llmc::serve {

using nlohmann::json;

namespace {
// Invalid UTF-8 (a model may generate any bytes) becomes U+FFFD instead of
// an exception.
std::string dump(const json &j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}
} // namespace

std::string ApiError::json() const {
  nlohmann::json e = {{"message", what()},
                      {"type", type},
                      {"param", param.empty() ? nlohmann::json(nullptr)
                                              : nlohmann::json(param)},
                      {"code", nullptr}};
  return dump(nlohmann::json{{"error", e}});
}

namespace {

[[noreturn]] void bad(const std::string &param, const std::string &message) {
  throw ApiError(400, "invalid_request_error", param, message);
}

// A number field, or `fallback` when absent or null.
template <typename T> T field(const json &body, const char *name, T fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null())
    return fallback;
  bool ok = std::is_same_v<T, bool> ? it->is_boolean()
            : std::is_integral_v<T> ? it->is_number_integer()
                                    : it->is_number();
  if (!ok)
    bad(name, std::string(name) + ": expected " +
                  (std::is_same_v<T, bool> ? "a boolean"
                   : std::is_integral_v<T> ? "an integer"
                                           : "a number"));
  return it->get<T>();
}

std::vector<int32_t> encode_text(const TextCodec &codec,
                                 const std::string &text, const char *param) {
  if (!codec.encode)
    bad(param, std::string(param) + ": this model has no tokenizer; send "
                                    "token ids");
  return codec.encode(text);
}

std::vector<int32_t> parse_prompt(const json &prompt, const TextCodec &codec,
                                  int64_t vocab) {
  if (prompt.is_string())
    return encode_text(codec, prompt.get<std::string>(), "prompt");
  // A batch of one prompt, as the API allows.
  if (prompt.is_array() && prompt.size() == 1 &&
      (prompt[0].is_string() || prompt[0].is_array()))
    return parse_prompt(prompt[0], codec, vocab);
  if (!prompt.is_array() || prompt.empty())
    bad("prompt", "prompt: expected a string or a non-empty array of token "
                  "ids (one prompt per request)");
  std::vector<int32_t> ids;
  for (const json &t : prompt) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 ||
        t.get<int64_t>() >= vocab)
      bad("prompt", "prompt: token ids must be integers in [0, " +
                        std::to_string(vocab) + ")");
    ids.push_back(t.get<int32_t>());
  }
  return ids;
}

std::string render_chat(const json &messages) {
  if (!messages.is_array() || messages.empty())
    bad("messages", "messages: expected a non-empty array");
  std::string text;
  for (const json &m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() ||
        !m.contains("content") || !m["content"].is_string())
      bad("messages", "messages: each needs a string role and content");
    text += m["role"].get<std::string>() + ": " +
            m["content"].get<std::string>() + "\n";
  }
  return text + "assistant:";
}

std::vector<std::string> parse_stop(const json &body) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null())
    return {};
  if (it->is_string())
    return {it->get<std::string>()};
  std::vector<std::string> stop;
  if (it->is_array())
    for (const json &s : *it)
      if (s.is_string() && !s.get<std::string>().empty())
        stop.push_back(s.get<std::string>());
  if (!it->is_array() || stop.size() != it->size() || stop.size() > 4)
    bad("stop", "stop: expected a string or up to 4 non-empty strings");
  return stop;
}

} // namespace

CompletionRequest parse_request(const std::string &text, bool chat,
                                const TextCodec &codec, int64_t vocab) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object())
    bad("", "the body is not a JSON object");
  CompletionRequest r;
  r.chat = chat;
  r.stream = field<bool>(body, "stream", false);
  if (auto it = body.find("stream_options");
      it != body.end() && !it->is_null()) {
    if (!it->is_object())
      bad("stream_options", "stream_options: expected an object");
    r.include_usage = field<bool>(*it, "include_usage", false);
  }
  if (chat)
    r.prompt = encode_text(codec, render_chat(body.value("messages", json())),
                           "messages");
  else if (!body.contains("prompt"))
    bad("prompt", "prompt: required");
  else
    r.prompt = parse_prompt(body["prompt"], codec, vocab);
  if (field<int64_t>(body, "n", 1) != 1)
    bad("n", "n: only 1 is supported");
  SamplingParams &p = r.params;
  p.max_tokens =
      field<int64_t>(body, chat ? "max_completion_tokens" : "max_tokens",
                     field<int64_t>(body, "max_tokens", 16));
  p.temperature = field<double>(body, "temperature", 1.0);
  p.top_p = field<double>(body, "top_p", 1.0);
  p.top_k = field<int64_t>(body, "top_k", 0);
  if (body.contains("seed") && !body["seed"].is_null())
    p.seed = uint64_t(field<int64_t>(body, "seed", 0));
  r.stop = parse_stop(body);
  if (chat)
    r.logprobs = field<bool>(body, "logprobs", false) ? 0 : -1;
  else
    r.logprobs = field<int64_t>(body, "logprobs", -1);
  p.logprobs = r.logprobs >= 0;
  if (std::string error = p.validate(vocab); !error.empty())
    bad(error.substr(0, error.find(' ')), error);
  return r;
}

std::string settled_text(std::string text) {
  const std::string replacement = "\xEF\xBF\xBD";
  while (text.size() >= 3 && text.compare(text.size() - 3, 3, replacement) == 0)
    text.resize(text.size() - 3);
  // A lead byte within the last 3 whose sequence runs past the end.
  for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    unsigned char c = static_cast<unsigned char>(text[text.size() - back]);
    if ((c & 0xC0) == 0x80)
      continue; // a continuation byte
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (need > back)
      text.resize(text.size() - back);
    break;
  }
  return text;
}

bool cut_at_stop(std::string &text, const std::vector<std::string> &stop) {
  size_t cut = std::string::npos;
  for (const std::string &s : stop)
    cut = std::min(cut, text.find(s));
  if (cut == std::string::npos)
    return false;
  text.resize(cut);
  return true;
}

namespace {

json usage(const CompletionResult &r) {
  int64_t out = int64_t(r.tokens.size());
  return {{"prompt_tokens", r.prompt_tokens},
          {"completion_tokens", out},
          {"total_tokens", r.prompt_tokens + out}};
}

// OpenAI's logprobs of the chosen tokens (no alternatives).
json logprobs_json(const CompletionRequest &q, const CompletionResult &r,
                   const TextCodec &codec) {
  if (q.logprobs < 0)
    return nullptr;
  json tokens = json::array(), values = json::array(), content = json::array();
  for (size_t i = 0; i < r.tokens.size(); ++i) {
    std::string piece = codec.decode ? codec.decode({r.tokens[i]})
                                     : std::to_string(r.tokens[i]);
    tokens.push_back(piece);
    values.push_back(r.logprobs[i]);
    content.push_back({{"token", piece},
                       {"logprob", r.logprobs[i]},
                       {"top_logprobs", json::array()}});
  }
  if (q.chat)
    return {{"content", content}};
  return {{"tokens", tokens}, {"token_logprobs", values}};
}

} // namespace

std::string response_json(const CompletionRequest &q, const CompletionResult &r,
                          const TextCodec &codec) {
  json choice = {{"index", 0},
                 {"finish_reason", r.finish_reason},
                 {"logprobs", logprobs_json(q, r, codec)}};
  if (q.chat)
    choice["message"] = {{"role", "assistant"}, {"content", r.text}};
  else
    choice["text"] = r.text;
  // An extension for clients without a tokenizer: the generated ids.
  choice["token_ids"] = r.tokens;
  json out = {{"id", r.id},
              {"object", q.chat ? "chat.completion" : "text_completion"},
              {"created", r.created},
              {"model", r.model},
              {"choices", json::array({choice})},
              {"usage", usage(r)}};
  return dump(out);
}

std::string stream_chunk(const CompletionRequest &q, const CompletionResult &r,
                         const std::string &delta, bool first,
                         const std::string &finish_reason) {
  json choice = {{"index", 0},
                 {"finish_reason",
                  finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
  if (q.chat) {
    json d = {{"content", delta}};
    if (first)
      d["role"] = "assistant";
    choice["delta"] = d;
  } else {
    choice["text"] = delta;
  }
  json out = {{"id", r.id},
              {"object", q.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", r.created},
              {"model", r.model},
              {"choices", json::array({choice})}};
  return "data: " + dump(out) + "\n\n";
}

std::string usage_chunk(const CompletionRequest &q, const CompletionResult &r) {
  json out = {{"id", r.id},
              {"object", q.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", r.created},
              {"model", r.model},
              {"choices", json::array()},
              {"usage", usage(r)}};
  return "data: " + dump(out) + "\n\n";
}

} // namespace llmc::serve
