// The GPU check of the attention backward and the paged-cache kernels
// (kv_cache_write, paged_attention, rope_at, last_token): each on the
// device against its CPU kernel, with both sides' times.
#include "runtime/cpu/attention.h"
#include "runtime/cpu/layout.h"
#include "runtime/cpu/paged_attention.h"
#include "runtime/cpu/rope.h"
#include "runtime/cuda/attention.cuh"
#include "runtime/cuda/norms.cuh"
#include "test/cuda/gpu_check.h"
#include "test/cuda/kernel_inputs.h"

#include <numeric>
#include <random>

namespace llmc::gpu_check {

using test::random_values;

void check_attention_and_paged() {
  {
    const int B = 2, Hq = 12, Hkv = 4, T = 512, D = 64;
    Device d;
    auto q = random_values(size_t(B) * Hq * T * D, 31, 1.0f);
    auto k = random_values(size_t(B) * Hkv * T * D, 32, 1.0f);
    auto v = random_values(size_t(B) * Hkv * T * D, 33, 1.0f);
    auto dout = random_values(q.size(), 34, 1.0f);
    std::vector<float> out(q.size()), lse(size_t(B) * Hq * T);
    float scale = 0.125f;
    cpu::attention_forward(out.data(), lse.data(), q.data(), k.data(), v.data(),
                           B, Hq, Hkv, T, T, D, D, scale, true);
    std::vector<float> ref_dq(q.size()), ref_dk(k.size()), ref_dv(v.size());
    double cpu = host_ms([&] {
      cpu::attention_backward(ref_dq.data(), ref_dk.data(), ref_dv.data(),
                              dout.data(), q.data(), k.data(), v.data(),
                              out.data(), lse.data(), B, Hq, Hkv, T, T, D, D,
                              scale, true);
    });
    float *gq = d.copy(q), *gk = d.copy(k), *gv = d.copy(v);
    float *gdout = d.copy(dout), *gout = d.copy(out), *glse = d.copy(lse);
    float *dq = d.copy(q), *dk = d.copy(k), *dv = d.copy(v);
    double gpu = device_ms([&] {
      cuda::attention_backward(dq, dk, dv, gdout, gq, gk, gv, gout, glse, B, Hq,
                               Hkv, T, T, D, D, scale, true, 0);
    });
    report("attention_backward", "causal 2x12x512",
           std::max({worst(d.read(dq, q.size()), ref_dq),
                     worst(d.read(dk, k.size()), ref_dk),
                     worst(d.read(dv, v.size()), ref_dv)}),
           1e-4, gpu, cpu);
  }

  {
    // A decode step of 64 sequences of 1000 cached tokens each, LLaMA-7B
    // heads, blocks of 16 in shuffled order.
    cpu::PagedSizes s{64, 1, 32, 32, 128, 128, 64 * 64, 16, 64};
    Device d;
    std::vector<int32_t> table(size_t(s.blocks));
    std::iota(table.begin(), table.end(), 0);
    std::shuffle(table.begin(), table.end(), std::mt19937(7));
    std::vector<int32_t> positions(size_t(s.B), 999);
    size_t cache = size_t(s.blocks * s.Hkv * s.block_tokens * s.D);
    auto k_cache = random_values(cache, 40, 1.0f);
    auto v_cache = random_values(cache, 41, 1.0f);
    auto x = random_values(size_t(s.B * s.Hkv * s.D), 42, 1.0f);
    auto q = random_values(size_t(s.B * s.Hq * s.D), 43, 1.0f);
    float *gk = d.copy(k_cache), *gv = d.copy(v_cache), *gx = d.copy(x);
    float *gq = d.copy(q), *out = d.copy(q);
    int32_t *gt = d.copy(table), *gp = d.copy(positions);
    double cpu = host_ms([&] {
      cpu::kv_cache_write(k_cache.data(), x.data(), table.data(),
                          positions.data(), s.Hkv, s.D, s);
    });
    double gpu = device_ms(
        [&] { cuda::kv_cache_write(gk, gx, gt, gp, s.Hkv, s.D, s, 0); });
    report("kv_cache_write", "64 seqs decode",
           worst(d.read(gk, cache), k_cache), 0, gpu, cpu);
    std::vector<float> ref(q.size());
    cpu = host_ms([&] {
      cpu::paged_attention(ref.data(), q.data(), k_cache.data(), v_cache.data(),
                           table.data(), positions.data(), 0.088f, s);
    });
    gpu = device_ms(
        [&] { cuda::paged_attention(out, gq, gk, gv, gt, gp, 0.088f, s, 0); });
    report("paged_attention", "64x1000 tokens",
           worst(d.read(out, q.size()), ref), 1e-5, gpu, cpu);

    std::vector<float> rope_ref(q.size());
    cpu = host_ms([&] {
      cpu::rope_at_forward(rope_ref.data(), q.data(), positions.data(), s.B,
                           s.Hq, 1, s.D, 10000.0f);
    });
    gpu = device_ms(
        [&] { cuda::rope_at(out, gq, gp, s.B, s.Hq, 1, s.D, 10000.0f, 0); });
    report("rope_at", "64 seqs decode", worst(d.read(out, q.size()), rope_ref),
           1e-5, gpu, cpu);
  }

  {
    const int B = 16, T = 256, C = 4096;
    Device d;
    auto x = random_values(size_t(B) * T * C, 44, 1.0f);
    std::vector<int32_t> positions(size_t(B) * T);
    for (int b = 0; b < B; ++b)
      for (int t = 0; t < T; ++t) // left padding of b tokens
        positions[size_t(b) * T + t] = t < b ? -1 : t - b;
    std::vector<float> ref(size_t(B) * C);
    double cpu = host_ms([&] {
      cpu::last_token(ref.data(), x.data(), positions.data(), B, T, C);
    });
    float *gx = d.copy(x), *out = d.copy(ref);
    int32_t *gp = d.copy(positions);
    double gpu = device_ms([&] { cuda::last_token(out, gx, gp, B, T, C, 0); });
    report("last_token", "16x256x4096", worst(d.read(out, ref.size()), ref), 0,
           gpu, cpu);
  }
}

} // namespace llmc::gpu_check
