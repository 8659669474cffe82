// The GPU check: every CUDA kernel of the kernel table (runtime/cuda) run on
// a real device against its CPU kernel on the same inputs, with the time of
// each side. CI cannot run it (no GPU on the build machines; there the SIMT
// emulator runs the same kernel bodies, llmc-simt-tests); scripts/
// gpu-check.sh builds it with nvcc and runs it wherever a GPU is.
// Exit codes: 0 all within tolerance, 1 a mismatch, 77 no CUDA device.
#include "runtime/cpu/activation.h"
#include "runtime/cpu/adamw.h"
#include "runtime/cpu/attention.h"
#include "runtime/cpu/cross_entropy.h"
#include "runtime/cpu/embedding.h"
#include "runtime/cpu/fused.h"
#include "runtime/cpu/layernorm.h"
#include "runtime/cpu/rmsnorm.h"
#include "runtime/cpu/rope.h"
#include "runtime/cpu/softmax.h"
#include "runtime/cuda/activation.cuh"
#include "runtime/cuda/adamw.cuh"
#include "runtime/cuda/attention.cuh"
#include "runtime/cuda/cross_entropy.cuh"
#include "runtime/cuda/cuda_check.h"
#include "runtime/cuda/norms.cuh"
#include "test/cuda/gpu_check.h"
#include "test/cuda/kernel_inputs.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using namespace llmc::gpu_check;
using llmc::test::random_values;

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: nothing to check\n");
    return 77;
  }
  cudaDeviceProp prop;
  LLMC_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);

  for (auto shape : {std::pair{37, 203}, std::pair{8192, 768}}) {
    int N = shape.first, C = shape.second;
    Device d;
    auto x = random_values(size_t(N) * C, 1, 2.0f);
    auto w = random_values(C, 2, 1.0f), b = random_values(C, 3, 1.0f);
    std::vector<float> ref(x.size()), ref_mean(N), ref_rstd(N);
    double cpu = host_ms([&] {
      llmc::cpu::layernorm_forward(ref.data(), ref_mean.data(), ref_rstd.data(),
                                   x.data(), w.data(), b.data(), N, C, 1e-5f);
    });
    float *dx = d.copy(x), *dw = d.copy(w), *db = d.copy(b);
    float *out = d.copy(x), *mean = d.copy(ref_mean), *rstd = d.copy(ref_rstd);
    double gpu = device_ms([&] {
      llmc::cuda::layernorm_forward(out, mean, rstd, dx, dw, db, N, C, 1e-5f,
                                    0);
    });
    double e = std::max({worst(d.read(out, x.size()), ref),
                         worst(d.read(mean, N), ref_mean),
                         worst(d.read(rstd, N), ref_rstd)});
    report("layernorm_forward", std::to_string(N) + "x" + std::to_string(C), e,
           1e-5, gpu, cpu);
  }

  for (auto shape : {std::pair{3, 7}, std::pair{4096, 4096}}) {
    int N = shape.first, C = shape.second;
    Device d;
    auto x = random_values(size_t(N) * C, 4, 3.0f);
    std::vector<float> ref(x.size());
    double cpu = host_ms(
        [&] { llmc::cpu::softmax_forward(ref.data(), x.data(), N, C); });
    float *dx = d.copy(x), *out = d.copy(x);
    double gpu =
        device_ms([&] { llmc::cuda::softmax_forward(out, dx, N, C, 0); });
    report("softmax_forward", std::to_string(N) + "x" + std::to_string(C),
           worst(d.read(out, x.size()), ref), 1e-6, gpu, cpu);
  }

  {
    const int N = 8192, C = 768;
    Device d;
    auto x = random_values(size_t(N) * C, 7, 2.0f), w = random_values(C, 8, 1);
    std::vector<float> ref(x.size()), ref_rstd(N);
    double cpu = host_ms([&] {
      llmc::cpu::rmsnorm_forward(ref.data(), ref_rstd.data(), x.data(),
                                 w.data(), N, C, 1e-6f);
    });
    float *dx = d.copy(x), *dw = d.copy(w), *out = d.copy(x);
    float *rstd = d.copy(ref_rstd);
    double gpu = device_ms([&] {
      llmc::cuda::rmsnorm_forward(out, rstd, dx, dw, N, C, 1e-6f, 0);
    });
    report("rmsnorm_forward", "8192x768",
           std::max(worst(d.read(out, x.size()), ref),
                    worst(d.read(rstd, N), ref_rstd)),
           1e-5, gpu, cpu);
  }

  {
    const int N = 8192, V = 50304, C = 768;
    Device d;
    auto table = random_values(size_t(V) * C, 9, 1.0f);
    std::vector<int> ids(N);
    for (int n = 0; n < N; ++n)
      ids[n] = (n * 7919) % V;
    std::vector<float> ref(size_t(N) * C);
    double cpu = host_ms([&] {
      llmc::cpu::embedding_forward(ref.data(), table.data(), ids.data(), N, V,
                                   C);
    });
    float *dt = d.copy(table), *out = d.copy(ref);
    int *dids = nullptr;
    LLMC_CUDA_CHECK(cudaMalloc(&dids, N * sizeof(int)));
    LLMC_CUDA_CHECK(
        cudaMemcpy(dids, ids.data(), N * sizeof(int), cudaMemcpyHostToDevice));
    double gpu = device_ms(
        [&] { llmc::cuda::embedding_forward(out, dt, dids, N, V, C, 0, 0); });
    report("embedding_forward", "8192x768", worst(d.read(out, ref.size()), ref),
           0, gpu, cpu);
    auto dout = random_values(ref.size(), 20, 1.0f);
    std::vector<float> ref_table(table.size());
    cpu = host_ms([&] {
      llmc::cpu::embedding_backward(ref_table.data(), dout.data(), ids.data(),
                                    N, V, C);
    });
    float *ddout = d.copy(dout);
    gpu = device_ms([&] {
      llmc::cuda::embedding_backward(dt, ddout, dids, N, V, C, 0, 0);
    });
    report("embedding_backward", "8192x768",
           worst(d.read(dt, table.size()), ref_table), 0, gpu, cpu);
    cudaFree(dids);
  }

  {
    const long long n = 1 << 24;
    Device d;
    auto x = random_values(n, 10, 3.0f), dy = random_values(n, 11, 1.0f);
    auto up = random_values(n, 12, 1.0f);
    float *dx = d.copy(x), *ddy = d.copy(dy), *dup = d.copy(up);
    float *out = d.copy(x), *out2 = d.copy(x);
    std::vector<float> ref(n), ref2(n);
    using llmc::cuda::Gelu;
    struct Case {
      const char *name;
      double tolerance;
      std::function<void()> cpu, gpu;
    } cases[] = {
        {"gelu_forward", 1e-5,
         [&] { llmc::cpu::gelu_tanh_forward(ref.data(), x.data(), n); },
         [&] { llmc::cuda::gelu_forward(out, dx, n, Gelu::Tanh, 0); }},
        {"gelu_backward", 1e-5,
         [&] {
           llmc::cpu::gelu_tanh_backward(ref.data(), dy.data(), x.data(), n);
         },
         [&] { llmc::cuda::gelu_backward(out, ddy, dx, n, Gelu::Tanh, 0); }},
        {"silu_forward", 1e-5,
         [&] { llmc::cpu::silu_forward(ref.data(), x.data(), n); },
         [&] { llmc::cuda::silu_forward(out, dx, n, 0); }},
        {"silu_backward", 1e-5,
         [&] { llmc::cpu::silu_backward(ref.data(), dy.data(), x.data(), n); },
         [&] { llmc::cuda::silu_backward(out, ddy, dx, n, 0); }},
        {"swiglu_forward", 1e-5,
         [&] { llmc::cpu::swiglu_forward(ref.data(), x.data(), up.data(), n); },
         [&] { llmc::cuda::swiglu_forward(out, dx, dup, n, 0); }},
        {"swiglu_backward", 1e-5,
         [&] {
           llmc::cpu::swiglu_backward(ref.data(), ref2.data(), dy.data(),
                                      x.data(), up.data(), n);
         },
         [&] { llmc::cuda::swiglu_backward(out, out2, ddy, dx, dup, n, 0); }},
    };
    for (const Case &c : cases) {
      double cpu = host_ms(c.cpu), gpu = device_ms(c.gpu);
      double e = worst(d.read(out, n), ref);
      if (std::string(c.name) == "swiglu_backward")
        e = std::max(e, worst(d.read(out2, n), ref2));
      report(c.name, "16M", e, c.tolerance, gpu, cpu);
    }
  }

  {
    const int N = 8192, C = 768;
    Device d;
    auto x = random_values(size_t(N) * C, 16, 2.0f);
    auto w = random_values(C, 17, 1.0f), b = random_values(C, 18, 1.0f);
    auto dout = random_values(x.size(), 19, 1.0f);
    std::vector<float> y(x.size()), mean(N), rstd(N);
    llmc::cpu::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(),
                                 w.data(), b.data(), N, C, 1e-5f);
    std::vector<float> ref(x.size()), ref_dw(C), ref_db(C);
    double cpu = host_ms([&] {
      llmc::cpu::layernorm_backward(ref.data(), ref_dw.data(), ref_db.data(),
                                    dout.data(), x.data(), w.data(),
                                    mean.data(), rstd.data(), N, C);
    });
    float *dx = d.copy(x), *dw = d.copy(w), *dmean = d.copy(mean);
    float *drstd = d.copy(rstd), *ddout = d.copy(dout), *dinp = d.copy(x);
    float *gw = d.copy(w), *gb = d.copy(b);
    double gpu = device_ms([&] {
      llmc::cuda::layernorm_backward(dinp, gw, gb, ddout, dx, dw, dmean, drstd,
                                     N, C, 0);
    });
    report(
        "layernorm_backward", "8192x768",
        std::max({worst(d.read(dinp, x.size()), ref),
                  worst(d.read(gw, C), ref_dw), worst(d.read(gb, C), ref_db)}),
        1e-4, gpu, cpu);
    llmc::cpu::rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C,
                               1e-6f);
    cpu = host_ms([&] {
      llmc::cpu::rmsnorm_backward(ref.data(), ref_dw.data(), dout.data(),
                                  x.data(), w.data(), rstd.data(), N, C);
    });
    LLMC_CUDA_CHECK(cudaMemcpy(drstd, rstd.data(), N * sizeof(float),
                               cudaMemcpyHostToDevice));
    gpu = device_ms([&] {
      llmc::cuda::rmsnorm_backward(dinp, gw, ddout, dx, dw, drstd, N, C, 0);
    });
    report("rmsnorm_backward", "8192x768",
           std::max(worst(d.read(dinp, x.size()), ref),
                    worst(d.read(gw, C), ref_dw)),
           1e-4, gpu, cpu);
  }

  {
    const int N = 8192, C = 768;
    Device d;
    auto a = random_values(size_t(N) * C, 25, 1.0f);
    auto b = random_values(a.size(), 26, 1.0f);
    auto w = random_values(C, 27, 1.0f), bias = random_values(C, 28, 1.0f);
    std::vector<float> ref_sum(a.size()), ref(a.size()), ref_mean(N),
        ref_rstd(N);
    double cpu = host_ms([&] {
      llmc::cpu::add_layernorm_forward(
          ref_sum.data(), ref.data(), ref_mean.data(), ref_rstd.data(),
          a.data(), b.data(), w.data(), bias.data(), N, C, 1e-5f);
    });
    float *da = d.copy(a), *db = d.copy(b), *dw = d.copy(w);
    float *dbias = d.copy(bias), *sum = d.copy(a), *out = d.copy(a);
    float *mean = d.copy(ref_mean), *rstd = d.copy(ref_rstd);
    double gpu = device_ms([&] {
      llmc::cuda::add_layernorm_forward(sum, out, mean, rstd, da, db, dw, dbias,
                                        N, C, 1e-5f, 0);
    });
    report("add_layernorm_fwd", "8192x768",
           std::max({worst(d.read(sum, a.size()), ref_sum),
                     worst(d.read(out, a.size()), ref),
                     worst(d.read(rstd, N), ref_rstd)}),
           1e-5, gpu, cpu);
    cpu = host_ms([&] {
      llmc::cpu::add_rmsnorm_forward(ref_sum.data(), ref.data(),
                                     ref_rstd.data(), a.data(), b.data(),
                                     w.data(), N, C, 1e-6f);
    });
    gpu = device_ms([&] {
      llmc::cuda::add_rmsnorm_forward(sum, out, rstd, da, db, dw, N, C, 1e-6f,
                                      0);
    });
    report("add_rmsnorm_fwd", "8192x768",
           std::max({worst(d.read(sum, a.size()), ref_sum),
                     worst(d.read(out, a.size()), ref),
                     worst(d.read(rstd, N), ref_rstd)}),
           1e-5, gpu, cpu);
  }

  for (bool causal : {true, false}) {
    const int B = 2, Hq = 12, Hkv = 4, T = 1024, D = 64;
    Device d;
    auto q = random_values(size_t(B) * Hq * T * D, 22, 1.0f);
    auto k = random_values(size_t(B) * Hkv * T * D, 23, 1.0f);
    auto v = random_values(size_t(B) * Hkv * T * D, 24, 1.0f);
    std::vector<float> ref(q.size()), ref_lse(size_t(B) * Hq * T);
    float scale = 0.125f;
    double cpu = host_ms([&] {
      llmc::cpu::attention_forward(ref.data(), ref_lse.data(), q.data(),
                                   k.data(), v.data(), B, Hq, Hkv, T, T, D, D,
                                   scale, causal);
    });
    float *dq = d.copy(q), *dk = d.copy(k), *dv = d.copy(v);
    float *out = d.copy(q), *lse = d.copy(ref_lse);
    double gpu = device_ms([&] {
      llmc::cuda::attention_forward(out, lse, dq, dk, dv, B, Hq, Hkv, T, T, D,
                                    D, scale, causal, 0);
    });
    report("attention_forward", causal ? "causal 2x12x1024" : "2x12x1024",
           std::max(worst(d.read(out, q.size()), ref),
                    worst(d.read(lse, ref_lse.size()), ref_lse)),
           1e-4, gpu, cpu);
  }

  for (bool inverse : {false, true}) {
    const int B = 4, H = 32, T = 2048, D = 128;
    Device d;
    auto x = random_values(size_t(B) * H * T * D, 21, 1.0f);
    std::vector<float> ref(x.size());
    double cpu = host_ms([&] {
      (inverse ? llmc::cpu::rope_backward : llmc::cpu::rope_forward)(
          ref.data(), x.data(), B, H, T, D, 10000.0f, 0);
    });
    float *dx = d.copy(x), *out = d.copy(x);
    double gpu = device_ms([&] {
      llmc::cuda::rope(out, dx, B, H, T, D, 10000.0f, 0, inverse, 0);
    });
    report(inverse ? "rope_backward" : "rope_forward", "4x32x2048x128",
           worst(d.read(out, x.size()), ref), 1e-5, gpu, cpu);
  }

  {
    const int N = 4096, C = 4096;
    Device d;
    auto x = random_values(size_t(N) * C, 13, 2.0f);
    auto dout = random_values(x.size(), 14, 1.0f);
    std::vector<float> y(x.size()), ref(x.size());
    llmc::cpu::softmax_forward(y.data(), x.data(), N, C);
    double cpu = host_ms([&] {
      llmc::cpu::softmax_backward(ref.data(), dout.data(), y.data(), N, C);
    });
    float *dy = d.copy(y), *ddout = d.copy(dout), *dx = d.copy(x);
    double gpu = device_ms(
        [&] { llmc::cuda::softmax_backward(dx, ddout, dy, N, C, 0); });
    report("softmax_backward", "4096x4096", worst(d.read(dx, x.size()), ref),
           1e-6, gpu, cpu);
  }

  {
    const int N = 4096, V = 50304;
    Device d;
    auto logits = random_values(size_t(N) * V, 15, 3.0f);
    std::vector<int> targets(N);
    for (int n = 0; n < N; ++n)
      targets[n] = (n * 379) % V;
    std::vector<float> ref_losses(N), ref_grad(logits.size());
    float ref = 0;
    double cpu = host_ms([&] {
      ref = llmc::cpu::cross_entropy_forward(ref_losses.data(), logits.data(),
                                             targets.data(), N, V);
    });
    float *dl = d.copy(logits), *losses = d.copy(ref_losses);
    float *loss = d.copy({0.0f}), *dloss = d.copy({1.0f});
    float *grad = d.copy(logits);
    int *dt = nullptr;
    LLMC_CUDA_CHECK(cudaMalloc(&dt, N * sizeof(int)));
    LLMC_CUDA_CHECK(cudaMemcpy(dt, targets.data(), N * sizeof(int),
                               cudaMemcpyHostToDevice));
    double gpu = device_ms([&] {
      llmc::cuda::cross_entropy_forward(loss, losses, dl, dt, N, V, 0);
    });
    report("cross_entropy_fwd", "4096x50304",
           std::max(worst(d.read(loss, 1), {ref}),
                    worst(d.read(losses, N), ref_losses)),
           1e-5, gpu, cpu);
    cpu = host_ms([&] {
      llmc::cpu::cross_entropy_backward(ref_grad.data(), 1.0f, logits.data(),
                                        targets.data(), N, V);
    });
    gpu = device_ms([&] {
      llmc::cuda::cross_entropy_backward(grad, dloss, dl, dt, N, V, 0);
    });
    report("cross_entropy_bwd", "4096x50304",
           worst(d.read(grad, logits.size()), ref_grad), 1e-6, gpu, cpu);
    cudaFree(dt);
  }

  {
    size_t n = size_t(1) << 22;
    Device d;
    auto p = random_values(n, 5, 1.0f), g = random_values(n, 6, 1.0f);
    std::vector<float> m(n, 0.1f), v(n, 0.01f);
    llmc::AdamWHyper hyper{1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.1f, 0.05f};
    float *dp = d.copy(p), *dm = d.copy(m), *dv = d.copy(v), *dg = d.copy(g);
    // One update on each side from the same state (timed apart).
    llmc::cuda::adamw_update(dp, dm, dv, dg, n, hyper, 0);
    LLMC_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<float> gp = d.read(dp, n);
    double cpu = host_ms([&] {
      llmc::cpu::adamw_update(p.data(), m.data(), v.data(), g.data(), n, hyper);
    });
    double gpu = device_ms(
        [&] { llmc::cuda::adamw_update(dp, dm, dv, dg, n, hyper, 0); });
    report("adamw", std::to_string(n), worst(gp, p), 1e-6, gpu, cpu);
  }
  check_attention_and_paged();
  check_losses_and_general();
  return failures ? 1 : 0;
}
