//===- sentencepiece_shim.cpp - The only code that links sentencepiece ----===//
//
// Built as libllmc_sentencepiece.so with hidden visibility; exports
// llmc_sentencepiece_library() and nothing else. See sentencepiece_backend.h
// for why it sits behind dlopen.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/sentencepiece_backend.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace {

using sentencepiece::util::Status;

/// A status message without its "file.cc(N) [condition] " prefix, on one
/// line; "" when the status is ok.
std::string message_of(const Status &status) {
  if (status.ok())
    return "";
  std::string text = status.message();
  size_t open = text.find(" [");
  size_t close = text.rfind("] ");
  if (open != std::string::npos && close != std::string::npos && open < close)
    text = text.substr(close + 2);
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.empty())
    text = "sentencepiece error code " +
           std::to_string(static_cast<int>(status.code()));
  return text;
}

/// Feeds the trainer the sentences in order.
class SentenceList : public sentencepiece::SentenceIterator {
public:
  explicit SentenceList(const std::vector<std::string_view> &sentences)
      : sentences_(sentences) {
    load();
  }
  bool done() const override { return next_ >= sentences_.size(); }
  void Next() override {
    ++next_;
    load();
  }
  const std::string &value() const override { return value_; }
  Status status() const override { return Status(); }

private:
  void load() {
    if (!done())
      value_.assign(sentences_[next_]);
  }

  const std::vector<std::string_view> &sentences_;
  size_t next_ = 0;
  std::string value_;
};

class Model final : public llmc::data::SentencePieceModel {
public:
  Status load(std::string_view serialized) {
    return processor_.LoadFromSerializedProto(serialized);
  }
  int piece_size() const override { return processor_.GetPieceSize(); }
  int piece_to_id(std::string_view piece) const override {
    return processor_.PieceToId(piece);
  }
  std::string vocab_text() const override {
    std::string text;
    char score[32];
    for (int id = 0; id < processor_.GetPieceSize(); ++id) {
      std::snprintf(score, sizeof(score), "%g", processor_.GetScore(id));
      text += processor_.IdToPiece(id);
      text += '\t';
      text += score;
      text += '\n';
    }
    return text;
  }
  std::string encode(std::string_view text,
                     std::vector<int> *ids) const override {
    return message_of(processor_.Encode(text, ids));
  }
  std::string decode(const std::vector<int> &ids,
                     std::string *text) const override {
    return message_of(processor_.Decode(ids, text));
  }

private:
  sentencepiece::SentencePieceProcessor processor_;
};

class Library final : public llmc::data::SentencePieceLibrary {
public:
  std::string
  train(const std::vector<std::pair<std::string, std::string>> &args,
        const std::vector<std::string_view> &sentences,
        std::string *model) override {
    std::unordered_map<std::string, std::string> kwargs(args.begin(),
                                                        args.end());
    SentenceList list(sentences);
    return message_of(
        sentencepiece::SentencePieceTrainer::Train(kwargs, &list, model));
  }
  std::unique_ptr<llmc::data::SentencePieceModel>
  load(std::string_view serialized, std::string *error) override {
    auto model = std::make_unique<Model>();
    *error = message_of(model->load(serialized));
    if (!error->empty())
      return nullptr;
    return model;
  }
};

} // namespace

extern "C" __attribute__((visibility("default")))
llmc::data::SentencePieceLibrary *
llmc_sentencepiece_library() {
  static Library library;
  return &library;
}
