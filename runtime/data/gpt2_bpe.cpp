//===- gpt2_bpe.cpp - GPT-2's byte-level BPE ------------------------------===//
#include "runtime/data/gpt2_bpe.h"

#include "runtime/io/error.h"
#include "runtime/io/posix_file.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <sstream>

namespace llmc::data {

using io::InputError;

namespace {

// GPT-2's pre-tokenizer (encoder.py), letters and numbers by Unicode
// property.
constexpr const char *kPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

void append_utf8(std::string &out, uint32_t code) {
  if (code < 0x80) {
    out += char(code);
  } else if (code < 0x800) {
    out += char(0xC0 | (code >> 6));
    out += char(0x80 | (code & 0x3F));
  } else {
    out += char(0xE0 | (code >> 12));
    out += char(0x80 | ((code >> 6) & 0x3F));
    out += char(0x80 | (code & 0x3F));
  }
}

// The length of the UTF-8 character that starts with `lead`.
size_t utf8_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// The offset of the first byte that does not continue valid UTF-8 (no
// overlong forms, surrogates or code points past U+10FFFF), or npos.
size_t invalid_utf8_at(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    size_t n = lead < 0x80                   ? 1
               : lead >= 0xC2 && lead < 0xE0 ? 2
               : lead >= 0xE0 && lead < 0xF0 ? 3
               : lead >= 0xF0 && lead < 0xF5 ? 4
                                             : 0;
    if (n == 0 || i + n > text.size())
      return i;
    for (size_t k = 1; k < n; ++k)
      if ((byte(i + k) & 0xC0) != 0x80)
        return i;
    unsigned char second = n > 1 ? byte(i + 1) : 0;
    if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second >= 0xA0) ||
        (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second >= 0x90))
      return i;
    i += n;
  }
  return std::string_view::npos;
}

// OpenAI's bytes_to_unicode: printable bytes stand for themselves, the
// others (controls, space, 0x7F-0xA0, 0xAD) for U+0100 onwards in order.
void make_byte_chars(std::string (&chars)[256]) {
  auto printable = [](int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
           (b >= 0xAE && b <= 0xFF);
  };
  int next = 256;
  for (int b = 0; b < 256; ++b)
    append_utf8(chars[b], printable(b) ? uint32_t(b) : uint32_t(next++));
}

} // namespace

struct Gpt2Bpe::Regex {
  pcre2_code *code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

Gpt2Bpe::Gpt2Bpe(std::string source, std::unordered_map<std::string, int> vocab,
                 const std::vector<std::pair<std::string, std::string>> &merges,
                 const std::string &merges_source)
    : source_(std::move(source)), vocab_(std::move(vocab)) {
  make_byte_chars(byte_chars_);
  // A token's bytes, from its bytes_to_unicode characters.
  std::unordered_map<std::string, unsigned char> char_bytes;
  for (int b = 0; b < 256; ++b)
    char_bytes[byte_chars_[b]] = static_cast<unsigned char>(b);
  int max_id = -1;
  for (const auto &[token, id] : vocab_) {
    if (id < 0)
      throw InputError(source_ + ": token '" + token + "' has id " +
                       std::to_string(id) + "; ids are not negative");
    max_id = std::max(max_id, id);
  }
  tokens_.assign(size_t(max_id + 1), std::string());
  for (const auto &[token, id] : vocab_) {
    std::string bytes;
    bool mapped = true;
    for (size_t i = 0; i < token.size();) {
      size_t n = utf8_length(static_cast<unsigned char>(token[i]));
      auto found = char_bytes.find(token.substr(i, n));
      if (found == char_bytes.end()) {
        mapped = false;
        break;
      }
      bytes += char(found->second);
      i += n;
    }
    // Added tokens (<|endoftext|>) are their own text.
    tokens_[size_t(id)] = mapped ? bytes : token;
  }
  for (size_t r = 0; r < merges.size(); ++r) {
    const auto &[a, b] = merges[r];
    for (const std::string &part : {a, b, a + b})
      if (!vocab_.count(part))
        throw InputError(merges_source + ": merge " + std::to_string(r + 1) +
                         " ('" + a + " " + b + "'): the vocabulary has no '" +
                         part + "'");
    ranks_.emplace(a + " " + b, int(r));
  }
  int error = 0;
  PCRE2_SIZE offset = 0;
  regex_ = std::make_unique<Regex>();
  regex_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(kPattern),
                               PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                               &error, &offset, nullptr);
  if (!regex_->code)
    throw InputError("GPT-2's pre-tokenizer: PCRE2 error " +
                     std::to_string(error));
  pcre2_jit_compile(regex_->code, PCRE2_JIT_COMPLETE); // else interpreted
}

Gpt2Bpe::~Gpt2Bpe() = default;

std::unique_ptr<Gpt2Bpe> Gpt2Bpe::from_files(const std::string &vocab_json,
                                             const std::string &merges_path) {
  auto json = nlohmann::json::parse(io::read_file(vocab_json, "the vocabulary"),
                                    nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw InputError(vocab_json + ": expected a JSON object of token: id");
  std::unordered_map<std::string, int> vocab;
  for (auto &[token, id] : json.items()) {
    if (!id.is_number_integer() ||
        id.get<int64_t>() > std::numeric_limits<int>::max())
      throw InputError(vocab_json + ": token '" + token +
                       "': expected an integer id");
    vocab[token] = id.get<int>();
  }
  std::vector<std::pair<std::string, std::string>> merges;
  std::istringstream lines(io::read_file(merges_path, "the merges"));
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0))
      continue;
    size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 ||
        line.find(' ', space + 1) != std::string::npos ||
        space + 1 == line.size())
      throw InputError(merges_path + ":" + std::to_string(number) +
                       ": expected a merge 'A B', got '" + line + "'");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return std::unique_ptr<Gpt2Bpe>(
      new Gpt2Bpe(vocab_json, std::move(vocab), merges, merges_path));
}

std::unique_ptr<Gpt2Bpe> Gpt2Bpe::from_tokenizer_json(const std::string &path) {
  auto json = nlohmann::json::parse(io::read_file(path, "the tokenizer"),
                                    nullptr, false);
  auto fail = [&](const std::string &what) -> InputError {
    return InputError(path + ": " + what);
  };
  if (json.is_discarded() || !json.is_object() || !json.contains("model") ||
      !json["model"].is_object())
    throw fail("expected a Hugging Face tokenizer.json (an object with "
               "'model')");
  const auto &model = json["model"];
  if (model.value("type", "") != "BPE" || !model.contains("vocab") ||
      !model["vocab"].is_object() || !model.contains("merges") ||
      !model["merges"].is_array())
    throw fail("model: expected a BPE with 'vocab' and 'merges' (GPT-2's "
               "byte-level BPE)");
  std::unordered_map<std::string, int> vocab;
  for (auto &[token, id] : model["vocab"].items()) {
    if (!id.is_number_integer())
      throw fail("model.vocab['" + token + "']: expected an integer id");
    vocab[token] = id.get<int>();
  }
  if (json.contains("added_tokens") && json["added_tokens"].is_array())
    for (const auto &added : json["added_tokens"])
      if (added.contains("content") && added["content"].is_string() &&
          added.contains("id") && added["id"].is_number_integer())
        vocab[added["content"].get<std::string>()] = added["id"].get<int>();
  // Merges are "a b" strings, or ["a", "b"] pairs in newer files.
  std::vector<std::pair<std::string, std::string>> merges;
  for (size_t i = 0; i < model["merges"].size(); ++i) {
    const auto &m = model["merges"][i];
    std::string where = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      std::string text = m.get<std::string>();
      size_t space = text.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == text.size())
        throw fail(where + ": expected 'A B', got '" + text + "'");
      merges.emplace_back(text.substr(0, space), text.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() &&
               m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      throw fail(where + ": expected 'A B' or [\"A\", \"B\"]");
    }
  }
  return std::unique_ptr<Gpt2Bpe>(
      new Gpt2Bpe(path, std::move(vocab), merges, path));
}

void Gpt2Bpe::encode_word(std::string_view bytes, std::vector<int> &out) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto hit = cache_.find(std::string(bytes));
    if (hit != cache_.end()) {
      out.insert(out.end(), hit->second.begin(), hit->second.end());
      return;
    }
  }
  std::vector<std::string> word;
  for (unsigned char b : bytes)
    word.push_back(byte_chars_[b]);
  // Merge the lowest-ranked adjacent pair everywhere it occurs, left to
  // right, until no pair has a rank (encoder.py's bpe()).
  constexpr int kNone = std::numeric_limits<int>::max();
  std::vector<int> rank; // of each adjacent pair, looked up once per pass
  while (word.size() > 1) {
    rank.assign(word.size() - 1, kNone);
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto found = ranks_.find(word[i] + " " + word[i + 1]);
      if (found != ranks_.end())
        rank[i] = found->second;
    }
    int best = *std::min_element(rank.begin(), rank.end());
    if (best == kNone)
      break;
    std::vector<std::string> merged;
    for (size_t i = 0; i < word.size(); ++i) {
      if (i + 1 < word.size() && rank[i] == best) {
        merged.push_back(word[i] + word[i + 1]);
        ++i;
        continue;
      }
      merged.push_back(word[i]);
    }
    word = std::move(merged);
  }
  std::vector<int> ids;
  for (const std::string &symbol : word) {
    auto id = vocab_.find(symbol);
    if (id == vocab_.end())
      throw InputError(source_ + ": the vocabulary lacks '" + symbol +
                       "' (a byte or merge result)");
    ids.push_back(id->second);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  cache_.emplace(std::string(bytes), std::move(ids));
}

std::vector<int> Gpt2Bpe::encode(std::string_view text) const {
  size_t bad = invalid_utf8_at(text);
  if (bad != std::string_view::npos)
    throw InputError(source_ + ": text to encode is not valid UTF-8 (at byte " +
                     std::to_string(bad) + ")");
  std::vector<int> ids;
  pcre2_match_data *match =
      pcre2_match_data_create_from_pattern(regex_->code, nullptr);
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  for (PCRE2_SIZE start = 0; start < text.size();) {
    if (pcre2_match(regex_->code, subject, text.size(), start,
                    PCRE2_NO_UTF_CHECK, match, nullptr) < 0)
      break; // nothing more matches (cannot happen: \s+ or a symbol does)
    PCRE2_SIZE *span = pcre2_get_ovector_pointer(match);
    encode_word(text.substr(span[0], span[1] - span[0]), ids);
    start = span[1];
  }
  pcre2_match_data_free(match);
  return ids;
}

std::string Gpt2Bpe::decode(const std::vector<int> &ids) const {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size())
      throw InputError(source_ + ": cannot decode id " +
                       std::to_string(ids[i]) + " at " + std::to_string(i) +
                       ": the vocabulary has " + std::to_string(vocab_size()));
    text += tokens_[size_t(ids[i])];
  }
  return text;
}

} // namespace llmc::data
