// Tests every CUDA kernel body (runtime/cuda/device) under the SIMT
// emulator against the CPU kernel of the same name, on awkward shapes
// (rows that leave a block part empty, widths that are no multiple of a
// warp or a block) and in several thread orders.

#include "runtime/cuda/simt/simt.h"

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
#include "runtime/cuda/device/activation.cuh"
#include "runtime/cuda/device/adamw.cuh"
#include "runtime/cuda/device/attention.cuh"
#include "runtime/cuda/device/cross_entropy.cuh"
#include "runtime/cuda/device/embedding.cuh"
#include "runtime/cuda/device/layernorm.cuh"
#include "runtime/cuda/device/norm_backward.cuh"
#include "runtime/cuda/device/rmsnorm.cuh"
#include "runtime/cuda/device/rope.cuh"
#include "runtime/cuda/device/softmax.cuh"
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

TEST(CudaKernelsTest, LayerNormForwardMatchesCpu) {
  for (auto shape : {std::pair{37, 203}, std::pair{8, 32}, std::pair{3, 5}}) {
    int N = shape.first, C = shape.second;
    auto x = random_values(size_t(N) * C, 1, 2.0f);
    auto w = random_values(C, 2, 1.0f), b = random_values(C, 3, 1.0f);
    std::vector<float> out(x.size()), mean(N), rstd(N);
    std::vector<float> ref(x.size()), ref_mean(N), ref_rstd(N);
    llmc::cpu::layernorm_forward(ref.data(), ref_mean.data(), ref_rstd.data(),
                                 x.data(), w.data(), b.data(), N, C, 1e-5f);
    for (uint64_t seed : {0, 3}) {
      launch(
          device::warp_row_blocks(N), device::kWarpRowThreads,
          [&] {
            device::layernorm_forward_kernel(out.data(), mean.data(),
                                             rstd.data(), x.data(), w.data(),
                                             b.data(), N, C, 1e-5f);
          },
          seed);
      expect_close(out, ref, 1e-5f);
      expect_close(mean, ref_mean, 1e-5f);
      expect_close(rstd, ref_rstd, 1e-5f);
    }
  }
}

TEST(CudaKernelsTest, SoftmaxForwardMatchesCpu) {
  for (auto shape : {std::pair{5, 1000}, std::pair{3, 7}, std::pair{2, 256}}) {
    int N = shape.first, C = shape.second;
    auto x = random_values(size_t(N) * C, 4, 3.0f);
    x[0] += 500.0f; // overflows exp without the max shift
    std::vector<float> out(x.size()), ref(x.size());
    llmc::cpu::softmax_forward(ref.data(), x.data(), N, C);
    for (uint64_t seed : {0, 2}) {
      launch(
          N, device::kSoftmaxThreads,
          [&] { device::softmax_forward_kernel(out.data(), x.data(), N, C); },
          seed);
      expect_close(out, ref, 1e-6f);
    }
  }
}

// The residual add fused with the norm after it: the sum kept, the norm of
// it as the unfused kernels give.
TEST(CudaKernelsTest, AddNormForwardsMatchCpu) {
  const int N = 37, C = 203;
  auto a = random_values(size_t(N) * C, 25, 1.0f);
  auto b = random_values(a.size(), 26, 1.0f);
  auto w = random_values(C, 27, 1.0f), bias = random_values(C, 28, 1.0f);
  std::vector<float> sum(a.size()), out(a.size()), mean(N), rstd(N);
  std::vector<float> ref_sum(a.size()), ref(a.size()), ref_mean(N), ref_rstd(N);
  llmc::cpu::add_layernorm_forward(ref_sum.data(), ref.data(), ref_mean.data(),
                                   ref_rstd.data(), a.data(), b.data(),
                                   w.data(), bias.data(), N, C, 1e-5f);
  launch(device::warp_row_blocks(N), device::kWarpRowThreads, [&] {
    device::add_layernorm_forward_kernel(sum.data(), out.data(), mean.data(),
                                         rstd.data(), a.data(), b.data(),
                                         w.data(), bias.data(), N, C, 1e-5f);
  });
  expect_close(sum, ref_sum, 0.0f);
  expect_close(out, ref, 1e-5f);
  expect_close(mean, ref_mean, 1e-5f);
  expect_close(rstd, ref_rstd, 1e-5f);

  llmc::cpu::add_rmsnorm_forward(ref_sum.data(), ref.data(), ref_rstd.data(),
                                 a.data(), b.data(), w.data(), N, C, 1e-6f);
  launch(device::warp_row_blocks(N), device::kWarpRowThreads, [&] {
    device::add_rmsnorm_forward_kernel(sum.data(), out.data(), rstd.data(),
                                       a.data(), b.data(), w.data(), N, C,
                                       1e-6f);
  });
  expect_close(sum, ref_sum, 0.0f);
  expect_close(out, ref, 1e-5f);
  expect_close(rstd, ref_rstd, 1e-5f);
}

// The weight gradients (columns summed over rows in order) and then the
// input gradient in place of dout, as the launchers run them.
TEST(CudaKernelsTest, NormBackwardsMatchCpu) {
  for (auto shape : {std::pair{37, 203}, std::pair{5, 32}}) {
    int N = shape.first, C = shape.second;
    auto x = random_values(size_t(N) * C, 16, 2.0f);
    auto w = random_values(C, 17, 1.0f), b = random_values(C, 18, 1.0f);
    auto dout = random_values(x.size(), 19, 1.0f);
    std::vector<float> y(x.size()), mean(N), rstd(N);
    llmc::cpu::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(),
                                 w.data(), b.data(), N, C, 1e-5f);
    std::vector<float> ref(x.size()), ref_dw(C), ref_db(C);
    llmc::cpu::layernorm_backward(ref.data(), ref_dw.data(), ref_db.data(),
                                  dout.data(), x.data(), w.data(), mean.data(),
                                  rstd.data(), N, C);
    std::vector<float> got = dout, dw(C), db(C);
    launch(device::norm_column_blocks(C), device::kNormBackwardThreads, [&] {
      device::norm_weight_grad_kernel(dw.data(), db.data(), got.data(),
                                      x.data(), mean.data(), rstd.data(), N, C);
    });
    launch(device::warp_row_blocks(N), device::kWarpRowThreads, [&] {
      device::layernorm_input_grad_kernel(got.data(), got.data(), x.data(),
                                          w.data(), mean.data(), rstd.data(), N,
                                          C);
    });
    expect_close(got, ref, 1e-5f);
    expect_close(dw, ref_dw, 1e-6f); // the CPU's order (FMA aside)
    expect_close(db, ref_db, 1e-6f);

    llmc::cpu::rmsnorm_forward(y.data(), rstd.data(), x.data(), w.data(), N, C,
                               1e-6f);
    llmc::cpu::rmsnorm_backward(ref.data(), ref_dw.data(), dout.data(),
                                x.data(), w.data(), rstd.data(), N, C);
    got = dout;
    launch(device::norm_column_blocks(C), device::kNormBackwardThreads, [&] {
      device::norm_weight_grad_kernel(dw.data(), nullptr, got.data(), x.data(),
                                      nullptr, rstd.data(), N, C);
    });
    launch(device::warp_row_blocks(N), device::kWarpRowThreads, [&] {
      device::rmsnorm_input_grad_kernel(got.data(), got.data(), x.data(),
                                        w.data(), rstd.data(), N, C);
    });
    expect_close(got, ref, 1e-5f);
    expect_close(dw, ref_dw, 1e-6f);
  }
}

TEST(CudaKernelsTest, SoftmaxBackwardMatchesCpu) {
  const int N = 4, C = 700;
  auto x = random_values(size_t(N) * C, 13, 2.0f);
  auto dout = random_values(x.size(), 14, 1.0f);
  std::vector<float> y(x.size()), ref(x.size());
  llmc::cpu::softmax_forward(y.data(), x.data(), N, C);
  llmc::cpu::softmax_backward(ref.data(), dout.data(), y.data(), N, C);
  for (uint64_t seed : {0, 4}) {
    std::vector<float> got = dout; // in place, as the plan may run it
    launch(
        N, device::kSoftmaxThreads,
        [&] {
          device::softmax_backward_kernel(got.data(), got.data(), y.data(), N,
                                          C);
        },
        seed);
    expect_close(got, ref, 1e-6f);
  }
}

TEST(CudaKernelsTest, CrossEntropyMatchesCpu) {
  const int N = 13, V = 1000;
  auto logits = random_values(size_t(N) * V, 15, 3.0f);
  logits[5] += 200.0f; // a peaked row: exp overflows without the max shift
  std::vector<int> targets(N);
  for (int n = 0; n < N; ++n)
    targets[n] = (n * 379) % V;
  std::vector<float> ref_losses(N);
  float ref = llmc::cpu::cross_entropy_forward(ref_losses.data(), logits.data(),
                                               targets.data(), N, V);
  std::vector<float> losses(N);
  float loss = 0;
  launch(N, device::kCrossEntropyThreads, [&] {
    device::cross_entropy_rows_kernel(losses.data(), logits.data(),
                                      targets.data(), N, V);
  });
  launch(1, 1024, [&] { device::mean_kernel(&loss, losses.data(), N); });
  expect_close(losses, ref_losses, 1e-5f);
  EXPECT_NEAR(loss, ref, 1e-5f * std::fabs(ref));

  const float dloss = 0.5f;
  std::vector<float> ref_grad(logits.size());
  llmc::cpu::cross_entropy_backward(ref_grad.data(), dloss, logits.data(),
                                    targets.data(), N, V);
  std::vector<float> grad = logits; // in place: the logits are consumed
  launch(N, device::kCrossEntropyThreads, [&] {
    device::cross_entropy_backward_kernel(grad.data(), &dloss, grad.data(),
                                          targets.data(), N, V);
  });
  expect_close(grad, ref_grad, 1e-6f);
}

TEST(CudaKernelsTest, RmsNormForwardMatchesCpu) {
  for (auto shape : {std::pair{37, 203}, std::pair{9, 64}}) {
    int N = shape.first, C = shape.second;
    auto x = random_values(size_t(N) * C, 7, 2.0f), w = random_values(C, 8, 1);
    std::vector<float> out(x.size()), rstd(N), ref(x.size()), ref_rstd(N);
    llmc::cpu::rmsnorm_forward(ref.data(), ref_rstd.data(), x.data(), w.data(),
                               N, C, 1e-6f);
    launch(device::warp_row_blocks(N), device::kWarpRowThreads, [&] {
      device::rmsnorm_forward_kernel(out.data(), rstd.data(), x.data(),
                                     w.data(), N, C, 1e-6f);
    });
    expect_close(out, ref, 1e-5f);
    expect_close(rstd, ref_rstd, 1e-5f);
  }
}

TEST(CudaKernelsTest, EmbeddingForwardMatchesCpu) {
  // A vocabulary slice (rows 10..29 of a split vocabulary): other ids give
  // zero rows.
  const int N = 23, V = 20, C = 33, first = 10;
  auto table = random_values(size_t(V) * C, 9, 1.0f);
  std::vector<int> ids(N);
  for (int n = 0; n < N; ++n)
    ids[n] = (n * 7) % 40;
  std::vector<float> out(size_t(N) * C), ref(out.size());
  llmc::cpu::embedding_forward(ref.data(), table.data(), ids.data(), N, V, C,
                               first);
  // Fewer blocks than elements: the grid-stride loop covers the rest.
  launch(3, device::kEmbeddingThreads, [&] {
    device::embedding_forward_kernel(out.data(), table.data(), ids.data(), N, V,
                                     C, first);
  });
  expect_close(out, ref, 0.0f);
}

TEST(CudaKernelsTest, EmbeddingBackwardMatchesCpu) {
  // Repeated ids (summed in token order) and ids outside the table's slice.
  const int N = 40, V = 20, C = 33, first = 10;
  auto dout = random_values(size_t(N) * C, 20, 1.0f);
  std::vector<int> ids(N);
  for (int n = 0; n < N; ++n)
    ids[n] = (n * 7) % 40;
  std::vector<float> got(size_t(V) * C, 9.0f), ref(got.size());
  llmc::cpu::embedding_backward(ref.data(), dout.data(), ids.data(), N, V, C,
                                first);
  launch(device::embedding_backward_blocks(C), device::kEmbeddingThreads, [&] {
    device::embedding_backward_kernel(got.data(), dout.data(), ids.data(), N, V,
                                      C, first);
  });
  expect_close(got, ref, 0.0f);
}

TEST(CudaKernelsTest, RopeMatchesCpu) {
  const int B = 2, H = 3, T = 37, D = 16;
  const long long rows = (long long)B * H * T;
  auto x = random_values(size_t(rows) * D, 21, 1.0f);
  for (bool inverse : {false, true}) {
    std::vector<float> ref(x.size());
    (inverse ? llmc::cpu::rope_backward : llmc::cpu::rope_forward)(
        ref.data(), x.data(), B, H, T, D, 10000.0f, 5);
    std::vector<float> got = x; // in place
    launch(device::rope_blocks(rows * (D / 2)), device::kRopeThreads, [&] {
      device::rope_kernel(got.data(), got.data(), rows, T, D, 10000.0f, 5,
                          inverse ? -1.0f : 1.0f);
    });
    expect_close(got, ref, 1e-6f);
  }
}

// Grouped kv heads, causal (bottom-right, with rows that see no key when
// Tq > Tk) and not, D and Dv no multiple of a warp.
TEST(CudaKernelsTest, AttentionForwardMatchesCpu) {
  struct Case {
    int Tq, Tk;
    bool causal;
  };
  for (Case c : {Case{7, 11, true}, Case{7, 11, false}, Case{12, 5, true}}) {
    const int B = 2, Hq = 4, Hkv = 2, D = 40, Dv = 36;
    auto q = random_values(size_t(B) * Hq * c.Tq * D, 22, 1.0f);
    auto k = random_values(size_t(B) * Hkv * c.Tk * D, 23, 1.0f);
    auto v = random_values(size_t(B) * Hkv * c.Tk * Dv, 24, 1.0f);
    float scale = 1.0f / std::sqrt(float(D));
    std::vector<float> out(size_t(B) * Hq * c.Tq * Dv),
        lse(size_t(B) * Hq * c.Tq);
    std::vector<float> ref(out.size()), ref_lse(lse.size());
    llmc::cpu::attention_forward(ref.data(), ref_lse.data(), q.data(), k.data(),
                                 v.data(), B, Hq, Hkv, c.Tq, c.Tk, D, Dv, scale,
                                 c.causal);
    launch(device::warp_row_blocks((long long)B * Hq * c.Tq,
                                   device::kAttentionThreads),
           device::kAttentionThreads, [&] {
             device::attention_forward_kernel(
                 out.data(), lse.data(), q.data(), k.data(), v.data(), B, Hq,
                 Hkv, c.Tq, c.Tk, D, Dv, scale, c.causal);
           });
    expect_close(out, ref, 1e-5f);
    for (size_t i = 0; i < lse.size(); ++i)
      if (std::isinf(ref_lse[i]))
        EXPECT_TRUE(std::isinf(lse[i]) && lse[i] < 0) << "row " << i;
      else
        EXPECT_NEAR(lse[i], ref_lse[i], 1e-5f * (1 + std::fabs(ref_lse[i])));
  }
}

// One AdamW step from the same state: the per-element formula is shared
// (runtime/kernels/adamw.h), so only FMA contraction (the CPU library is
// built with -mfma) tells them apart; fewer blocks than elements.
TEST(CudaKernelsTest, AdamWMatchesCpu) {
  const size_t n = 3000;
  auto p = random_values(n, 29, 1.0f), g = random_values(n, 30, 1.0f);
  std::vector<float> m(n, 0.1f), v(n, 0.01f);
  llmc::AdamWHyper hyper{1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.1f, 0.05f, 0.5f};
  std::vector<float> gp = p, gm = m, gv = v;
  llmc::cpu::adamw_update(p.data(), m.data(), v.data(), g.data(), n, hyper);
  launch(2, device::kAdamWThreads, [&] {
    device::adamw_kernel(gp.data(), gm.data(), gv.data(), g.data(), n, hyper);
  });
  expect_close(gp, p, 1e-6f);
  expect_close(gm, m, 1e-6f);
  expect_close(gv, v, 1e-6f);

  // Clipped on the device by a norm in device memory (as --device cuda
  // does): the CPU's factor clip_scale(norm, clip).
  float norm = 7.5f, clip = 1.0f;
  hyper.grad_scale = llmc::clip_scale(norm, clip);
  llmc::cpu::adamw_update(p.data(), m.data(), v.data(), g.data(), n, hyper);
  hyper.grad_scale = 123.0f; // ignored when the kernel has the norm
  launch(2, device::kAdamWThreads, [&] {
    device::adamw_kernel(gp.data(), gm.data(), gv.data(), g.data(), n, hyper,
                         &norm, clip);
  });
  expect_close(gp, p, 1e-6f);
  expect_close(gm, m, 1e-6f);
  expect_close(gv, v, 1e-6f);
}

// A pointwise kernel over n elements in a grid smaller than n, so the
// grid-stride loop runs more than once per thread.
template <class Body> void pointwise(long long n, Body body) {
  launch(2, device::kPointwiseThreads, body);
}

TEST(CudaKernelsTest, ActivationsMatchCpu) {
  const long long n = 1500;
  auto x = random_values(n, 10, 3.0f), dy = random_values(n, 11, 1.0f);
  auto up = random_values(n, 12, 1.0f);
  std::vector<float> got(n), ref(n), got2(n), ref2(n);
  // The CPU's GELU (tanh) uses a fast tanh; tanhf differs by a few ulps.
  pointwise(n, [&] {
    device::pointwise_forward_kernel<device::GeluTanh>(got.data(), x.data(), n);
  });
  llmc::cpu::gelu_tanh_forward(ref.data(), x.data(), n);
  expect_close(got, ref, 1e-5f);
  pointwise(n, [&] {
    device::pointwise_backward_kernel<device::GeluTanh>(got.data(), dy.data(),
                                                        x.data(), n);
  });
  llmc::cpu::gelu_tanh_backward(ref.data(), dy.data(), x.data(), n);
  expect_close(got, ref, 1e-5f);
  pointwise(n, [&] {
    device::pointwise_forward_kernel<device::GeluErf>(got.data(), x.data(), n);
  });
  llmc::cpu::gelu_erf_forward(ref.data(), x.data(), n);
  expect_close(got, ref, 1e-6f);
  pointwise(n, [&] {
    device::pointwise_backward_kernel<device::GeluErf>(got.data(), dy.data(),
                                                       x.data(), n);
  });
  llmc::cpu::gelu_erf_backward(ref.data(), dy.data(), x.data(), n);
  expect_close(got, ref, 1e-6f);
  pointwise(n, [&] {
    device::pointwise_forward_kernel<device::Silu>(got.data(), x.data(), n);
  });
  llmc::cpu::silu_forward(ref.data(), x.data(), n);
  expect_close(got, ref, 1e-6f);
  pointwise(n, [&] {
    device::pointwise_backward_kernel<device::Silu>(got.data(), dy.data(),
                                                    x.data(), n);
  });
  llmc::cpu::silu_backward(ref.data(), dy.data(), x.data(), n);
  expect_close(got, ref, 1e-6f);
  pointwise(n, [&] {
    device::swiglu_forward_kernel(got.data(), x.data(), up.data(), n);
  });
  llmc::cpu::swiglu_forward(ref.data(), x.data(), up.data(), n);
  expect_close(got, ref, 1e-6f);
  pointwise(n, [&] {
    device::swiglu_backward_kernel(got.data(), got2.data(), dy.data(), x.data(),
                                   up.data(), n);
  });
  llmc::cpu::swiglu_backward(ref.data(), ref2.data(), dy.data(), x.data(),
                             up.data(), n);
  expect_close(got, ref, 1e-6f);
  expect_close(got2, ref2, 1e-6f);
}

} // namespace
