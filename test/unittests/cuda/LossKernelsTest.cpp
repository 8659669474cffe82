// The vocab-parallel cross-entropy (Megatron's three steps) and the
// gradients' sum of squares under the SIMT emulator against the CPU.

#include "runtime/cuda/simt/simt.h"

#include "runtime/cpu/adamw.h"
#include "runtime/cpu/cross_entropy.h"
#include "runtime/cuda/device/cross_entropy.cuh"
#include "runtime/cuda/device/grad_norm.cuh"
#include "test/cuda/kernel_inputs.h"
#include "test/unittests/cuda/expect_close.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using llmc::simt::launch;
using llmc::test::expect_close;
using llmc::test::random_values;
namespace device = llmc::cuda::device;

namespace {

// A vocabulary of 1000 over 3 ranks (333, 333, 334 ids), targets on every
// rank; the combined loss must also equal the unsplit cross-entropy.
TEST(LossKernelsTest, VocabParallelCrossEntropyMatchesCpu) {
  const int N = 19, P = 3, Vs[P] = {333, 333, 334}, V = 1000;
  auto logits = random_values(size_t(N) * V, 50, 3.0f);
  std::vector<int> targets(N);
  for (int n = 0; n < N; ++n)
    targets[n] = (n * 337 + 11) % V;
  std::vector<float> gathered(size_t(P) * N * 3), ref_gathered(gathered.size());
  std::vector<std::vector<float>> blocks(P);
  for (int p = 0, first = 0; p < P; first += Vs[p++]) {
    blocks[p].resize(size_t(N) * Vs[p]);
    for (int n = 0; n < N; ++n)
      for (int v = 0; v < Vs[p]; ++v)
        blocks[p][size_t(n) * Vs[p] + v] = logits[size_t(n) * V + first + v];
    llmc::cpu::cross_entropy_vp_partial(ref_gathered.data() + size_t(p) * N * 3,
                                        blocks[p].data(), targets.data(), N,
                                        Vs[p], first);
    launch(N, device::kCrossEntropyThreads, [&] {
      device::cross_entropy_vp_partial_kernel(
          gathered.data() + size_t(p) * N * 3, blocks[p].data(), targets.data(),
          N, Vs[p], first);
    });
  }
  expect_close(gathered, ref_gathered, 1e-5f);

  std::vector<float> lse(N), ref_lse(N);
  float loss = NAN;
  float ref_loss = llmc::cpu::cross_entropy_vp_finish(
      ref_lse.data(), ref_gathered.data(), N, P);
  launch(1, 1024, [&] {
    device::cross_entropy_vp_finish_kernel(&loss, lse.data(), gathered.data(),
                                           N, P);
  });
  expect_close(lse, ref_lse, 1e-6f);
  EXPECT_NEAR(loss, ref_loss, 1e-5f * ref_loss);
  EXPECT_NEAR(loss,
              llmc::cpu::cross_entropy_forward(nullptr, logits.data(),
                                               targets.data(), N, V),
              1e-5f * ref_loss);

  float dloss = 0.7f;
  for (int p = 0, first = 0; p < P; first += Vs[p++]) {
    std::vector<float> d(blocks[p].size(), NAN), ref(d.size());
    llmc::cpu::cross_entropy_vp_backward(ref.data(), dloss, blocks[p].data(),
                                         targets.data(), ref_lse.data(), N,
                                         Vs[p], first);
    launch(N, device::kCrossEntropyThreads, [&] {
      device::cross_entropy_vp_backward_kernel(d.data(), &dloss,
                                               blocks[p].data(), targets.data(),
                                               lse.data(), N, Vs[p], first);
    });
    expect_close(d, ref, 1e-6f);
  }
}

// Three tensors, one larger than a grid's stride, one smaller than a block.
TEST(LossKernelsTest, SumOfSquaresMatchesCpu) {
  std::vector<std::vector<float>> grads = {random_values(300000, 51, 1.0f),
                                           random_values(100, 52, 2.0f),
                                           random_values(7000, 53, 0.5f)};
  double ref = 0.0;
  for (const auto &g : grads)
    ref += llmc::cpu::sum_squares(g.data(), int64_t(g.size()));
  std::vector<float> partials(device::kSumSquaresBlocks, 0.0f);
  for (size_t i = 0; i < grads.size(); ++i)
    launch(device::sum_squares_blocks((long long)grads[i].size()),
           device::kSumSquaresThreads, [&] {
             device::sum_squares_kernel(partials.data(), grads[i].data(),
                                        (long long)grads[i].size());
           });
  for (bool root : {false, true}) {
    float out = NAN;
    launch(1, device::kSumSquaresBlocks,
           [&] { device::sum_partials_kernel(&out, partials.data(), root); });
    double want = root ? std::sqrt(ref) : ref;
    EXPECT_NEAR(out, want, 1e-5 * want) << "root " << root;
  }
}

} // namespace
