//===- token_file.cpp - nanoGPT token files and the batches cut from them -===//

#include "runtime/io/token_file.h"

#include "runtime/io/error.h"
#include "runtime/io/posix_file.h"
#include "runtime/io/random.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/mman.h>
#include <utility>

using namespace llmc::io;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "token files are little-endian uint16 and are mapped as is");

const char *llmc::io::batch_order_name(BatchOrder order) {
  return order == BatchOrder::Shuffled ? "shuffled" : "sequential";
}

BatchOrder llmc::io::parse_batch_order(const std::string &text,
                                       const std::string &where) {
  if (text == "sequential")
    return BatchOrder::Sequential;
  if (text == "shuffled")
    return BatchOrder::Shuffled;
  throw InputError(where + ": batch order '" + text +
                   "', expected 'sequential' or 'shuffled'");
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

// The first int32 of llm.c's token files (which carry a 1024-byte header).
static constexpr uint32_t kLlmcMagic = 20240520;

TokenFile::TokenFile(const std::string &path, int64_t vocab_size)
    : path_(path), vocab_size_(vocab_size) {
  if (vocab_size <= 0)
    throw InputError(path + ": vocab_size " + std::to_string(vocab_size) +
                     " must be positive");
  PosixFile file(path, O_RDONLY);
  uint64_t bytes = file.size();
  if (bytes % 2 != 0)
    throw InputError(path + ": file is " + std::to_string(bytes) +
                     " bytes, an odd number; expected uint16 token ids");
  num_tokens_ = static_cast<int64_t>(bytes / 2);
  if (bytes > 0) {
    mapping_size_ = static_cast<size_t>(bytes);
    void *m =
        ::mmap(nullptr, mapping_size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
    if (m == MAP_FAILED)
      throw_errno(path, "cannot map");
    mapping_ = m;
    tokens_ = static_cast<const uint16_t *>(m);
  }
  // The file descriptor may close now: the mapping keeps the data.
  uint16_t max_id = 0;
  for (int64_t k = 0; k < num_tokens_; ++k)
    max_id = std::max(max_id, tokens_[k]);
  if (num_tokens_ > 0 && max_id >= vocab_size) {
    const uint16_t *bad =
        std::find_if(tokens_, tokens_ + num_tokens_,
                     [&](uint16_t t) { return t >= vocab_size; });
    std::string msg = path + ": token id " + std::to_string(*bad) +
                      " at offset " + std::to_string(bad - tokens_) +
                      " is >= vocab_size " + std::to_string(vocab_size);
    // The llm.c magic reads as ids 55432, 308: name the likely mistake.
    if (num_tokens_ >= 2 && tokens_[0] == (kLlmcMagic & 0xFFFF) &&
        tokens_[1] == (kLlmcMagic >> 16))
      msg += " (the file starts with llm.c's header magic " +
             std::to_string(kLlmcMagic) + "; expected headerless uint16 ids)";
    release();
    throw InputError(msg);
  }
}

TokenFile::~TokenFile() { release(); }

void TokenFile::release() {
  if (mapping_)
    ::munmap(mapping_, mapping_size_);
  mapping_ = nullptr;
  tokens_ = nullptr;
  mapping_size_ = 0;
}

TokenFile::TokenFile(TokenFile &&other) noexcept
    : path_(std::move(other.path_)), vocab_size_(other.vocab_size_),
      num_tokens_(std::exchange(other.num_tokens_, 0)),
      tokens_(std::exchange(other.tokens_, nullptr)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_size_(std::exchange(other.mapping_size_, 0)) {}

TokenFile &TokenFile::operator=(TokenFile &&other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    vocab_size_ = other.vocab_size_;
    num_tokens_ = std::exchange(other.num_tokens_, 0);
    tokens_ = std::exchange(other.tokens_, nullptr);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_size_ = std::exchange(other.mapping_size_, 0);
  }
  return *this;
}

//===----------------------------------------------------------------------===//
// Batches
//===----------------------------------------------------------------------===//

void TokenFile::check_sequence_length(int64_t T) const {
  if (T <= 0)
    throw InputError(path_ + ": sequence length " + std::to_string(T) +
                     " must be positive");
  if (num_tokens_ < T + 1)
    throw InputError(path_ + " has " + std::to_string(num_tokens_) +
                     " tokens; a sequence of " + std::to_string(T) +
                     " needs at least " + std::to_string(T + 1));
}

/// (a * b) mod m without overflow, by doubling (m > 0).
static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) {
  a %= m;
  uint64_t r = 0;
  for (; b; b >>= 1) {
    if (b & 1)
      r = r >= m - a ? r - (m - a) : r + a;
    a = a >= m - a ? a - (m - a) : a + a;
  }
  return r;
}

int64_t TokenFile::row_offset(int64_t step, int64_t row, int64_t B, int64_t T,
                              BatchOrder order, uint64_t seed) const {
  check_sequence_length(T);
  if (step < 0)
    throw InputError(path_ + ": step " + std::to_string(step) +
                     " must be non-negative");
  if (row < 0 || row >= B)
    throw InputError(path_ + ": row " + std::to_string(row) +
                     " is not inside a batch of " + std::to_string(B) +
                     " rows");
  auto m = static_cast<uint64_t>(std::max<int64_t>(num_tokens_ - T - 1, 1));
  auto i = static_cast<uint64_t>(step), b = static_cast<uint64_t>(row);
  if (order == BatchOrder::Sequential) {
    uint64_t window = (mulmod(i, static_cast<uint64_t>(B), m) + b % m) % m;
    return static_cast<int64_t>(mulmod(window, static_cast<uint64_t>(T), m));
  }
  uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ i) ^ b);
  return static_cast<int64_t>(scale_to_range(h, m));
}

void TokenFile::fill_batch(int64_t step, int64_t B, int64_t T, BatchOrder order,
                           uint64_t seed, int32_t *inputs, int32_t *targets,
                           int64_t row_begin, int64_t row_count) const {
  check_sequence_length(T);
  if (B <= 0)
    throw InputError(path_ + ": batch size " + std::to_string(B) +
                     " must be positive");
  if (row_begin < 0 || row_count < 0 || row_begin > B - row_count)
    throw InputError(path_ + ": rows [" + std::to_string(row_begin) + ", " +
                     std::to_string(row_begin + row_count) +
                     ") are not inside a batch of " + std::to_string(B) +
                     " rows");
  for (int64_t r = 0; r < row_count; ++r) {
    const uint16_t *src =
        tokens_ + row_offset(step, row_begin + r, B, T, order, seed);
    std::copy(src, src + T, inputs + r * T);
    std::copy(src + 1, src + T + 1, targets + r * T);
  }
}
