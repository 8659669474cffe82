//===- tokenizer.h - Text corpus to nanoGPT token files (sentencepiece) ---===//
//
// `llmc tokenize`: trains a sentencepiece BPE on a UTF-8 text corpus and
// writes the corpus as nanoGPT token files (flat little-endian uint16 ids,
// see runtime/io/token_file.h), the first part to train.bin and the rest to
// val.bin, split on a line boundary.
//
// The model is trained so that decode(encode(text)) == text byte for byte
// (for valid UTF-8 without U+2581, the character sentencepiece uses for a
// space):
//   - normalization "identity", extra whitespace kept, no dummy prefix, so
//     the text reaches the model unchanged and a line encodes the same alone
//     as in context;
//   - byte_fallback, so any character the model lacks (newline included)
//     becomes its UTF-8 bytes, one token each;
//   - every sentence, in file order, no shuffling: the same corpus and
//     options give byte-identical outputs.
// Each line is encoded alone and followed by the newline byte token
// (<0x0A>) when the corpus has a newline there. Tokenizer loads a trained
// model to encode and decode with. (sentencepiece is reached through a
// dlopened shim: see sentencepiece_backend.h.)
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_DATA_TOKENIZER_H
#define LLMC_RUNTIME_DATA_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmc::data {

class SentencePieceModel;
class Gpt2Bpe;

/// Token files hold uint16 ids.
inline constexpr int64_t kMaxTokenFileVocab = 65536;

struct TokenizeOptions {
  std::string corpus_path;
  /// Pieces in the model, meta and byte pieces included; at most 65536.
  int64_t vocab_size = 8192;
  /// Writes <model_prefix>.model and <model_prefix>.vocab.
  std::string model_prefix;
  std::string train_out;
  std::string val_out;
  /// The share of tokens (rounded to a line) that goes to val_out; in (0, 1).
  double val_fraction = 0.05;
  /// sentencepiece trainer threads; the result does not depend on it.
  int num_threads = 2;
  /// Encode with this tokenizer (see Tokenizer) instead of training one:
  /// no model is written, and the corpus is cut at the line where
  /// (1 - val_fraction) of its bytes are reached, each part encoded whole.
  std::string tokenizer_path;
};

struct TokenizeResult {
  int64_t vocab_size = 0;
  int64_t train_tokens = 0;
  int64_t val_tokens = 0;
  int64_t train_lines = 0;
  int64_t val_lines = 0;
  /// Wall time of training the model and of encoding the corpus.
  double train_seconds = 0;
  double encode_seconds = 0;
};

/// Trains the model, encodes the corpus and writes the four outputs to
/// temporary files, renamed into place only once all four are written; on
/// error no existing output is touched. Bad input (missing or empty corpus, a
/// corpus of fewer than two lines, a vocabulary sentencepiece cannot build or
/// above 65536, an unwritable output) throws llmc::io::InputError naming the
/// file or option.
TokenizeResult tokenize_corpus(const TokenizeOptions &options);

/// A tokenizer to encode and decode with: a sentencepiece model (the .model
/// file `llmc tokenize` writes, LLaMA's tokenizer.model) or GPT-2's
/// byte-level BPE (gpt2_bpe.h): a tokenizer.json, a vocab.json or
/// encoder.json with merges.txt or vocab.bpe beside it, or a folder holding
/// any of these (tokenizer.json first).
class Tokenizer {
public:
  /// Loads `path`; throws InputError naming it if it is unreadable or
  /// holds no tokenizer of these kinds.
  explicit Tokenizer(const std::string &path);
  ~Tokenizer();
  Tokenizer(Tokenizer &&) noexcept;
  Tokenizer &operator=(Tokenizer &&) noexcept;

  int64_t vocab_size() const;
  /// The files that hold this tokenizer, each with the name it takes in a
  /// model folder (tokenizer.model; tokenizer.json; vocab.json and
  /// merges.txt), which a Tokenizer of that folder loads again.
  std::vector<std::pair<std::string, std::string>> files() const;
  /// The ids of `text`, without the newline handling of tokenize_corpus.
  std::vector<int> encode(std::string_view text) const;
  /// The text of `ids`; throws InputError on an id outside the vocabulary.
  std::string decode(const std::vector<int> &ids) const;

private:
  std::string path_;
  std::unique_ptr<SentencePieceModel> model_; // or
  std::unique_ptr<Gpt2Bpe> bpe_;
  std::vector<std::pair<std::string, std::string>> files_;
};

} // namespace llmc::data

#endif // LLMC_RUNTIME_DATA_TOKENIZER_H
