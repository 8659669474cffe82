// Tests that cross entropy matches log-sum-exp in double (also for logits
// far from zero) and that its backward matches finite differences.

#include "runtime/cpu/cross_entropy.h"

#include "GradCheck.h"

#include <cmath>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t N = 2 * 5, V = 11;

std::vector<double> reference_losses(const std::vector<float> &logits,
                                     const std::vector<int32_t> &targets) {
  std::vector<double> losses(N);
  for (int64_t n = 0; n < N; n++) {
    double maxv = -INFINITY, sum = 0.0;
    for (int64_t v = 0; v < V; v++)
      maxv = std::max(maxv, double(logits[size_t(n * V + v)]));
    for (int64_t v = 0; v < V; v++)
      sum += std::exp(double(logits[size_t(n * V + v)]) - maxv);
    losses[size_t(n)] =
        maxv + std::log(sum) - logits[size_t(n * V + targets[size_t(n)])];
  }
  return losses;
}

TEST(CrossEntropyTest, ForwardMatchesLogSumExp) {
  std::vector<float> logits = random_vector(N * V, 61, -4.0f, 4.0f);
  for (int64_t v = 0; v < V; v++) {
    logits[size_t(2 * V + v)] += 1000.0f; // exp overflows without the shift
    logits[size_t(3 * V + v)] -= 1000.0f;
  }
  const std::vector<int32_t> targets = random_ids(N, 62, V);
  std::vector<float> losses(N);
  const float mean =
      cross_entropy_forward(losses.data(), logits.data(), targets.data(), N, V);
  const std::vector<double> ref = reference_losses(logits, targets);
  // Logits near +-1000 carry float rounding of ~3e-5 into each loss.
  EXPECT_TRUE(all_near("losses", losses, ref, 1e-4));
  double ref_mean = 0.0;
  for (double l : ref)
    ref_mean += l / N;
  EXPECT_NEAR(mean, ref_mean, 1e-5 * std::max(1.0, ref_mean));
  // losses is optional.
  EXPECT_EQ(mean, cross_entropy_forward(nullptr, logits.data(), targets.data(),
                                        N, V));
}

TEST(CrossEntropyTest, BackwardMatchesFiniteDifferences) {
  std::vector<float> logits = random_vector(N * V, 63, -4.0f, 4.0f);
  const std::vector<int32_t> targets = random_ids(N, 64, V);
  const float dloss = 1.7f; // any upstream gradient of the mean
  std::vector<float> dlogits(N * V);
  cross_entropy_backward(dlogits.data(), dloss, logits.data(), targets.data(),
                         N, V);
  auto loss = [&] {
    return double(dloss) *
           cross_entropy_forward(nullptr, logits.data(), targets.data(), N, V);
  };
  // The mean is rounded to float: ~1e-7 / (2h) = 5e-6 of noise, well inside.
  EXPECT_TRUE(check_gradient("dlogits", logits, dlogits, loss));
}

TEST(CrossEntropyTest, BackwardInPlaceOverLogits) {
  std::vector<float> logits = random_vector(N * V, 65, -4.0f, 4.0f);
  const std::vector<int32_t> targets = random_ids(N, 66, V);
  std::vector<float> dlogits(N * V);
  cross_entropy_backward(dlogits.data(), 1.0f, logits.data(), targets.data(), N,
                         V);
  cross_entropy_backward(logits.data(), 1.0f, logits.data(), targets.data(), N,
                         V);
  EXPECT_EQ(logits, dlogits);
}

// Splits the vocabulary of V = 12 over P ranks as Megatron does: rank r holds
// ids r*V/P .. (r+1)*V/P - 1. The partial statistics of every rank, gathered
// in rank order, give the one-device losses, and each rank's block of the
// gradient is the one-device gradient's block.
TEST(CrossEntropyTest, VocabParallelMatchesOneDevice) {
  constexpr int64_t Vfull = 12;
  std::vector<float> logits = random_vector(N * Vfull, 67, -4.0f, 4.0f);
  for (int64_t v = 0; v < Vfull; v++)
    logits[size_t(3 * Vfull + v)] += 500.0f; // shifted rows stay finite
  const std::vector<int32_t> targets = random_ids(N, 68, Vfull);
  std::vector<float> losses(N), dlogits(N * Vfull);
  const float mean = cross_entropy_forward(losses.data(), logits.data(),
                                           targets.data(), N, Vfull);
  cross_entropy_backward(dlogits.data(), 1.3f, logits.data(), targets.data(), N,
                         Vfull);
  for (int64_t P : {1, 2, 3, 4}) {
    const int64_t Vl = Vfull / P;
    std::vector<std::vector<float>> blocks(P);
    std::vector<float> gathered;
    for (int64_t r = 0; r < P; r++) {
      for (int64_t n = 0; n < N; n++)
        blocks[r].insert(blocks[r].end(), logits.begin() + n * Vfull + r * Vl,
                         logits.begin() + n * Vfull + (r + 1) * Vl);
      std::vector<float> stats(N * 3);
      cross_entropy_vp_partial(stats.data(), blocks[r].data(), targets.data(),
                               N, Vl, r * Vl);
      gathered.insert(gathered.end(), stats.begin(), stats.end());
    }
    std::vector<float> lse(N);
    const float vp_mean =
        cross_entropy_vp_finish(lse.data(), gathered.data(), N, P);
    EXPECT_NEAR(vp_mean, mean, 1e-6 * std::abs(mean)) << "P = " << P;
    for (int64_t r = 0; r < P; r++) {
      std::vector<float> dblock(N * Vl), expected;
      cross_entropy_vp_backward(dblock.data(), 1.3f, blocks[r].data(),
                                targets.data(), lse.data(), N, Vl, r * Vl);
      for (int64_t n = 0; n < N; n++)
        expected.insert(expected.end(), dlogits.begin() + n * Vfull + r * Vl,
                        dlogits.begin() + n * Vfull + (r + 1) * Vl);
      std::vector<double> ref(expected.begin(), expected.end());
      EXPECT_TRUE(all_near("dlogits block", dblock, ref, 1e-6))
          << "P = " << P << ", rank " << r;
    }
  }
}

} // namespace
