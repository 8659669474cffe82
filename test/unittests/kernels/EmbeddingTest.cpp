// Tests that the embedding gathers rows by id and that its backward (a
// scatter-add, with repeated ids summed) matches finite differences.

#include "runtime/cpu/embedding.h"

#include "GradCheck.h"

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t N = 2 * 5, V = 7, C = 6;

TEST(EmbeddingTest, ForwardGathersRows) {
  const std::vector<float> table = random_vector(V * C, 71);
  const std::vector<int32_t> ids = {0, 6, 3, 3, 1, 0, 2, 5, 6, 4};
  std::vector<float> out(N * C);
  embedding_forward(out.data(), table.data(), ids.data(), N, V, C);
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      ASSERT_EQ(out[size_t(n * C + c)], table[size_t(ids[size_t(n)] * C + c)])
          << "n=" << n << " c=" << c;
}

TEST(EmbeddingTest, BackwardMatchesFiniteDifferences) {
  std::vector<float> table = random_vector(V * C, 72);
  // Repeated ids and an id (5) no token uses: its gradient row must be 0.
  const std::vector<int32_t> ids = {0, 6, 3, 3, 1, 0, 2, 3, 6, 4};
  const std::vector<float> r = random_vector(N * C, 73);
  std::vector<float> dtable(V * C, 123.0f); // backward must overwrite
  embedding_backward(dtable.data(), r.data(), ids.data(), N, V, C);
  for (int64_t c = 0; c < C; c++)
    EXPECT_EQ(dtable[size_t(5 * C + c)], 0.0f);
  std::vector<float> out(N * C);
  auto loss = [&] {
    embedding_forward(out.data(), table.data(), ids.data(), N, V, C);
    return project(r, out.data());
  };
  EXPECT_TRUE(check_gradient("dtable", table, dtable, loss));
}

TEST(EmbeddingTest, BackwardIndependentOfThreadCount) {
  const int64_t n = 200, v = 13, c = 600; // several column blocks
  const std::vector<float> dout = random_vector(n * c, 74);
  const std::vector<int32_t> ids = random_ids(n, 75, int32_t(v));
  std::vector<float> d1(v * c), d3(v * c);
  with_threads(1, [&] {
    embedding_backward(d1.data(), dout.data(), ids.data(), n, v, c);
  });
  with_threads(3, [&] {
    embedding_backward(d3.data(), dout.data(), ids.data(), n, v, c);
  });
  EXPECT_EQ(d1, d3);
}

// A vocab-parallel table holds rows first..first+V-1: the ranks' lookups sum
// to the one-device lookup, and their gradient blocks stack to its gradient.
TEST(EmbeddingTest, VocabParallelBlocksSumToOneDevice) {
  constexpr int64_t Vfull = 8, P = 2, Vl = Vfull / P;
  const std::vector<float> table = random_vector(Vfull * C, 74);
  const std::vector<int32_t> ids = {0, 7, 3, 4, 1, 0, 2, 5, 6, 4};
  const std::vector<float> dout = random_vector(N * C, 75);
  std::vector<float> full(N * C), dfull(Vfull * C);
  embedding_forward(full.data(), table.data(), ids.data(), N, Vfull, C);
  embedding_backward(dfull.data(), dout.data(), ids.data(), N, Vfull, C);
  std::vector<float> sum(N * C, 0.0f);
  for (int64_t r = 0; r < P; r++) {
    std::vector<float> out(N * C, 99.0f), dblock(Vl * C, 99.0f);
    embedding_forward(out.data(), table.data() + r * Vl * C, ids.data(), N, Vl,
                      C, r * Vl);
    for (size_t i = 0; i < out.size(); i++)
      sum[i] += out[i];
    embedding_backward(dblock.data(), dout.data(), ids.data(), N, Vl, C,
                       r * Vl);
    for (int64_t i = 0; i < Vl * C; i++)
      ASSERT_EQ(dblock[size_t(i)], dfull[size_t(r * Vl * C + i)]) << i;
  }
  EXPECT_EQ(sum, full);
}

} // namespace
