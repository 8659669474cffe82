//===- TokenizeCommand.cpp - `llmc tokenize` ------------------------------===//
//
// llmc tokenize CORPUS.txt --vocab-size N --model-prefix DIR/tok
//     --train-out DIR/train.bin --val-out DIR/val.bin [--val-fraction F]
// trains a sentencepiece BPE on the corpus and writes nanoGPT token files
// (see runtime/data/tokenizer.h), then prints one summary line.
//
//===----------------------------------------------------------------------===//

#include "tools/llmc/TokenizeCommand.h"

#include "runtime/data/tokenizer.h"
#include "runtime/io/error.h"
#include "tools/llmc/Errors.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

namespace {

cl::OptionCategory tokenizeCategory("llmc tokenize options");

cl::SubCommand tokenizeCmd("tokenize",
                           "Train a sentencepiece BPE on a text corpus (or "
                           "take --tokenizer) and write nanoGPT token files "
                           "(uint16)");
cl::opt<std::string> corpusPath(cl::Positional, cl::Required,
                                cl::desc("<corpus.txt>"), cl::sub(tokenizeCmd),
                                cl::cat(tokenizeCategory));
cl::opt<int64_t> vocabSize("vocab-size",
                           cl::desc("Pieces in the model (at most 65536)"),
                           cl::sub(tokenizeCmd), cl::cat(tokenizeCategory));
cl::opt<std::string> modelPrefix("model-prefix",
                                 cl::desc("Writes PREFIX.model, PREFIX.vocab"),
                                 cl::value_desc("prefix"), cl::sub(tokenizeCmd),
                                 cl::cat(tokenizeCategory));
cl::opt<std::string> trainOut("train-out", cl::Required,
                              cl::desc("Token file of the first part"),
                              cl::value_desc("file"), cl::sub(tokenizeCmd),
                              cl::cat(tokenizeCategory));
cl::opt<std::string> valOut("val-out", cl::Required,
                            cl::desc("Token file of the rest"),
                            cl::value_desc("file"), cl::sub(tokenizeCmd),
                            cl::cat(tokenizeCategory));
cl::opt<double> valFraction("val-fraction",
                            cl::desc("Share of tokens, rounded to a line, "
                                     "that goes to --val-out (default 0.05)"),
                            cl::init(0.05), cl::sub(tokenizeCmd),
                            cl::cat(tokenizeCategory));
cl::opt<std::string> tokenizerPath(
    "tokenizer",
    cl::desc("Encode with this tokenizer instead of training one: a "
             "sentencepiece .model, GPT-2's tokenizer.json or vocab.json + "
             "merges.txt, or a folder holding one"),
    cl::value_desc("path"), cl::sub(tokenizeCmd), cl::cat(tokenizeCategory));
} // namespace

bool llmc::isTokenizeCommand() { return static_cast<bool>(tokenizeCmd); }

int llmc::runTokenizeCommand() {
  llmc::data::TokenizeOptions options;
  options.corpus_path = corpusPath;
  options.vocab_size = vocabSize;
  options.model_prefix = modelPrefix;
  options.train_out = trainOut;
  options.val_out = valOut;
  options.val_fraction = valFraction;
  options.tokenizer_path = tokenizerPath;
  if (tokenizerPath.empty() && (vocabSize.getNumOccurrences() == 0 ||
                                modelPrefix.getNumOccurrences() == 0))
    return llmc::failBadInput("llmc tokenize: --vocab-size and "
                              "--model-prefix are required (or --tokenizer "
                              "to encode with an existing tokenizer)");
  if (!tokenizerPath.empty() && vocabSize.getNumOccurrences() > 0)
    return llmc::failBadInput("--vocab-size: with --tokenizer nothing is "
                              "trained; give one or the other");
  try {
    llmc::data::TokenizeResult r = llmc::data::tokenize_corpus(options);
    llvm::outs() << "tokenize: " << options.corpus_path << ": vocab "
                 << r.vocab_size << ", " << options.train_out << " "
                 << r.train_tokens << " tokens (" << r.train_lines
                 << " lines), " << options.val_out << " " << r.val_tokens
                 << " tokens (" << r.val_lines << " lines), "
                 << llvm::format(
                        tokenizerPath.empty() ? "%.2f s (training %.2f s)"
                                              : "%.2f s (loading %.2f s)",
                        r.train_seconds + r.encode_seconds, r.train_seconds)
                 << "\n";
    return 0;
  } catch (const llmc::io::InputError &e) {
    return llmc::failBadInput(e.what());
  } catch (const std::exception &e) {
    llmc::reportError(e.what());
    return llmc::kExitFailure;
  }
}
