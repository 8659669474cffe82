//===- random.h - Counter-based hashing for data order and initialisation -===//
//
// Everything random in the runtime is a pure function of (seed, counters), so
// results never depend on call order, thread count or the C++ library (whose
// std::normal_distribution is implementation-defined). The functions are
// small enough to re-implement in Python for parity tests:
//
//   splitmix64(x) = fmix(x + 0x9E3779B97F4A7C15) where
//   fmix(z) = z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
//             z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31
//
// i.e. the output of one SplitMix64 step from state x (Steele, Lea, Flood,
// "Fast splittable pseudorandom number generators", 2014). The c-th output of
// a SplitMix64 generator seeded with k is splitmix64(k + c *
// 0x9E3779B97F4A7C15).
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_RANDOM_H
#define LLMC_RUNTIME_IO_RANDOM_H

#include <cstdint>
#include <string_view>

namespace llmc::io {

inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

inline constexpr uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + kGoldenGamma;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// 64-bit FNV-1a of the bytes of s: turns a tensor name into a stream key.
inline constexpr uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

/// floor(x * n / 2^64): maps a uniform 64-bit x to [0, n) (Lemire's
/// multiply-shift; the bias is below n / 2^64).
inline uint64_t scale_to_range(uint64_t x, uint64_t n) {
  // 32x32 partial products: exact, and no compiler extension needed.
  uint64_t xl = x & 0xFFFFFFFFULL, xh = x >> 32;
  uint64_t nl = n & 0xFFFFFFFFULL, nh = n >> 32;
  uint64_t ll = xl * nl, lh = xl * nh, hl = xh * nl, hh = xh * nh;
  uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFULL) + (hl & 0xFFFFFFFFULL);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_RANDOM_H
