//===- TokenFileTest.cpp - Token files and batch formulas -----------------===//

#include "runtime/io/token_file.h"

#include "runtime/io/random.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

using namespace llmc::io;
using namespace llmc::io::testing;

namespace {

void write_tokens(const std::string &path, const std::vector<uint16_t> &ids) {
  write_bytes(path, std::string(reinterpret_cast<const char *>(ids.data()),
                                ids.size() * 2));
}

/// Token k has id k (mod 65536), so a row's ids spell its offset.
std::vector<uint16_t> iota_tokens(size_t n) {
  std::vector<uint16_t> ids(n);
  for (size_t k = 0; k < n; ++k)
    ids[k] = static_cast<uint16_t>(k);
  return ids;
}

struct Batch {
  std::vector<int32_t> inputs, targets;
};

Batch fill(const TokenFile &f, int64_t step, int64_t B, int64_t T,
           BatchOrder order, uint64_t seed, int64_t row_begin,
           int64_t row_count) {
  Batch b{std::vector<int32_t>(row_count * T, -1),
          std::vector<int32_t>(row_count * T, -1)};
  f.fill_batch(step, B, T, order, seed, b.inputs.data(), b.targets.data(),
               row_begin, row_count);
  return b;
}

/// The rows starting at offsets `starts`, T tokens each, from iota tokens.
std::vector<int32_t> rows_at(const std::vector<int> &starts, int T, int shift) {
  std::vector<int32_t> v;
  for (int o : starts)
    for (int t = 0; t < T; ++t)
      v.push_back(o + t + shift);
  return v;
}

} // namespace

// Tests o = ((i*B + b)*T) mod (N - T - 1) by hand: N = 20, T = 4, B = 2 gives
// M = 15 and offsets 0,4 | 8,12 | 16%15=1, 20%15=5 (the wrap-around).
TEST(TokenFile, SequentialFormula) {
  TempDir dir;
  write_tokens(dir.file("train.bin"), iota_tokens(20));
  TokenFile f(dir.file("train.bin"), 50257);
  EXPECT_EQ(f.num_tokens(), 20);
  const int T = 4;
  std::vector<std::vector<int>> starts = {{0, 4}, {8, 12}, {1, 5}};
  for (int step = 0; step < 3; ++step) {
    Batch b = fill(f, step, 2, T, BatchOrder::Sequential, 0, 0, 2);
    EXPECT_EQ(b.inputs, rows_at(starts[step], T, 0)) << "step " << step;
    EXPECT_EQ(b.targets, rows_at(starts[step], T, 1)) << "step " << step;
  }
  // Step 7: rows 14, 15 -> 56 % 15 = 11, 60 % 15 = 0.
  EXPECT_EQ(f.row_offset(7, 0, 2, T, BatchOrder::Sequential, 0), 11);
  EXPECT_EQ(f.row_offset(7, 1, 2, T, BatchOrder::Sequential, 0), 0);
  // The seed plays no part in sequential order.
  EXPECT_EQ(f.row_offset(7, 0, 2, T, BatchOrder::Sequential, 99), 11);
  // Targets never read past the last token: max o + T = 14 + 4 < 20.
  for (int64_t i = 0; i < 40; ++i)
    EXPECT_LT(f.row_offset(i, 1, 2, T, BatchOrder::Sequential, 0), 15);
}

// Tests the smallest file: N = T + 1 leaves one window, at 0.
TEST(TokenFile, OneWindow) {
  TempDir dir;
  write_tokens(dir.file("t.bin"), iota_tokens(5));
  TokenFile f(dir.file("t.bin"), 5);
  for (auto order : {BatchOrder::Sequential, BatchOrder::Shuffled}) {
    Batch b = fill(f, 3, 2, 4, order, 1, 0, 2);
    EXPECT_EQ(b.inputs, rows_at({0, 0}, 4, 0));
    EXPECT_EQ(b.targets, rows_at({0, 0}, 4, 1));
  }
}

// Tests the shuffled offset against the documented hash, its range, and that
// it depends on seed, step and row but nothing else.
TEST(TokenFile, ShuffledFormula) {
  TempDir dir;
  write_tokens(dir.file("t.bin"), iota_tokens(1000));
  TokenFile f(dir.file("t.bin"), 1000);
  const int64_t T = 16, B = 8;
  const uint64_t M = 1000 - T - 1;
  std::set<int64_t> seen;
  for (int64_t i = 0; i < 50; ++i)
    for (int64_t b = 0; b < B; ++b) {
      uint64_t h = splitmix64(splitmix64(splitmix64(42) ^ i) ^ b);
      int64_t o = f.row_offset(i, b, B, T, BatchOrder::Shuffled, 42);
      EXPECT_EQ(o, static_cast<int64_t>(
                       (static_cast<unsigned __int128>(h) * M) >> 64));
      EXPECT_GE(o, 0);
      EXPECT_LT(o, static_cast<int64_t>(M));
      seen.insert(o);
    }
  EXPECT_GT(seen.size(), 300u); // 400 draws from 983 values
  EXPECT_NE(f.row_offset(0, 0, B, T, BatchOrder::Shuffled, 42),
            f.row_offset(0, 0, B, T, BatchOrder::Shuffled, 43));
  // The batch size does not move a row's offset.
  EXPECT_EQ(f.row_offset(5, 3, B, T, BatchOrder::Shuffled, 42),
            f.row_offset(5, 3, 2 * B, T, BatchOrder::Shuffled, 42));
  Batch b = fill(f, 5, B, T, BatchOrder::Shuffled, 42, 3, 1);
  int64_t o = f.row_offset(5, 3, B, T, BatchOrder::Shuffled, 42);
  for (int64_t t = 0; t < T; ++t) {
    EXPECT_EQ(b.inputs[t], o + t);
    EXPECT_EQ(b.targets[t], o + t + 1);
  }
}

// Tests that the ranks' rows concatenate to the global batch, both orders.
TEST(TokenFile, DataParallelRowsConcatenate) {
  TempDir dir;
  std::vector<uint16_t> ids(997);
  for (size_t k = 0; k < ids.size(); ++k)
    ids[k] = static_cast<uint16_t>((k * 7919) % 8192);
  write_tokens(dir.file("t.bin"), ids);
  TokenFile f(dir.file("t.bin"), 8192);
  const int64_t B = 8, T = 32;
  for (auto order : {BatchOrder::Sequential, BatchOrder::Shuffled})
    for (int64_t step : {0, 1, 17, 1000}) {
      Batch global = fill(f, step, B, T, order, 7, 0, B);
      for (int64_t dp : {2, 4, 8}) {
        Batch cat;
        for (int64_t r = 0; r < dp; ++r) {
          Batch part = fill(f, step, B, T, order, 7, r * (B / dp), B / dp);
          cat.inputs.insert(cat.inputs.end(), part.inputs.begin(),
                            part.inputs.end());
          cat.targets.insert(cat.targets.end(), part.targets.begin(),
                             part.targets.end());
        }
        EXPECT_EQ(cat.inputs, global.inputs) << "step " << step << " dp " << dp;
        EXPECT_EQ(cat.targets, global.targets)
            << "step " << step << " dp " << dp;
      }
    }
}

// Tests that a large step does not overflow: ((i*B + b)*T) mod M exactly.
TEST(TokenFile, LargeStepsDoNotOverflow) {
  TempDir dir;
  write_tokens(dir.file("t.bin"), iota_tokens(1000));
  TokenFile f(dir.file("t.bin"), 1000);
  // i = 2^62, B = 4, b = 0, T = 8, M = 991: 2^67 mod 991 = 670 (Python's
  // pow(2, 67, 991)); a wrapped 64-bit product would give 0.
  int64_t i = int64_t(1) << 62;
  EXPECT_EQ(f.row_offset(i, 0, 4, 8, BatchOrder::Sequential, 0), 670);
  // b = 3 adds 3 * 8 = 24.
  EXPECT_EQ(f.row_offset(i, 3, 4, 8, BatchOrder::Sequential, 0), 694);
}

TEST(TokenFile, Errors) {
  TempDir dir;
  std::string p = dir.file("train.bin");
  EXPECT_EQ(error_of([&] { TokenFile f(p, 8192); }),
            p + ": cannot open: No such file or directory");
  write_bytes(p, std::string(201, '\0'));
  EXPECT_EQ(
      error_of([&] { TokenFile f(p, 8192); }),
      p + ": file is 201 bytes, an odd number; expected uint16 token ids");
  std::vector<uint16_t> ids(200, 1);
  ids[123] = 9000;
  ids[150] = 9001;
  write_tokens(p, ids);
  EXPECT_EQ(error_of([&] { TokenFile f(p, 8192); }),
            p + ": token id 9000 at offset 123 is >= vocab_size 8192");
  EXPECT_EQ(error_of([&] { TokenFile f(p, 9001); }),
            p + ": token id 9001 at offset 150 is >= vocab_size 9001");
  std::vector<uint16_t> llmc_bin(512, 0);
  llmc_bin[0] = 20240520 & 0xFFFF;
  llmc_bin[1] = 20240520 >> 16;
  write_tokens(p, llmc_bin);
  EXPECT_EQ(
      error_of([&] { TokenFile f(p, 50257); }),
      p + ": token id 55432 at offset 0 is >= vocab_size 50257 (the file "
          "starts with llm.c's header magic 20240520; expected headerless "
          "uint16 ids)");
  EXPECT_EQ(error_of([&] { TokenFile f(p, 0); }),
            p + ": vocab_size 0 must be positive");

  write_tokens(p, std::vector<uint16_t>(100, 3));
  TokenFile f(p, 8192);
  std::vector<int32_t> in(4 * 256), tg(4 * 256);
  EXPECT_EQ(error_of([&] {
              f.fill_batch(0, 4, 256, BatchOrder::Sequential, 0, in.data(),
                           tg.data(), 0, 4);
            }),
            p + " has 100 tokens; a sequence of 256 needs at least 257");
  EXPECT_EQ(error_of([&] { f.check_sequence_length(100); }),
            p + " has 100 tokens; a sequence of 100 needs at least 101");
  EXPECT_EQ(error_of([&] { f.check_sequence_length(99); }), "<no error>");
  EXPECT_EQ(error_of([&] { f.check_sequence_length(0); }),
            p + ": sequence length 0 must be positive");
  auto batch = [&](int64_t step, int64_t B, int64_t begin, int64_t count) {
    return error_of([&] {
      f.fill_batch(step, B, 8, BatchOrder::Sequential, 0, in.data(), tg.data(),
                   begin, count);
    });
  };
  EXPECT_EQ(batch(0, 4, 2, 3),
            p + ": rows [2, 5) are not inside a batch of 4 rows");
  EXPECT_EQ(batch(0, 4, -1, 1),
            p + ": rows [-1, 0) are not inside a batch of 4 rows");
  EXPECT_EQ(batch(0, 0, 0, 0), p + ": batch size 0 must be positive");
  EXPECT_EQ(batch(-1, 4, 0, 4), p + ": step -1 must be non-negative");
  EXPECT_EQ(batch(0, 4, 4, 0), "<no error>");
  EXPECT_EQ(
      error_of([&] { f.row_offset(0, 4, 4, 8, BatchOrder::Shuffled, 0); }),
      p + ": row 4 is not inside a batch of 4 rows");

  write_tokens(p, {});
  TokenFile empty(p, 8192);
  EXPECT_EQ(empty.num_tokens(), 0);
  EXPECT_EQ(error_of([&] { empty.check_sequence_length(1); }),
            p + " has 0 tokens; a sequence of 1 needs at least 2");
}

TEST(TokenFile, ParseBatchOrder) {
  EXPECT_EQ(parse_batch_order("sequential", "x"), BatchOrder::Sequential);
  EXPECT_EQ(parse_batch_order("shuffled", "x"), BatchOrder::Shuffled);
  EXPECT_EQ(
      error_of([] { parse_batch_order("random", "train.json: data.order"); }),
      "train.json: data.order: batch order 'random', expected "
      "'sequential' or 'shuffled'");
}

// Tests that a moved-from file is empty and the target still reads.
TEST(TokenFile, Move) {
  TempDir dir;
  write_tokens(dir.file("t.bin"), iota_tokens(10));
  TokenFile a(dir.file("t.bin"), 10);
  TokenFile b = std::move(a);
  EXPECT_EQ(b.num_tokens(), 10);
  EXPECT_EQ(b.tokens()[9], 9);
  EXPECT_EQ(a.num_tokens(), 0); // NOLINT(bugprone-use-after-move)
}
