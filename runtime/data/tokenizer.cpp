//===- tokenizer.cpp - Text corpus to nanoGPT token files (sentencepiece) -===//
//
// Reads the corpus once, trains the BPE from its lines in memory, encodes it
// line by line and writes the model, its vocabulary and the two token files
// through temporary files renamed into place at the end. sentencepiece itself
// is reached through sentencepiece_backend.h.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/tokenizer.h"

#include "runtime/data/gpt2_bpe.h"
#include "runtime/data/sentencepiece_backend.h"
#include "runtime/io/error.h"
#include "runtime/io/posix_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <string_view>
#include <vector>

using llmc::io::InputError;

namespace {

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

std::string errno_text() { return std::strerror(errno); }

/// An output written to "<path>.tmp.<pid>" and renamed over `path` by
/// commit(). Until then `path` is untouched; the destructor removes the
/// temporary file of an output never committed.
class PendingFile {
public:
  /// `what` names the output in errors, e.g. "--train-out".
  PendingFile(std::string path, std::string what)
      : path_(std::move(path)), what_(std::move(what)),
        tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
    // A directory in the way would only fail at the rename, after other
    // outputs may have been replaced.
    struct stat st;
    if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      fail("cannot replace it");
    }
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      fail("cannot create " + tmp_);
  }
  ~PendingFile() {
    if (fd_ >= 0)
      ::close(fd_);
    if (!committed_)
      ::unlink(tmp_.c_str());
  }
  PendingFile(const PendingFile &) = delete;
  PendingFile &operator=(const PendingFile &) = delete;

  void write(const void *data, size_t n) {
    const char *p = static_cast<const char *>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        fail("cannot write " + tmp_);
      p += w;
      n -= static_cast<size_t>(w);
    }
  }
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  /// Flushes and closes the temporary file; deferred write errors show here.
  void finish() {
    if (::fsync(fd_) != 0)
      fail("cannot write " + tmp_);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
      fail("cannot write " + tmp_);
  }

  void commit() {
    if (::rename(tmp_.c_str(), path_.c_str()) != 0)
      fail("cannot rename " + tmp_ + " over it");
    committed_ = true;
    // Make the rename durable; some filesystems cannot fsync a directory.
    std::string dir = path_.substr(0, path_.find_last_of('/') + 1);
    int dfd = ::open(dir.empty() ? "." : dir.c_str(),
                     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }

private:
  [[noreturn]] void fail(const std::string &doing) {
    throw InputError(what_ + " " + path_ + ": " + doing + ": " + errno_text());
  }

  std::string path_, what_, tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

/// The corpus cut at '\n'; lines exclude the newline. A final line without
/// one is kept (and `last_has_newline` is false); "a\n" is one line.
struct Lines {
  std::vector<std::string_view> lines;
  bool last_has_newline = true;
};

Lines split_lines(std::string_view text) {
  Lines out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) {
      out.lines.push_back(text.substr(begin));
      out.last_has_newline = false;
      break;
    }
    out.lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

/// Trains the BPE on the non-empty lines and returns the serialized model.
std::string train_model(const llmc::data::TokenizeOptions &o,
                        const std::vector<std::string_view> &lines) {
  const std::vector<std::pair<std::string, std::string>> args = {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(o.vocab_size)},
      {"num_threads", std::to_string(o.num_threads)},
      // Every sentence in file order: the model is a function of the corpus.
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      // Every character gets a piece; anything else falls back to bytes.
      {"character_coverage", "1.0"},
      {"byte_fallback", "true"},
      // The text reaches the model as it is, so decoding restores it.
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      // Errors come back as a status; keep stderr for ours.
      {"minloglevel", "2"},
  };
  std::vector<std::string_view> sentences;
  std::copy_if(lines.begin(), lines.end(), std::back_inserter(sentences),
               [](std::string_view line) { return !line.empty(); });
  std::string model;
  std::string error =
      llmc::data::sentencepiece_library().train(args, sentences, &model);
  if (error.find("ocabulary size") != std::string::npos)
    throw InputError("--vocab-size " + std::to_string(o.vocab_size) +
                     ": sentencepiece: " + error);
  if (!error.empty())
    throw InputError(o.corpus_path +
                     ": sentencepiece training failed: " + error);
  return model;
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

struct Encoded {
  std::vector<uint16_t> tokens;
  /// line_end[i]: tokens up to and including line i (and its newline).
  std::vector<int64_t> line_end;
};

Encoded encode_lines(const llmc::data::SentencePieceModel &model,
                     const Lines &corpus, const std::string &corpus_path) {
  const int newline = model.piece_to_id("<0x0A>");
  Encoded out;
  out.line_end.reserve(corpus.lines.size());
  std::vector<int> ids;
  for (size_t i = 0; i < corpus.lines.size(); ++i) {
    std::string error = model.encode(corpus.lines[i], &ids);
    if (!error.empty())
      throw InputError(corpus_path + ": line " + std::to_string(i + 1) +
                       ": cannot encode: " + error);
    out.tokens.insert(out.tokens.end(), ids.begin(), ids.end());
    if (i + 1 < corpus.lines.size() || corpus.last_has_newline)
      out.tokens.push_back(static_cast<uint16_t>(newline));
    out.line_end.push_back(static_cast<int64_t>(out.tokens.size()));
  }
  return out;
}

/// Lines that go to train: through the first line that reaches
/// (1 - val_fraction) of the tokens, leaving at least one line to val.
size_t train_line_count(const Encoded &e, double val_fraction) {
  double target = static_cast<double>(e.tokens.size()) * (1.0 - val_fraction);
  auto it = std::lower_bound(e.line_end.begin(), e.line_end.end(),
                             static_cast<int64_t>(std::ceil(target)));
  size_t lines = static_cast<size_t>(it - e.line_end.begin()) + 1;
  return std::clamp<size_t>(lines, 1, e.line_end.size() - 1);
}

/// Ids as flat little-endian uint16, whatever the host's byte order.
void write_tokens(PendingFile &out, const uint16_t *ids, size_t n) {
  std::vector<unsigned char> bytes(2 * n);
  for (size_t i = 0; i < n; ++i) {
    bytes[2 * i] = static_cast<unsigned char>(ids[i] & 0xff);
    bytes[2 * i + 1] = static_cast<unsigned char>(ids[i] >> 8);
  }
  out.write(bytes.data(), bytes.size());
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

std::string format_double(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

void check_options(const llmc::data::TokenizeOptions &o) {
  auto require = [](const std::string &value, const char *option) {
    if (value.empty())
      throw InputError(std::string(option) + " is required");
  };
  require(o.corpus_path, "the corpus path");
  bool training = o.tokenizer_path.empty();
  if (training)
    require(o.model_prefix, "--model-prefix");
  else if (!o.model_prefix.empty())
    throw InputError("--model-prefix: with --tokenizer nothing is trained; "
                     "give one or the other");
  require(o.train_out, "--train-out");
  require(o.val_out, "--val-out");
  if (training &&
      (o.vocab_size <= 0 || o.vocab_size > llmc::data::kMaxTokenFileVocab))
    throw InputError("--vocab-size " + std::to_string(o.vocab_size) +
                     ": token files hold uint16 ids, so the vocabulary must "
                     "be in [1, 65536]");
  if (!(o.val_fraction > 0.0 && o.val_fraction < 1.0))
    throw InputError("--val-fraction " + format_double(o.val_fraction) +
                     ": must be in (0, 1)");
  if (o.num_threads < 1)
    throw InputError("num_threads must be positive, got " +
                     std::to_string(o.num_threads));
  const std::string outputs[] = {
      training ? o.model_prefix + ".model" : "(no model)",
      training ? o.model_prefix + ".vocab" : "(no vocab)", o.train_out,
      o.val_out};
  for (size_t i = 0; i < 4; ++i)
    for (size_t j = i + 1; j < 4; ++j)
      if (outputs[i] == outputs[j])
        throw InputError(outputs[i] + ": written twice (check --model-prefix, "
                                      "--train-out and --val-out)");
}

void check_corpus(const std::string &path, const std::string &text,
                  const Lines &corpus) {
  if (text.empty())
    throw InputError(path + ": the corpus is empty");
  bool any_text = std::any_of(corpus.lines.begin(), corpus.lines.end(),
                              [](std::string_view l) { return !l.empty(); });
  if (!any_text)
    throw InputError(path + ": the corpus has only empty lines");
  if (corpus.lines.size() < 2)
    throw InputError(path + ": the corpus has one line; train and val are "
                            "split on a line boundary, so it needs two");
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

//===----------------------------------------------------------------------===//
// tokenize_corpus
//===----------------------------------------------------------------------===//

namespace {

/// `llmc tokenize --tokenizer`: the corpus cut at the line where
/// (1 - val_fraction) of its bytes are reached, each part encoded whole, as
/// a document is (GPT-2's BPE joins a run of newlines into one token, so
/// line by line would differ).
llmc::data::TokenizeResult encode_corpus(const llmc::data::TokenizeOptions &o,
                                         const std::string &text,
                                         const Lines &corpus) {
  PendingFile trainOut(o.train_out, "--train-out");
  PendingFile valOut(o.val_out, "--val-out");
  llmc::data::TokenizeResult result;
  auto start = std::chrono::steady_clock::now();
  llmc::data::Tokenizer tokenizer(o.tokenizer_path);
  result.vocab_size = tokenizer.vocab_size();
  if (result.vocab_size > llmc::data::kMaxTokenFileVocab)
    throw InputError(o.tokenizer_path + ": a vocabulary of " +
                     std::to_string(result.vocab_size) +
                     "; token files hold uint16 ids (at most 65536)");
  result.train_seconds = seconds_since(start);
  start = std::chrono::steady_clock::now();
  size_t lines = corpus.lines.size(), trainLines = 0, cut = 0;
  double target = (1.0 - o.val_fraction) * double(text.size());
  while (trainLines + 1 < lines && double(cut) < target) {
    cut = size_t(corpus.lines[trainLines].data() - text.data()) +
          corpus.lines[trainLines].size() + 1;
    ++trainLines;
  }
  std::vector<int> train =
      tokenizer.encode(std::string_view(text).substr(0, cut));
  std::vector<int> val = tokenizer.encode(std::string_view(text).substr(cut));
  auto write = [](PendingFile &out, const std::vector<int> &ids) {
    std::vector<uint16_t> narrow(ids.begin(), ids.end());
    write_tokens(out, narrow.data(), narrow.size());
  };
  write(trainOut, train);
  write(valOut, val);
  result.train_lines = int64_t(trainLines);
  result.val_lines = int64_t(lines - trainLines);
  result.train_tokens = int64_t(train.size());
  result.val_tokens = int64_t(val.size());
  for (PendingFile *f : {&trainOut, &valOut})
    f->finish();
  for (PendingFile *f : {&trainOut, &valOut})
    f->commit();
  result.encode_seconds = seconds_since(start);
  return result;
}

} // namespace

llmc::data::TokenizeResult
llmc::data::tokenize_corpus(const TokenizeOptions &o) {
  check_options(o);
  const std::string text = llmc::io::read_file(o.corpus_path, "the corpus");
  const Lines corpus = split_lines(text);
  check_corpus(o.corpus_path, text, corpus);
  if (!o.tokenizer_path.empty())
    return encode_corpus(o, text, corpus);

  // Create every output first: an unwritable one fails before training.
  PendingFile modelOut(o.model_prefix + ".model", "--model-prefix");
  PendingFile vocabOut(o.model_prefix + ".vocab", "--model-prefix");
  PendingFile trainOut(o.train_out, "--train-out");
  PendingFile valOut(o.val_out, "--val-out");

  TokenizeResult result;
  auto start = std::chrono::steady_clock::now();
  std::string serialized = train_model(o, corpus.lines);
  std::string error;
  std::unique_ptr<SentencePieceModel> model =
      sentencepiece_library().load(serialized, &error);
  if (!model)
    throw std::runtime_error(
        "sentencepiece cannot load the model it trained: " + error);
  result.vocab_size = model->piece_size();
  result.train_seconds = seconds_since(start);

  start = std::chrono::steady_clock::now();
  Encoded encoded = encode_lines(*model, corpus, o.corpus_path);
  size_t trainLines = train_line_count(encoded, o.val_fraction);
  size_t trainTokens = static_cast<size_t>(encoded.line_end[trainLines - 1]);
  result.train_lines = static_cast<int64_t>(trainLines);
  result.val_lines = static_cast<int64_t>(corpus.lines.size() - trainLines);
  result.train_tokens = static_cast<int64_t>(trainTokens);
  result.val_tokens = static_cast<int64_t>(encoded.tokens.size() - trainTokens);

  modelOut.write(serialized);
  vocabOut.write(model->vocab_text());
  write_tokens(trainOut, encoded.tokens.data(), trainTokens);
  write_tokens(valOut, encoded.tokens.data() + trainTokens,
               encoded.tokens.size() - trainTokens);
  for (PendingFile *f : {&modelOut, &vocabOut, &trainOut, &valOut})
    f->finish();
  for (PendingFile *f : {&modelOut, &vocabOut, &trainOut, &valOut})
    f->commit();
  result.encode_seconds = seconds_since(start);
  return result;
}

//===----------------------------------------------------------------------===//
// Tokenizer
//===----------------------------------------------------------------------===//

namespace {

bool is_file(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string file_name(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// GPT-2's BPE from a vocabulary file and the merges beside it; `files`
/// gets both.
std::unique_ptr<llmc::data::Gpt2Bpe>
bpe_beside(const std::string &vocab,
           std::vector<std::pair<std::string, std::string>> &files) {
  std::string folder = llmc::io::directory_of(vocab);
  for (const char *merges : {"merges.txt", "vocab.bpe"})
    if (is_file(folder + "/" + merges)) {
      files = {{vocab, "vocab.json"}, {folder + "/" + merges, "merges.txt"}};
      return llmc::data::Gpt2Bpe::from_files(vocab, folder + "/" + merges);
    }
  throw InputError(vocab + ": GPT-2's BPE needs its merges beside it "
                           "(merges.txt or vocab.bpe)");
}

} // namespace

llmc::data::Tokenizer::Tokenizer(const std::string &path) : path_(path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    // A model folder: whichever tokenizer it holds.
    if (is_file(path + "/tokenizer.json"))
      *this = Tokenizer(path + "/tokenizer.json");
    else if (is_file(path + "/vocab.json"))
      bpe_ = bpe_beside(path + "/vocab.json", files_);
    else if (is_file(path + "/encoder.json"))
      bpe_ = bpe_beside(path + "/encoder.json", files_);
    else if (is_file(path + "/tokenizer.model"))
      *this = Tokenizer(path + "/tokenizer.model");
    else
      throw InputError(path + ": holds no tokenizer (tokenizer.json, "
                              "vocab.json + merges.txt, encoder.json + "
                              "vocab.bpe or tokenizer.model)");
    return;
  }
  std::string name = file_name(path);
  if (name == "tokenizer.json") {
    bpe_ = Gpt2Bpe::from_tokenizer_json(path);
    files_ = {{path, "tokenizer.json"}};
    return;
  }
  if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
    bpe_ = bpe_beside(path, files_);
    return;
  }
  files_ = {{path, "tokenizer.model"}};
  std::string serialized = llmc::io::read_file(path, "the model");
  std::string error;
  model_ = sentencepiece_library().load(serialized, &error);
  if (!model_)
    throw InputError(path + ": not a sentencepiece model: " + error);
}

llmc::data::Tokenizer::~Tokenizer() = default;
llmc::data::Tokenizer::Tokenizer(Tokenizer &&) noexcept = default;
llmc::data::Tokenizer &
llmc::data::Tokenizer::operator=(Tokenizer &&) noexcept = default;

std::vector<std::pair<std::string, std::string>>
llmc::data::Tokenizer::files() const {
  return files_;
}

int64_t llmc::data::Tokenizer::vocab_size() const {
  return bpe_ ? bpe_->vocab_size() : model_->piece_size();
}

std::vector<int> llmc::data::Tokenizer::encode(std::string_view text) const {
  if (bpe_)
    return bpe_->encode(text);
  std::vector<int> ids;
  std::string error = model_->encode(text, &ids);
  if (!error.empty())
    throw InputError(path_ + ": cannot encode: " + error);
  return ids;
}

std::string llmc::data::Tokenizer::decode(const std::vector<int> &ids) const {
  if (bpe_)
    return bpe_->decode(ids);
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= model_->piece_size())
      throw InputError(path_ + ": cannot decode id " + std::to_string(ids[i]) +
                       " at " + std::to_string(i) + ": the vocabulary has " +
                       std::to_string(model_->piece_size()));
  std::string text;
  std::string error = model_->decode(ids, &text);
  if (!error.empty())
    throw InputError(path_ + ": cannot decode: " + error);
  return text;
}
