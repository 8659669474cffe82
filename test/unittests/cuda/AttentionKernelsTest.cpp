// The attention backward and the paged-cache kernels (kv_cache_write,
// paged_attention, rope_at, last_token) under the SIMT emulator against
// their CPU kernels: grouped kv heads, causal masks that leave rows without
// keys, head sizes no multiple of a warp, block tables in shuffled order,
// padding and sequences of different lengths.

#include "runtime/cuda/simt/simt.h"

#include "runtime/cpu/attention.h"
#include "runtime/cpu/layout.h"
#include "runtime/cpu/paged_attention.h"
#include "runtime/cpu/rope.h"
#include "runtime/cuda/device/attention.cuh"
#include "runtime/cuda/device/paged_attention.cuh"
#include "runtime/cuda/device/rope.cuh"
#include "test/cuda/kernel_inputs.h"
#include "test/unittests/cuda/expect_close.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

using llmc::simt::launch;
using llmc::test::expect_close;
using llmc::test::random_values;
namespace device = llmc::cuda::device;

namespace {

TEST(AttentionKernelsTest, AttentionBackwardMatchesCpu) {
  struct Case {
    int Tq, Tk;
    bool causal;
  };
  for (Case c : {Case{7, 11, true}, Case{7, 11, false}, Case{12, 5, true},
                 Case{33, 33, true}}) {
    const int B = 2, Hq = 4, Hkv = 2, D = 40, Dv = 36;
    auto q = random_values(size_t(B) * Hq * c.Tq * D, 31, 1.0f);
    auto k = random_values(size_t(B) * Hkv * c.Tk * D, 32, 1.0f);
    auto v = random_values(size_t(B) * Hkv * c.Tk * Dv, 33, 1.0f);
    auto dout = random_values(size_t(B) * Hq * c.Tq * Dv, 34, 1.0f);
    float scale = 1.0f / std::sqrt(float(D));
    std::vector<float> out(dout.size()), lse(size_t(B) * Hq * c.Tq);
    llmc::cpu::attention_forward(out.data(), lse.data(), q.data(), k.data(),
                                 v.data(), B, Hq, Hkv, c.Tq, c.Tk, D, Dv, scale,
                                 c.causal);
    std::vector<float> ref_dq(q.size()), ref_dk(k.size()), ref_dv(v.size());
    llmc::cpu::attention_backward(ref_dq.data(), ref_dk.data(), ref_dv.data(),
                                  dout.data(), q.data(), k.data(), v.data(),
                                  out.data(), lse.data(), B, Hq, Hkv, c.Tq,
                                  c.Tk, D, Dv, scale, c.causal);
    // Poisoned, so an element a kernel leaves unwritten shows.
    std::vector<float> dq(q.size(), NAN), dk(k.size(), NAN), dv(v.size(), NAN);
    for (uint64_t seed : {0, 5}) {
      launch(
          device::warp_row_blocks((long long)B * Hq * c.Tq,
                                  device::kAttentionThreads),
          device::kAttentionThreads,
          [&] {
            device::attention_backward_dq_kernel(
                dq.data(), dout.data(), q.data(), k.data(), v.data(),
                out.data(), lse.data(), B, Hq, Hkv, c.Tq, c.Tk, D, Dv, scale,
                c.causal);
          },
          seed);
      launch(
          device::warp_row_blocks((long long)B * Hkv * c.Tk,
                                  device::kAttentionThreads),
          device::kAttentionThreads,
          [&] {
            device::attention_backward_dkv_kernel(
                dk.data(), dv.data(), dout.data(), q.data(), k.data(), v.data(),
                out.data(), lse.data(), B, Hq, Hkv, c.Tq, c.Tk, D, Dv, scale,
                c.causal);
          },
          seed);
      expect_close(dq, ref_dq, 2e-5f);
      expect_close(dk, ref_dk, 2e-5f);
      expect_close(dv, ref_dv, 2e-5f);
    }
  }
}

// A paged cache of 2 sequences: blocks of 4 tokens handed out in shuffled
// order, the first sequence 9 tokens long, the second 3 and left-padded.
struct PagedCase {
  llmc::cpu::PagedSizes s;
  std::vector<int32_t> block_table, positions;

  PagedCase(int64_t T, int64_t first_position) {
    s = {2, T, 4, 2, 20, 12, 8, 4, 4};
    std::vector<int32_t> blocks(size_t(s.blocks));
    std::iota(blocks.begin(), blocks.end(), 0);
    std::shuffle(blocks.begin(), blocks.end(), std::mt19937(7));
    block_table.assign(blocks.begin(), blocks.end());
    // Sequence 0: positions first_position.. (a prefill chunk or a decode
    // step); sequence 1: padding, then positions 0, 1, ...
    for (int64_t t = 0; t < T; ++t)
      positions.push_back(int32_t(first_position + t));
    for (int64_t t = 0; t < T; ++t)
      positions.push_back(t < T - 3 ? -1 : int32_t(t - (T - 3)));
    EXPECT_EQ(llmc::cpu::check_paged_positions(block_table.data(),
                                               positions.data(), s),
              "");
  }
};

TEST(AttentionKernelsTest, PagedCacheWriteAndAttentionMatchCpu) {
  // A prefill of 6 tokens, then a chunk of 3 more and a decode step.
  for (auto [steps, first] :
       {std::pair{6, 0}, std::pair{3, 6}, std::pair{1, 9}}) {
    const int64_t T = steps;
    PagedCase pc(T, first);
    const auto &s = pc.s;
    size_t k_cache_size = size_t(s.blocks * s.Hkv * s.block_tokens * s.D);
    size_t v_cache_size = size_t(s.blocks * s.Hkv * s.block_tokens * s.Dv);
    // Earlier positions already cached (random), this step's written now.
    auto k_cache = random_values(k_cache_size, 40, 1.0f);
    auto v_cache = random_values(v_cache_size, 41, 1.0f);
    auto ref_k = k_cache, ref_v = v_cache;
    auto xk = random_values(size_t(s.B * s.Hkv * T * s.D), 42, 1.0f);
    auto xv = random_values(size_t(s.B * s.Hkv * T * s.Dv), 43, 1.0f);
    llmc::cpu::kv_cache_write(ref_k.data(), xk.data(), pc.block_table.data(),
                              pc.positions.data(), s.Hkv, s.D, s);
    llmc::cpu::kv_cache_write(ref_v.data(), xv.data(), pc.block_table.data(),
                              pc.positions.data(), s.Hkv, s.Dv, s);
    auto write = [&](std::vector<float> &cache, const std::vector<float> &x,
                     int64_t D) {
      long long n = s.B * s.Hkv * T * D;
      launch(device::cache_write_blocks(n), device::kCacheWriteThreads, [&] {
        device::kv_cache_write_kernel(
            cache.data(), x.data(), pc.block_table.data(), pc.positions.data(),
            int(s.Hkv), int(D), s);
      });
    };
    write(k_cache, xk, s.D);
    write(v_cache, xv, s.Dv);
    expect_close(k_cache, ref_k, 0.0f);
    expect_close(v_cache, ref_v, 0.0f);

    auto q = random_values(size_t(s.B * s.Hq * T * s.D), 44, 1.0f);
    float scale = 1.0f / std::sqrt(float(s.D));
    std::vector<float> out(size_t(s.B * s.Hq * T * s.Dv), NAN), ref(out.size());
    llmc::cpu::paged_attention(ref.data(), q.data(), ref_k.data(), ref_v.data(),
                               pc.block_table.data(), pc.positions.data(),
                               scale, s);
    for (uint64_t seed : {0, 9}) {
      launch(
          device::warp_row_blocks(s.B * s.Hq * T, device::kAttentionThreads),
          device::kAttentionThreads,
          [&] {
            device::paged_attention_kernel(
                out.data(), q.data(), k_cache.data(), v_cache.data(),
                pc.block_table.data(), pc.positions.data(), scale, s);
          },
          seed);
      expect_close(out, ref, 1e-5f);
    }
  }
}

TEST(AttentionKernelsTest, RopeAtAndLastTokenMatchCpu) {
  PagedCase pc(6, 3);
  const int B = 2, H = 3, T = 6, D = 14;
  auto x = random_values(size_t(B) * H * T * D, 45, 1.0f);
  std::vector<float> out(x.size(), NAN), ref(x.size());
  llmc::cpu::rope_at_forward(ref.data(), x.data(), pc.positions.data(), B, H, T,
                             D, 10000.0f);
  long long rows = (long long)B * H * T;
  launch(device::rope_blocks(rows * (D / 2)), device::kRopeThreads, [&] {
    device::rope_kernel(out.data(), x.data(), rows, T, D, 10000.0f, 0, 1.0f,
                        pc.positions.data(), H);
  });
  expect_close(out, ref, 1e-6f);

  // Sequence 1 all padding: zeros.
  const int C = 37;
  auto h = random_values(size_t(B) * T * C, 46, 1.0f);
  std::vector<int32_t> positions = {4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1};
  std::vector<float> last(size_t(B) * C, NAN), ref_last(last.size());
  llmc::cpu::last_token(ref_last.data(), h.data(), positions.data(), B, T, C);
  launch(B, 32, [&] {
    device::last_token_kernel(last.data(), h.data(), positions.data(), T, C);
  });
  expect_close(last, ref_last, 0.0f);
}

} // namespace
