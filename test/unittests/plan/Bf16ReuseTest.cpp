// Shared bf16 roundings (runtime/bf16_reuse.h): the dW GEMM takes the dX
// GEMM's rounding of dY, nothing else does (a write between, fp32 math, a
// stashed buffer at the same offset, too far apart), and a plan run with
// the sharing computes what each GEMM computes alone, bit for bit.
#include "runtime/bf16_reuse.h"
#include "runtime/cpu/matmul.h"
#include "runtime/executor.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace llmc {
namespace {

// dX = dY . W^T, then dW = X^T . dY (dY through a second tensor of its
// buffer, as the compiler's reshaped views are), both bf16.
class Backward {
public:
  Backward() {
    dy = buffer({8, 16});
    w = buffer({12, 16});
    dx = buffer({8, 12});
    x = buffer({8, 12});
    dw = buffer({12, 16});
    dy_view = view(dy, {8, 16});
    matmul(dy, w, dx, false, true);
    matmul(x, dy_view, dw, true, false);
  }

  uint32_t buffer(std::vector<int64_t> shape, bool stashed = false) {
    int64_t bytes = 4;
    for (int64_t d : shape)
      bytes *= d;
    planfile::Buffer *b = plan.add_buffers();
    b->set_category(planfile::ACTIVATION);
    b->set_stashed(stashed);
    uint64_t &end = stashed ? stash_end : arena_end;
    b->set_offset(end);
    b->set_size_bytes(uint64_t(bytes));
    end += uint64_t(bytes);
    plan.set_arena_bytes(arena_end);
    plan.set_stash_bytes(stash_end);
    return view(uint32_t(plan.buffers_size() - 1), shape, true);
  }
  // A tensor of tensor t's buffer.
  uint32_t view(uint32_t t, std::vector<int64_t> shape,
                bool is_buffer = false) {
    planfile::Tensor *v = plan.add_tensors();
    v->set_buffer(is_buffer ? t : plan.tensors(int(t)).buffer());
    v->set_dtype(planfile::F32);
    for (int64_t d : shape)
      v->add_shape(d);
    return uint32_t(plan.tensors_size() - 1);
  }
  planfile::Kernel *matmul(uint32_t a, uint32_t b, uint32_t out, bool ta,
                           bool tb, const char *math = "bf16") {
    planfile::Kernel *k = plan.add_kernels();
    k->set_name("matmul");
    k->add_ins(a);
    k->add_ins(b);
    k->add_outs(out);
    (*k->mutable_params())["transpose_lhs"].set_b(ta);
    (*k->mutable_params())["transpose_rhs"].set_b(tb);
    if (math)
      (*k->mutable_params())["math"].set_s(math);
    return k;
  }

  planfile::Plan plan;
  uint64_t arena_end = 0, stash_end = 0;
  uint32_t dy, w, dx, x, dw, dy_view;
};

TEST(Bf16Reuse, DwTakesTheDxGemmsRoundingOfDy) {
  Backward b;
  Bf16Reuse r = find_bf16_reuse(b.plan);
  ASSERT_EQ(r.from.size(), 2u);
  EXPECT_FALSE(r.from[0][0].valid());
  EXPECT_FALSE(r.from[0][1].valid());
  EXPECT_FALSE(r.from[1][0].valid());
  EXPECT_EQ(r.from[1][1].kernel, 0);
  EXPECT_EQ(r.from[1][1].slot, 0);
  EXPECT_EQ(r.last_use[0][0], 1);
  EXPECT_EQ(r.last_use[0][1], -1);
}

TEST(Bf16Reuse, AChainTakesTheFirstRounding) {
  Backward b;
  uint32_t out = b.buffer({8, 12});
  b.matmul(b.dy, b.w, out, false, true);
  Bf16Reuse r = find_bf16_reuse(b.plan);
  EXPECT_EQ(r.from[2][0].kernel, 0);
  EXPECT_EQ(r.from[2][1].kernel, 0); // w, the dX GEMM's rhs
  EXPECT_EQ(r.from[2][1].slot, 1);
  EXPECT_EQ(r.last_use[0][0], 2);
}

TEST(Bf16Reuse, NoneAcrossAWriteFp32MathAStashOrTheWindow) {
  {
    // A kernel between writes dY's buffer.
    Backward b;
    planfile::Kernel *fill = b.plan.add_kernels();
    fill->set_name("fill");
    fill->add_outs(b.dy);
    b.plan.mutable_kernels()->SwapElements(1, 2);
    EXPECT_TRUE(find_bf16_reuse(b.plan).from.empty());
  }
  {
    // The dX GEMM writes the bytes it rounded (its out is dY's buffer).
    Backward b;
    b.plan.mutable_kernels(0)->set_outs(0, b.dy_view);
    EXPECT_TRUE(find_bf16_reuse(b.plan).from.empty());
  }
  {
    Backward b;
    b.plan.mutable_kernels(0)->mutable_params()->erase("math");
    EXPECT_TRUE(find_bf16_reuse(b.plan).from.empty());
  }
  {
    // A stashed buffer at dY's offset holds other bytes.
    Backward b;
    uint32_t stashed = b.buffer({8, 16}, true);
    ASSERT_EQ(b.plan.buffers(b.plan.tensors(int(stashed)).buffer()).offset(),
              b.plan.buffers(b.plan.tensors(int(b.dy)).buffer()).offset());
    b.plan.mutable_kernels(1)->set_ins(1, stashed);
    EXPECT_TRUE(find_bf16_reuse(b.plan).from.empty());
  }
  {
    Backward b;
    EXPECT_TRUE(find_bf16_reuse(b.plan, 0).from.empty());
  }
}

TEST(Bf16Reuse, SharedRoundingsComputeWhatEachGemmComputesAlone) {
  Backward b;
  ASSERT_FALSE(find_bf16_reuse(b.plan).from.empty());
  Executor exec(b.plan);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (uint32_t t : {b.dy, b.w, b.x})
    for (int64_t i = 0; i < exec.num_elements(int(t)); ++i)
      exec.f32(int(t))[i] = u(rng);
  for (int run = 0; run < 2; ++run) { // the second run reuses the vectors
    exec.run({});
    std::vector<float> dx(8 * 12), dw(12 * 16);
    cpu::matmul_forward(dx.data(), exec.f32(int(b.dy)), exec.f32(int(b.w)),
                        nullptr, 1, 8, 12, 16, false, true, false,
                        cpu::GemmMath::BF16);
    cpu::matmul_forward(dw.data(), exec.f32(int(b.x)), exec.f32(int(b.dy)),
                        nullptr, 1, 12, 16, 8, true, false, false,
                        cpu::GemmMath::BF16);
    EXPECT_EQ(0, std::memcmp(dx.data(), exec.f32(int(b.dx)),
                             sizeof(float) * dx.size()));
    EXPECT_EQ(0, std::memcmp(dw.data(), exec.f32(int(b.dw)),
                             sizeof(float) * dw.size()));
    // Another dY for the second run: a stale rounding would show.
    for (int64_t i = 0; i < exec.num_elements(int(b.dy)); ++i)
      exec.f32(int(b.dy))[i] = u(rng);
  }
}

} // namespace
} // namespace llmc
