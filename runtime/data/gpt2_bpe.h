//===- gpt2_bpe.h - GPT-2's byte-level BPE --------------------------------===//
//
// The tokenizer of GPT-2 (and of every model that reuses it): text is cut
// into pre-tokens by GPT-2's regular expression (contractions, letters,
// numbers, other symbols, each with an optional leading space; runs of
// whitespace), each pre-token's UTF-8 bytes are written as printable
// characters (bytes_to_unicode: a byte that is printable stands for itself,
// the others for U+0100 onwards), and merges are applied lowest rank first
// until none applies; each resulting symbol is one id of the vocabulary.
// This is OpenAI's encoder.py, whose JavaScript port (npm `gpt-3-encoder`)
// the tests compare against. The expression runs in PCRE2 with Unicode
// properties, as `\p{L}` and `\p{N}` need.
//
// Files: OpenAI's `encoder.json` + `vocab.bpe`, Hugging Face's `vocab.json`
// + `merges.txt` (the same two files), or Hugging Face's `tokenizer.json`
// of a byte-level BPE model.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_DATA_GPT2_BPE_H
#define LLMC_RUNTIME_DATA_GPT2_BPE_H

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llmc::data {

class Gpt2Bpe {
public:
  /// `vocab_json` maps each token (in bytes_to_unicode characters) to its
  /// id; `merges` holds one merge "a b" per line, by rank, after an
  /// optional "#version" line. Throws io::InputError naming the file and
  /// line that is malformed, or a merge whose parts or result the
  /// vocabulary lacks.
  static std::unique_ptr<Gpt2Bpe> from_files(const std::string &vocab_json,
                                             const std::string &merges);
  /// A Hugging Face tokenizer.json whose model is a BPE; its added tokens
  /// (<|endoftext|>) are part of the vocabulary.
  static std::unique_ptr<Gpt2Bpe> from_tokenizer_json(const std::string &path);
  ~Gpt2Bpe();

  /// One past the largest id.
  int64_t vocab_size() const { return int64_t(tokens_.size()); }
  /// Throws io::InputError when `text` is not valid UTF-8.
  std::vector<int> encode(std::string_view text) const;
  /// Throws io::InputError on an id outside the vocabulary.
  std::string decode(const std::vector<int> &ids) const;

private:
  Gpt2Bpe(std::string source, std::unordered_map<std::string, int> vocab,
          const std::vector<std::pair<std::string, std::string>> &merges,
          const std::string &merges_source);
  /// The ids of one pre-token's bytes.
  void encode_word(std::string_view bytes, std::vector<int> &out) const;

  std::string source_; // the file(s), for errors
  std::unordered_map<std::string, int> vocab_;
  std::vector<std::string> tokens_;            // by id: the token's bytes
  std::unordered_map<std::string, int> ranks_; // "a b" -> rank
  std::string byte_chars_[256];                // bytes_to_unicode, as UTF-8
  struct Regex;
  std::unique_ptr<Regex> regex_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

} // namespace llmc::data

#endif // LLMC_RUNTIME_DATA_GPT2_BPE_H
