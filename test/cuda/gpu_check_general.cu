// The GPU check of the vocab-parallel cross-entropy, the gradients' sum of
// squares, and the elementwise, general and layout kernels: each on the
// device against its CPU kernel, with both sides' times.
#include "runtime/cpu/adamw.h"
#include "runtime/cpu/cross_entropy.h"
#include "runtime/cpu/fused.h"
#include "runtime/cpu/general.h"
#include "runtime/cpu/layout.h"
#include "runtime/cpu/matmul.h"
#include "runtime/cpu/quantized.h"
#include "runtime/cuda/cross_entropy.cuh"
#include "runtime/cuda/elementwise.cuh"
#include "runtime/cuda/gemm.h"
#include "runtime/cuda/grad_norm.cuh"
#include "runtime/cuda/sampling.cuh"
#include "runtime/cuda/weight_gemv.cuh"
#include "runtime/serve/sampler.h"
#include "test/cuda/gpu_check.h"
#include "test/cuda/kernel_inputs.h"

namespace llmc::gpu_check {

using test::random_values;

void check_losses_and_general() {
  {
    // One rank's block of a 4-way vocabulary-parallel GPT-2 head.
    const int N = 4096, V = 50304 / 4, first = V;
    Device d;
    auto logits = random_values(size_t(N) * V, 50, 3.0f);
    std::vector<int> targets(N);
    for (int n = 0; n < N; ++n)
      targets[n] = (n * 379) % 50304;
    std::vector<float> ref(size_t(N) * 3);
    double cpu = host_ms([&] {
      cpu::cross_entropy_vp_partial(ref.data(), logits.data(), targets.data(),
                                    N, V, first);
    });
    float *gl = d.copy(logits), *stats = d.copy(ref);
    int *gt = d.copy(targets);
    double gpu = device_ms(
        [&] { cuda::cross_entropy_vp_partial(stats, gl, gt, N, V, first, 0); });
    report("ce_vp_partial", "4096x12576", worst(d.read(stats, ref.size()), ref),
           1e-5, gpu, cpu);
    std::vector<float> lse(N);
    float ref_loss = 0.0f;
    cpu = host_ms([&] {
      ref_loss = cpu::cross_entropy_vp_finish(lse.data(), ref.data(), N, 1);
    });
    float *glse = d.copy(lse), *loss = d.copy({0.0f}), *dloss = d.copy({1.0f});
    gpu = device_ms(
        [&] { cuda::cross_entropy_vp_finish(loss, glse, stats, N, 1, 0); });
    report("ce_vp_finish", "4096",
           std::max(worst(d.read(loss, 1), {ref_loss}),
                    worst(d.read(glse, N), lse)),
           1e-5, gpu, cpu);
    std::vector<float> grad(logits.size());
    cpu = host_ms([&] {
      cpu::cross_entropy_vp_backward(grad.data(), 1.0f, logits.data(),
                                     targets.data(), lse.data(), N, V, first);
    });
    float *ggrad = d.copy(grad);
    gpu = device_ms([&] {
      cuda::cross_entropy_vp_backward(ggrad, dloss, gl, gt, glse, N, V, first,
                                      0);
    });
    report("ce_vp_backward", "4096x12576",
           worst(d.read(ggrad, grad.size()), grad), 1e-6, gpu, cpu);
  }

  {
    // GPT-2 124M's gradient sizes, roughly: embeddings and 12 layers' four
    // matrices.
    std::vector<std::vector<float>> grads;
    grads.push_back(random_values(50304 * 768, 51, 1e-3f));
    for (int l = 0; l < 48; ++l)
      grads.push_back(random_values(768 * 768 * 3, 52 + l, 1e-3f));
    Device d;
    std::vector<const float *> device_grads;
    std::vector<long long> sizes;
    for (const auto &g : grads) {
      device_grads.push_back(d.copy(g));
      sizes.push_back((long long)g.size());
    }
    double ref = 0.0;
    double cpu = host_ms([&] {
      for (const auto &g : grads)
        ref += cpu::sum_squares(g.data(), int64_t(g.size()));
    });
    float *norm = d.copy({0.0f}), *partials = d.copy(std::vector<float>(256));
    double gpu = device_ms([&] {
      cuda::sum_squares(norm, device_grads.data(), sizes.data(),
                        int(sizes.size()), true, partials, 0);
    });
    report("grad_norm", "124M values",
           worst(d.read(norm, 1), {float(std::sqrt(ref))}), 1e-5, gpu, cpu);
  }

  {
    // An ONNX graph's broadcast and reduction, and a permute, at
    // activation sizes.
    std::vector<int64_t> shape = {8, 12, 1024, 64}, bias = {12, 1, 64};
    size_t n = 8 * 12 * 1024 * 64;
    Device d;
    auto a = random_values(n, 60, 1.0f), b = random_values(12 * 64, 61, 1.0f);
    std::vector<float> ref(n);
    double cpu = host_ms([&] {
      cpu::binary_forward("mul", ref.data(), shape, a.data(), shape, b.data(),
                          bias);
    });
    float *ga = d.copy(a), *gb = d.copy(b), *out = d.copy(ref);
    double gpu = device_ms(
        [&] { cuda::binary(out, shape, ga, shape, gb, bias, "mul", 0); });
    report("binary", "8x12x1024x64", worst(d.read(out, n), ref), 0, gpu, cpu);

    std::vector<float> sums(8 * 12 * 64);
    cpu = host_ms(
        [&] { cpu::reduce_forward("sum", sums.data(), a.data(), shape, {2}); });
    float *gs = d.copy(sums);
    gpu = device_ms([&] { cuda::reduce(gs, ga, shape, {2}, "sum", 0); });
    report("reduce", "8x12x1024x64", worst(d.read(gs, sums.size()), sums), 1e-5,
           gpu, cpu);

    std::vector<int> perm = {0, 2, 1, 3};
    cpu = host_ms([&] {
      cpu::permute(ref.data(), a.data(), shape.data(), perm.data(), 4);
    });
    gpu = device_ms([&] { cuda::permute(out, ga, shape, perm, 0); });
    report("permute", "8x12x1024x64", worst(d.read(out, n), ref), 0, gpu, cpu);
  }

  {
    // GPT-2 124M's MLP up projection at 8 x 1024 tokens: bias, then the
    // tanh-GELU epilogue, in fp32 and bf16 math (TF/s of the GPU side).
    const int64_t M = 8192, N = 3072, K = 768;
    Device d;
    auto lhs = random_values(size_t(M * K), 80, 1.0f);
    auto rhs = random_values(size_t(K * N), 81, 0.05f);
    auto bias = random_values(size_t(N), 82, 0.1f);
    std::vector<float> ref(size_t(M * N)), pre(ref.size());
    float *gl = d.copy(lhs), *gr = d.copy(rhs), *gb = d.copy(bias);
    float *out = d.copy(ref), *aux = d.copy(ref);
    float *workspace = d.copy(std::vector<float>(size_t(32) << 18)); // 32 MiB
    cuda::CublasLtGemm gemm(workspace, size_t(32) << 20);
    for (auto math : {cuda::GemmMath::FP32, cuda::GemmMath::BF16}) {
      auto cpu_math = math == cuda::GemmMath::BF16 ? cpu::GemmMath::BF16
                                                   : cpu::GemmMath::FP32;
      const char *name =
          math == cuda::GemmMath::BF16 ? "matmul bf16" : "matmul";
      double cpu = host_ms([&] {
        cpu::matmul_forward(ref.data(), lhs.data(), rhs.data(), bias.data(), 1,
                            M, N, K, false, false, false, cpu_math);
      });
      cuda::GemmSpec spec{
          {1, M, N, K, false, false, false}, cuda::GemmEpilogue::Bias, math};
      double gpu =
          device_ms([&] { gemm.run(spec, out, nullptr, gl, gr, gb, 0); });
      report(name, "8192x3072x768", worst(d.read(out, ref.size()), ref), 1e-3,
             gpu, cpu);
      std::printf("  %s: %.1f TFLOP/s\n", name, 2.0 * M * N * K / gpu / 1e9);
    }
    double cpu = host_ms([&] {
      cpu::matmul_bias_gelu_forward(pre.data(), ref.data(), lhs.data(),
                                    rhs.data(), bias.data(), 1, M, N, K, false,
                                    false, false, true);
    });
    cuda::GemmSpec spec{{1, M, N, K, false, false, false},
                        cuda::GemmEpilogue::GeluTanhAuxBias,
                        cuda::GemmMath::FP32};
    double gpu = device_ms([&] { gemm.run(spec, out, aux, gl, gr, gb, 0); });
    report("matmul_bias_gelu", "8192x3072x768",
           std::max(worst(d.read(out, ref.size()), ref),
                    worst(d.read(aux, pre.size()), pre)),
           1e-3, gpu, cpu);
  }

  {
    // A decode step of 8 sequences through a LLaMA-7B projection with int8
    // weights (GB/s of weights read on the GPU side).
    const int M = 8, N = 4096, K = 4096;
    Device d;
    auto w = random_values(size_t(N) * K, 83, 0.02f);
    auto a = random_values(size_t(M) * K, 84, 1.0f);
    std::vector<int8_t> q(w.size());
    std::vector<float> scale(N), ref(size_t(M) * N);
    cpu::quantize_weights_i8(q.data(), scale.data(), w.data(), N, K, true);
    double cpu = host_ms([&] {
      cpu::matmul_i8w_forward(ref.data(), a.data(), q.data(), scale.data(),
                              nullptr, M, N, K);
    });
    float *ga = d.copy(a), *gs = d.copy(scale), *out = d.copy(ref);
    int8_t *gq = d.copy(q);
    double gpu = device_ms(
        [&] { cuda::matmul_i8w(out, ga, gq, gs, nullptr, M, N, K, 0); });
    report("matmul_i8w", "8x4096x4096", worst(d.read(out, ref.size()), ref),
           1e-4, gpu, cpu);
    std::printf("  matmul_i8w: %.0f GB/s of weights\n",
                double(N) * K / gpu / 1e6);
  }

  {
    // A decode step's sampling: 64 sequences over GPT-2's vocabulary, top-k
    // 50 and top-p 0.9 at temperature 0.8 (tokens that differ from the
    // CPU's count as errors).
    const int B = 64, V = 50304;
    Device d;
    auto logits = random_values(size_t(B) * V, 85, 3.0f);
    std::vector<cuda::device::SampleParams> params;
    std::vector<int32_t> want(B);
    serve::SamplingParams sp;
    sp.temperature = 0.8;
    sp.top_k = 50;
    sp.top_p = 0.9;
    for (int b = 0; b < B; ++b)
      params.push_back({0.8, 0.9, 50, (b + 0.5) / B});
    double cpu = host_ms([&] {
      for (int b = 0; b < B; ++b)
        want[size_t(b)] = serve::sample_row(sp, logits.data() + size_t(b) * V,
                                            V, params[size_t(b)].u)
                              .token;
    });
    float *gl = d.copy(logits);
    auto *gp = d.copy(params);
    int32_t *token = d.copy(std::vector<int32_t>(B));
    double *logprob = d.copy(std::vector<double>(B));
    double gpu =
        device_ms([&] { cuda::sample_rows(token, logprob, gl, gp, B, V, 0); });
    std::vector<int32_t> got(B);
    LLMC_CUDA_CHECK(cudaMemcpy(got.data(), token, B * sizeof(int32_t),
                               cudaMemcpyDeviceToHost));
    int differ = 0;
    for (int b = 0; b < B; ++b)
      differ += got[size_t(b)] != want[size_t(b)];
    report("sample_rows", "64x50304 top-k/p", double(differ), 0, gpu, cpu);
  }
}

} // namespace llmc::gpu_check
