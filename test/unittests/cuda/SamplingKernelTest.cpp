// The GPU sampler (runtime/cuda/device/sampling.cuh) under the SIMT
// emulator against the serving engine's CPU sampler (serve::sample_row) on
// the same logits and uniforms: greedy, temperature, top-k, top-p and both,
// rows with tied logits, NaN, -inf and +inf, a vocabulary no multiple of
// the block. Tokens must be equal and log-probabilities within 1e-12.

#include "runtime/cuda/simt/simt.h"

#include "runtime/cuda/device/sampling.cuh"
#include "runtime/serve/sampler.h"
#include "test/cuda/kernel_inputs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using llmc::simt::launch;
using llmc::test::random_values;
namespace device = llmc::cuda::device;
namespace serve = llmc::serve;

namespace {

TEST(SamplingKernelTest, SameTokensAsTheCpuSampler) {
  const int V = 1001;
  struct Params {
    double temperature, top_p;
    long long top_k;
  };
  std::vector<Params> params = {
      {0.0, 1.0, 0}, {1.0, 1.0, 0},  {0.7, 1.0, 0},   {1.0, 1.0, 1},
      {1.0, 1.0, 7}, {1.3, 1.0, 50}, {1.0, 0.05, 0},  {0.8, 0.5, 0},
      {1.0, 0.9, 0}, {0.9, 0.8, 40}, {2.0, 0.3, 200}, {1.0, 1.0, 1001}};
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<float> logits;
  std::vector<device::SampleParams> rows;
  std::vector<serve::Sample> want;
  // A row, its parameters and uniform, and the CPU sampler's choice.
  auto add_row = [&](std::vector<float> row, Params p, double u) {
    serve::SamplingParams sp;
    sp.temperature = p.temperature;
    sp.top_p = p.top_p;
    sp.top_k = p.top_k;
    want.push_back(serve::sample_row(sp, row.data(), V, u));
    rows.push_back({p.temperature, p.top_p, p.top_k, u});
    logits.insert(logits.end(), row.begin(), row.end());
  };
  for (int r = 0; r < 60; ++r) {
    auto row = random_values(V, 100 + r, 2.0f);
    if (r % 5 == 1) // ties: a coarse grid of values
      for (float &x : row)
        x = std::round(x * 2.0f) / 2.0f;
    if (r % 7 == 2)
      row[3] = NAN, row[500] = -INFINITY;
    if (r == 13)
      row[42] = INFINITY, row[900] = INFINITY;
    if (r == 17)
      for (float &x : row)
        x = -INFINITY;
    add_row(row, params[size_t(r) % params.size()], uniform(rng));
  }
  // Rows a review found: many tiny ties at the top-p cut that cannot move
  // the sum (the tie count must stop), -0.0 and +0.0 as one value at the
  // top-k boundary, and a draw at u near 1 over -inf logits (weight 0,
  // never drawn).
  std::vector<float> tiny(V, -39.14f);
  tiny[V - 1] = 0.0f; // last, so the slices sum the tiny ones first
  add_row(tiny, {1.0, 1.0 - 1e-15, 0}, 0.9999);
  add_row(tiny, {1.0, 1.0 - 1e-15, 0}, 0.3);
  std::vector<float> zeros(V, -1.0f);
  for (int i = 0; i < V; i += 3)
    zeros[size_t(i)] = i % 2 ? -0.0f : 0.0f;
  add_row(zeros, {1.0, 1.0, 200}, 0.77);
  add_row(zeros, {1.0, 1.0, 300}, 0.999);
  std::vector<float> tail(V, -INFINITY);
  tail[10] = 1.0f, tail[20] = 1.5f;
  add_row(tail, {1.0, 1.0, 5}, 0.999999999);
  add_row(tail, {1.0, 1.0, 0}, 0.999999999);
  add_row(tail, {0.5, 0.9, 0}, 0.999999999);
  std::vector<int32_t> token(rows.size(), -1);
  std::vector<double> logprob(rows.size(), NAN);
  for (uint64_t seed : {0, 3}) {
    launch(
        int(rows.size()), device::kSamplingThreads,
        [&] {
          device::sample_rows_kernel(token.data(), logprob.data(),
                                     logits.data(), rows.data(), V);
        },
        seed);
    for (size_t r = 0; r < rows.size(); ++r) {
      EXPECT_EQ(token[r], want[r].token) << "row " << r;
      EXPECT_NEAR(logprob[r], want[r].logprob,
                  1e-12 * (1 + std::fabs(want[r].logprob)))
          << "row " << r;
    }
  }
}

} // namespace
