//===- sentencepiece_backend.h - sentencepiece behind a dlopen boundary ---===//
//
// Internal to runtime/data. Debian's libsentencepiece carries its own
// protobuf-lite 3.14 and exports it; a process that also links the system
// libprotobuf 3.21 (llmc does, for plan files) binds sentencepiece to the
// wrong one and dies in protobuf's version check at the first model. So only
// libllmc_sentencepiece.so (sentencepiece_shim.cpp) links sentencepiece, and
// it is loaded with RTLD_DEEPBIND | RTLD_LOCAL: sentencepiece then resolves
// protobuf to its own copy and the rest of the process never sees it.
//
// Nothing crosses the boundary but these two interfaces (virtual calls, no
// symbol lookup), plain std types and error strings: no exceptions, no RTTI.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_DATA_SENTENCEPIECE_BACKEND_H
#define LLMC_RUNTIME_DATA_SENTENCEPIECE_BACKEND_H

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmc::data {

/// A loaded model. Methods that can fail return "" or sentencepiece's
/// message (one line, without its source location).
class SentencePieceModel {
public:
  virtual ~SentencePieceModel() = default;
  virtual int piece_size() const = 0;
  /// The id of `piece`, or the unknown id if the model lacks it.
  virtual int piece_to_id(std::string_view piece) const = 0;
  /// "<piece>\t<score>" lines, as sentencepiece's own .vocab files.
  virtual std::string vocab_text() const = 0;
  /// Replaces *ids with the ids of `text`.
  virtual std::string encode(std::string_view text,
                             std::vector<int> *ids) const = 0;
  virtual std::string decode(const std::vector<int> &ids,
                             std::string *text) const = 0;
};

class SentencePieceLibrary {
public:
  virtual ~SentencePieceLibrary() = default;
  /// Trains on `sentences` with trainer flags `args` (name, value) and
  /// stores the serialized model in *model.
  virtual std::string
  train(const std::vector<std::pair<std::string, std::string>> &args,
        const std::vector<std::string_view> &sentences, std::string *model) = 0;
  /// Loads a serialized model; null (and *error set) if it is not one.
  virtual std::unique_ptr<SentencePieceModel> load(std::string_view serialized,
                                                   std::string *error) = 0;
};

/// The shim's library object, loaded on first use. Throws std::runtime_error
/// (an installation problem, not bad input) if the shim cannot be loaded.
SentencePieceLibrary &sentencepiece_library();

} // namespace llmc::data

/// The shim's one exported symbol.
extern "C" llmc::data::SentencePieceLibrary *llmc_sentencepiece_library();

#endif // LLMC_RUNTIME_DATA_SENTENCEPIECE_BACKEND_H
