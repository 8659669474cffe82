//===- RandomTest.cpp - The counter-based hashes against known values -----===//

#include "runtime/io/random.h"

#include <gtest/gtest.h>

using namespace llmc::io;

// Tests SplitMix64 against the outputs of the reference generator seeded
// with 1234567 (Vigna's splitmix64.c).
TEST(Random, SplitMix64KnownOutputs) {
  EXPECT_EQ(splitmix64(1234567), 6457827717110365317ULL);
  EXPECT_EQ(splitmix64(1234567 + kGoldenGamma), 3203168211198807973ULL);
  EXPECT_EQ(splitmix64(1234567 + 2 * kGoldenGamma), 9817491932198370423ULL);
}

TEST(Random, Fnv1a64KnownOutputs) {
  EXPECT_EQ(fnv1a64(""), 0xCBF29CE484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xAF63DC4C8601EC8CULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171F73967E8ULL);
}

// Tests the multiply-high against 128-bit arithmetic.
TEST(Random, ScaleToRange) {
  EXPECT_EQ(scale_to_range(0, 983), 0u);
  EXPECT_EQ(scale_to_range(~0ULL, 983), 982u);
  EXPECT_EQ(scale_to_range(1ULL << 63, 1000), 500u);
  uint64_t x = 0x0123456789ABCDEFULL;
  for (int k = 0; k < 1000; ++k) {
    x = splitmix64(x);
    uint64_t n = splitmix64(x + 1) >> (k % 64);
    if (n == 0)
      continue;
    auto want =
        static_cast<uint64_t>((static_cast<unsigned __int128>(x) * n) >> 64);
    ASSERT_EQ(scale_to_range(x, n), want) << x << " " << n;
  }
}
