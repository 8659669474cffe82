// Tests that attention through a paged KV cache equals contiguous causal
// attention (cpu::attention_forward, itself checked against a double
// reference) for sequences of different lengths whose blocks are scattered
// over the pool: a whole prefill, a decode step, a prefill in two chunks,
// padded tokens, and grouped kv heads.

#include "runtime/cpu/attention.h"
#include "runtime/cpu/paged_attention.h"

#include "GradCheck.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t kHq = 4, kHkv = 2, kD = 8, kBt = 4, kBlocks = 24,
                  kMaxBlocks = 5;

// Sequence b's keys, values and queries over its whole length, contiguous
// (1, H, L, D), as attention_forward takes them.
struct Sequence {
  int64_t L;
  std::vector<float> q, k, v;
  Sequence(int64_t L, uint64_t seed)
      : L(L), q(random_vector(size_t(kHq * L * kD), seed, -1.5f, 1.5f)),
        k(random_vector(size_t(kHkv * L * kD), seed + 1, -1.5f, 1.5f)),
        v(random_vector(size_t(kHkv * L * kD), seed + 2)) {}

  // Rows [t0, t0 + n) of a (H, L, D) tensor, as (H, n, D).
  static std::vector<float> rows(const std::vector<float> &x, int64_t H,
                                 int64_t L, int64_t t0, int64_t n) {
    std::vector<float> out(size_t(H * n * kD));
    for (int64_t h = 0; h < H; h++)
      std::copy_n(x.begin() + (h * L + t0) * kD, n * kD,
                  out.begin() + h * n * kD);
    return out;
  }
};

// The paged cache and the sequences' block tables: blocks handed out from a
// shuffled pool, so no sequence's blocks are contiguous or in order.
struct Cache {
  std::vector<float> k = std::vector<float>(kBlocks * kHkv * kBt * kD, 0.0f),
                     v = std::vector<float>(kBlocks * kHkv * kBt * kD, 0.0f);
  std::vector<int32_t> table;
  explicit Cache(int64_t B) : table(size_t(B * kMaxBlocks), -1) {
    std::vector<int32_t> pool(kBlocks);
    std::iota(pool.begin(), pool.end(), 0);
    std::shuffle(pool.begin(), pool.end(), std::mt19937(7));
    for (size_t i = 0; i < table.size(); ++i)
      table[i] = pool[i % kBlocks];
  }
};

// Runs write + attention for a batch of B sequences, T query tokens each:
// token t of sequence b is row t0[b] + t of that sequence when
// t < count[b], else padding. Returns out (B, Hq, T, D).
std::vector<float> step(const std::vector<Sequence> &seqs, Cache &cache,
                        const std::vector<int64_t> &t0,
                        const std::vector<int64_t> &count, int64_t T) {
  int64_t B = int64_t(seqs.size());
  PagedSizes s{B, T, kHq, kHkv, kD, kD, kBlocks, kBt, kMaxBlocks};
  std::vector<float> q(size_t(B * kHq * T * kD), 0.0f),
      k(size_t(B * kHkv * T * kD), 0.0f), v(k.size(), 0.0f);
  std::vector<int32_t> positions(size_t(B * T), -1);
  for (int64_t b = 0; b < B; b++) {
    const Sequence &sq = seqs[size_t(b)];
    for (auto [src, dst, H] :
         {std::tuple{&sq.q, &q, kHq}, std::tuple{&sq.k, &k, kHkv},
          std::tuple{&sq.v, &v, kHkv}}) {
      auto rows =
          Sequence::rows(*src, H, sq.L, t0[size_t(b)], count[size_t(b)]);
      for (int64_t h = 0; h < H; h++)
        std::copy_n(rows.begin() + h * count[size_t(b)] * kD,
                    count[size_t(b)] * kD, dst->begin() + (b * H + h) * T * kD);
    }
    for (int64_t t = 0; t < count[size_t(b)]; t++)
      positions[size_t(b * T + t)] = int32_t(t0[size_t(b)] + t);
  }
  EXPECT_EQ(check_paged_positions(cache.table.data(), positions.data(), s), "");
  kv_cache_write(cache.k.data(), k.data(), cache.table.data(), positions.data(),
                 kHkv, kD, s);
  kv_cache_write(cache.v.data(), v.data(), cache.table.data(), positions.data(),
                 kHkv, kD, s);
  std::vector<float> out(q.size(), 1.0f);
  paged_attention(out.data(), q.data(), cache.k.data(), cache.v.data(),
                  cache.table.data(), positions.data(),
                  1.0f / std::sqrt(float(kD)), s);
  return out;
}

// Causal attention of each whole sequence: (Hq, L, D).
std::vector<float> reference(const Sequence &s) {
  std::vector<float> out(s.q.size()), lse(size_t(kHq * s.L));
  attention_forward(out.data(), lse.data(), s.q.data(), s.k.data(), s.v.data(),
                    1, kHq, kHkv, s.L, s.L, kD, kD, 1.0f / std::sqrt(float(kD)),
                    true);
  return out;
}

// out's rows of sequence b equal reference rows [t0, t0 + n).
void expect_rows(const std::vector<float> &out, int64_t b, int64_t T,
                 const Sequence &s, int64_t t0, int64_t n) {
  auto ref = Sequence::rows(reference(s), kHq, s.L, t0, n);
  for (int64_t h = 0; h < kHq; h++)
    for (int64_t i = 0; i < n * kD; i++)
      EXPECT_NEAR(out[size_t((b * kHq + h) * T * kD + i)],
                  ref[size_t(h * n * kD + i)], 2e-6)
          << "sequence " << b << " head " << h << " element " << i;
}

TEST(PagedAttention, PrefillThenDecodeEqualsContiguousAttention) {
  // Prompts of 2, 4 (one full block), 11 and 17 tokens.
  std::vector<Sequence> seqs = {Sequence(3, 100), Sequence(5, 200),
                                Sequence(12, 300), Sequence(18, 400)};
  Cache cache(4);
  // Prefill all but each sequence's last token, right-padded to 17.
  std::vector<int64_t> zero(4, 0), prompt(4);
  for (size_t b = 0; b < 4; ++b)
    prompt[b] = seqs[b].L - 1;
  auto out = step(seqs, cache, zero, prompt, 17);
  for (int64_t b = 0; b < 4; b++) {
    expect_rows(out, b, 17, seqs[size_t(b)], 0, prompt[size_t(b)]);
    // Padding rows are zeros.
    for (int64_t h = 0; h < kHq; h++)
      for (int64_t t = prompt[size_t(b)]; t < 17; t++)
        for (int64_t d = 0; d < kD; d++)
          EXPECT_EQ(out[size_t(((b * kHq + h) * 17 + t) * kD + d)], 0.0f);
  }
  // One decode step: each sequence's last token against its cache.
  auto decoded = step(seqs, cache, prompt, std::vector<int64_t>(4, 1), 1);
  for (int64_t b = 0; b < 4; b++)
    expect_rows(decoded, b, 1, seqs[size_t(b)], prompt[size_t(b)], 1);
}

TEST(PagedAttention, ChunkedPrefillEqualsWholePrefill) {
  std::vector<Sequence> seqs = {Sequence(13, 500), Sequence(7, 600)};
  Cache cache(2);
  // Chunks of at most 6 tokens: rows [0, 6), [6, 12), [12, 13).
  for (int64_t t0 = 0; t0 < 13; t0 += 6) {
    std::vector<int64_t> start = {t0, std::min<int64_t>(t0, 7)};
    std::vector<int64_t> count = {
        std::min<int64_t>(6, 13 - t0),
        std::max<int64_t>(0, std::min<int64_t>(6, 7 - t0))};
    auto out = step(seqs, cache, start, count, 6);
    for (int64_t b = 0; b < 2; b++)
      if (count[size_t(b)] > 0)
        expect_rows(out, b, 6, seqs[size_t(b)], start[size_t(b)],
                    count[size_t(b)]);
  }
}

TEST(PagedAttention, RefusesPositionsOutsideTheTable) {
  PagedSizes s{1, 2, kHq, kHkv, kD, kD, kBlocks, kBt, 2};
  std::vector<int32_t> table = {3, 99};
  std::vector<int32_t> past = {0, 8}, outside = {0, 5}, below = {-2, 0};
  EXPECT_EQ(check_paged_positions(table.data(), past.data(), s),
            "sequence 0, token 1: position 8 is past the end of its block "
            "table");
  EXPECT_EQ(check_paged_positions(table.data(), outside.data(), s),
            "sequence 0, token 1: position 5 has a block-table entry outside "
            "the block pool");
  EXPECT_EQ(check_paged_positions(table.data(), below.data(), s),
            "sequence 0, token 0: position -2 is below -1 (padding)");
}

} // namespace
