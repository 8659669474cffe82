//===- token_file.h - nanoGPT token files and the batches cut from them ---===//
//
// A token file is a flat array of little-endian uint16 token ids (nanoGPT's
// train.bin / val.bin). TokenFile maps it read-only, checks every id against
// the vocabulary once, and cuts (inputs, targets) batches from it by a fixed
// formula, so every data-parallel rank can fetch its own rows of the same
// global batch without talking to the others.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_TOKEN_FILE_H
#define LLMC_RUNTIME_IO_TOKEN_FILE_H

#include <cstdint>
#include <string>

namespace llmc::io {

/// Where row b of step i starts. With N tokens and M = max(N - T - 1, 1):
///  - Sequential: o = ((i * B + b) * T) mod M, i.e. consecutive windows that
///    wrap around (M = 1 when N == T + 1, so o = 0).
///  - Shuffled:   o = floor(h * M / 2^64) with
///    h = splitmix64(splitmix64(splitmix64(seed) ^ i) ^ b) (see random.h),
///    uniform in [0, M) and a pure function of (seed, i, b).
/// Row b reads inputs tokens[o, o + T) and targets tokens[o + 1, o + T + 1).
enum class BatchOrder { Sequential, Shuffled };

/// "sequential" or "shuffled"; anything else throws InputError naming `where`.
BatchOrder parse_batch_order(const std::string &text, const std::string &where);
/// "sequential" or "shuffled", as parse_batch_order reads it.
const char *batch_order_name(BatchOrder order);

class TokenFile {
public:
  /// Maps `path` and checks that its length is even and every id is below
  /// vocab_size; throws InputError otherwise.
  TokenFile(const std::string &path, int64_t vocab_size);
  ~TokenFile();
  TokenFile(TokenFile &&other) noexcept;
  TokenFile &operator=(TokenFile &&other) noexcept;
  TokenFile(const TokenFile &) = delete;
  TokenFile &operator=(const TokenFile &) = delete;

  const std::string &path() const { return path_; }
  int64_t num_tokens() const { return num_tokens_; }
  int64_t vocab_size() const { return vocab_size_; }
  const uint16_t *tokens() const { return tokens_; }

  /// Throws "<path> has N tokens; a sequence of T needs at least T+1" unless
  /// the file holds at least T + 1 tokens. Call it when the plan is built to
  /// fail before training starts; fill_batch checks it too.
  void check_sequence_length(int64_t T) const;

  /// The start token o of global row `row` of step `step` (see BatchOrder).
  int64_t row_offset(int64_t step, int64_t row, int64_t B, int64_t T,
                     BatchOrder order, uint64_t seed) const;

  /// Fills rows [row_begin, row_begin + row_count) of the global B x T batch
  /// of step `step`: inputs and targets each hold row_count * T ids, row
  /// major. A data-parallel rank r of dp ranks passes row_begin = r * B / dp,
  /// row_count = B / dp; the ranks' rows concatenate to the global batch.
  void fill_batch(int64_t step, int64_t B, int64_t T, BatchOrder order,
                  uint64_t seed, int32_t *inputs, int32_t *targets,
                  int64_t row_begin, int64_t row_count) const;

private:
  void release();

  std::string path_;
  int64_t vocab_size_ = 0;
  int64_t num_tokens_ = 0;
  const uint16_t *tokens_ = nullptr;
  void *mapping_ = nullptr;
  size_t mapping_size_ = 0;
};

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_TOKEN_FILE_H
