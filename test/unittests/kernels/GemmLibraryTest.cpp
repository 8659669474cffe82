// Tests the two GEMM libraries behind matmul_forward (oneDNN, chosen at run
// time, with our GEMV for single rows; and OpenBLAS, the fallback) against a
// double-precision product and against each other, on awkward shapes: odd and
// prime sizes, single rows and columns, every transpose and batching, with and
// without bias, and operands at unaligned offsets inside one arena, the way
// plans lay them out.

#include "runtime/cpu/bf16.h"
#include "runtime/cpu/fused.h"
#include "runtime/cpu/gemm_library.h"
#include "runtime/cpu/matmul.h"

#include "GradCheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

struct Shape {
  int64_t batch, M, N, K;
  bool ta, tb, bb, bias;
};

std::string describe(const Shape &s) {
  std::ostringstream os;
  os << s.batch << "x" << s.M << "x" << s.N << "x" << s.K << (s.ta ? " aT" : "")
     << (s.tb ? " bT" : "") << (s.bb ? " b_batched" : "")
     << (s.bias ? " bias" : "");
  return os.str();
}

// Every transpose / batching / bias combination of a few awkward sizes.
std::vector<Shape> awkward_shapes() {
  const int64_t sizes[][4] = {
      {1, 1, 1, 1},    {1, 1, 37, 19},    {3, 1, 5, 7},
      {1, 17, 1, 33},  {2, 13, 31, 65},   {1, 127, 129, 3},
      {4, 33, 8, 255}, {1, 300, 77, 513}, {1, 1, 1001, 777}};
  std::vector<Shape> shapes;
  for (auto &s : sizes)
    for (int mask = 0; mask < 16; mask++)
      shapes.push_back({s[0], s[1], s[2], s[3], bool(mask & 1), bool(mask & 2),
                        bool(mask & 4), bool(mask & 8)});
  return shapes;
}

// The operands of one product, each at an odd float offset inside one
// buffer (so none is 64-byte aligned), with guard values around the output.
struct Arena {
  static constexpr float kGuard = 1234.5f;
  std::vector<float> data;
  size_t a, b, bias, out, out_size;
  explicit Arena(const Shape &s) {
    const size_t na = size_t(s.batch * s.M * s.K);
    const size_t nb = size_t((s.bb ? s.batch : 1) * s.K * s.N);
    out_size = size_t(s.batch * s.M * s.N);
    a = 3;
    b = a + na + 5;
    bias = b + nb + 7;
    out = bias + size_t(s.N) + 9;
    data = random_vector(out + out_size + 11, 17);
    std::fill(data.begin() + long(out), data.end(), kGuard);
  }
  std::vector<float> run(const Shape &s, GemmLibrary library,
                         GemmMath math = GemmMath::FP32) {
    set_gemm_library(library);
    matmul_forward(&data[out], &data[a], &data[b],
                   s.bias ? &data[bias] : nullptr, s.batch, s.M, s.N, s.K, s.ta,
                   s.tb, s.bb, math);
    for (size_t i = out + out_size; i < data.size(); i++)
      EXPECT_EQ(data[i], kGuard) << "wrote past the output";
    return {data.begin() + long(out), data.begin() + long(out + out_size)};
  }
};

// The double product, and the sum of |terms| of each entry, which bounds
// the rounding error of any fp32 summation order. bf16: of the operands
// rounded to bf16 (the bias stays fp32).
void reference(const Shape &s, const Arena &arena, std::vector<double> &want,
               std::vector<double> &magnitude, bool bf16 = false) {
  auto value = [&](float x) {
    return bf16 ? double(from_bf16(to_bf16(x))) : double(x);
  };
  want.assign(arena.out_size, 0.0);
  magnitude.assign(arena.out_size, 0.0);
  for (int64_t i = 0; i < s.batch; i++) {
    const float *a = &arena.data[arena.a] + i * s.M * s.K;
    const float *b = &arena.data[arena.b] + (s.bb ? i * s.K * s.N : 0);
    for (int64_t m = 0; m < s.M; m++)
      for (int64_t n = 0; n < s.N; n++) {
        double sum = s.bias ? double(arena.data[arena.bias + size_t(n)]) : 0.0;
        double mag = std::fabs(sum);
        for (int64_t k = 0; k < s.K; k++) {
          const double av = value(s.ta ? a[k * s.M + m] : a[m * s.K + k]);
          const double bv = value(s.tb ? b[n * s.K + k] : b[k * s.N + n]);
          sum += av * bv;
          mag += std::fabs(av * bv);
        }
        want[size_t((i * s.M + m) * s.N + n)] = sum;
        magnitude[size_t((i * s.M + m) * s.N + n)] = mag;
      }
  }
}

class GemmLibraryTest : public ::testing::Test {
protected:
  void TearDown() override { set_gemm_library(GemmLibrary::OneDnn); }
};

TEST_F(GemmLibraryTest, BothLibrariesMatchDoubleOnAwkwardShapes) {
  for (const Shape &s : awkward_shapes()) {
    SCOPED_TRACE(describe(s));
    Arena arena(s);
    std::vector<double> want, magnitude;
    reference(s, arena, want, magnitude);
    std::vector<float> onednn = arena.run(s, GemmLibrary::OneDnn);
    std::vector<float> openblas = arena.run(s, GemmLibrary::OpenBlas);
    // fp32 summation of K terms: error within a few ulps of the sum of
    // magnitudes per term, whatever the order.
    const double eps = 4.0 * double(s.K + 1) * 6e-8;
    for (size_t i = 0; i < want.size(); i++) {
      ASSERT_NEAR(onednn[i], want[i], eps * magnitude[i] + 1e-30)
          << "oneDNN, entry " << i;
      ASSERT_NEAR(openblas[i], want[i], eps * magnitude[i] + 1e-30)
          << "OpenBLAS, entry " << i;
      ASSERT_NEAR(onednn[i], openblas[i], 2 * eps * magnitude[i] + 1e-30)
          << "entry " << i;
    }
  }
}

// bf16 math: both libraries multiply the operands rounded to bf16 and sum
// in fp32, so each matches the double product of the rounded operands as
// closely as fp32 math matches the unrounded one.
TEST_F(GemmLibraryTest, Bf16MathMatchesDoubleOfRoundedOperands) {
  for (const Shape &s : awkward_shapes()) {
    SCOPED_TRACE(describe(s));
    Arena arena(s);
    std::vector<double> want, magnitude, exact, unused;
    reference(s, arena, want, magnitude, /*bf16=*/true);
    reference(s, arena, exact, unused);
    const double eps = 4.0 * double(s.K + 1) * 6e-8;
    for (GemmLibrary library : {GemmLibrary::OneDnn, GemmLibrary::OpenBlas}) {
      std::vector<float> got = arena.run(s, library, GemmMath::BF16);
      for (size_t i = 0; i < want.size(); i++)
        ASSERT_NEAR(got[i], want[i], eps * magnitude[i] + 1e-30)
            << (library == GemmLibrary::OneDnn ? "oneDNN" : "OpenBLAS")
            << ", entry " << i;
    }
    // And the rounding is real: bf16 keeps 8 bits, so a long sum of
    // random terms moves by more than fp32 rounding would.
    if (s.K >= 255 && !s.bias) {
      double moved = 0;
      std::vector<float> got =
          arena.run(s, GemmLibrary::OneDnn, GemmMath::BF16);
      for (size_t i = 0; i < got.size(); i++)
        moved = std::max(moved, std::fabs(got[i] - exact[i]) / magnitude[i]);
      EXPECT_GT(moved, 1e-4);
    }
  }
}

// An operand a bf16-mixed plan keeps in a bf16 buffer (round_bf16's) is
// multiplied as the fp32 operand it was rounded from: the same bits, on
// either library, in the plain GEMM and in the fused ones, whose row blocks
// (more than one here) each take their part of it.
TEST_F(GemmLibraryTest, Bf16BufferOperandsGiveTheRoundedOperandsBits) {
  const int64_t M = 600, N = 4096, K = 24;
  auto a = random_vector(M * K, 41);
  auto b = random_vector(K * N, 42);
  auto bias = random_vector(N, 43);
  auto gate = random_vector(M * N, 44);
  std::vector<uint16_t> a16(a.size()), b16(b.size());
  round_to_bf16(a16.data(), a.data(), int64_t(a.size()));
  round_to_bf16(b16.data(), b.data(), int64_t(b.size()));
  const Bf16Operands lhs{{a16.data(), nullptr}, {}};
  const Bf16Operands both{{a16.data(), nullptr}, {b16.data(), nullptr}};
  std::vector<float> want(M * N), got(M * N), want2(M * N), got2(M * N);
  for (GemmLibrary library : {GemmLibrary::OneDnn, GemmLibrary::OpenBlas}) {
    SCOPED_TRACE(library == GemmLibrary::OneDnn ? "oneDNN" : "OpenBLAS");
    set_gemm_library(library);
    matmul_forward(want.data(), a.data(), b.data(), bias.data(), 1, M, N, K,
                   false, false, false, GemmMath::BF16);
    matmul_forward(got.data(), nullptr, nullptr, bias.data(), 1, M, N, K, false,
                   false, false, GemmMath::BF16, both);
    EXPECT_EQ(got, want);
    // The weight-gradient GEMM's form: lhs transposed, the bf16 rhs.
    std::vector<float> dw(K * K), dw_want(K * K);
    matmul_forward(dw_want.data(), a.data(), a.data(), nullptr, 1, K, K, M,
                   true, false, false, GemmMath::BF16);
    matmul_forward(dw.data(), a.data(), nullptr, nullptr, 1, K, K, M, true,
                   false, false, GemmMath::BF16,
                   Bf16Operands{{}, {a16.data(), nullptr}});
    EXPECT_EQ(dw, dw_want);
    matmul_bias_gelu_forward(want.data(), want2.data(), a.data(), b.data(),
                             bias.data(), 1, M, N, K, false, false, false, true,
                             GemmMath::BF16);
    matmul_bias_gelu_forward(got.data(), got2.data(), nullptr, b.data(),
                             bias.data(), 1, M, N, K, false, false, false, true,
                             GemmMath::BF16, lhs);
    EXPECT_EQ(got, want);
    EXPECT_EQ(got2, want2);
    matmul_swiglu_forward(want.data(), want2.data(), a.data(), b.data(),
                          gate.data(), 1, M, N, K, false, false, false,
                          GemmMath::BF16);
    matmul_swiglu_forward(got.data(), got2.data(), nullptr, b.data(),
                          gate.data(), 1, M, N, K, false, false, false,
                          GemmMath::BF16, lhs);
    EXPECT_EQ(got, want);
    EXPECT_EQ(got2, want2);
  }
}

TEST(Bf16Test, RoundsToNearestEven) {
  EXPECT_EQ(to_bf16(1.0f), 0x3f80);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even 1.
  EXPECT_EQ(to_bf16(1.00390625f), 0x3f80);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to 1 + 2^-6.
  EXPECT_EQ(to_bf16(1.01171875f), 0x3f82);
  EXPECT_EQ(to_bf16(1.0f + 1.5f / 256), 0x3f81); // above halfway: up
  EXPECT_EQ(to_bf16(-2.0f), 0xc000);
  EXPECT_EQ(to_bf16(INFINITY), 0x7f80);
  EXPECT_TRUE(std::isnan(from_bf16(to_bf16(NAN))));
  // The largest finite floats round up to infinity, as in IEEE.
  EXPECT_EQ(to_bf16(3.4028235e38f), 0x7f80);
  EXPECT_EQ(from_bf16(0x4049), 3.140625f);
}

// A primitive is created once per shape and then runs on whatever memory
// each call passes: a second call with other operands must not reuse the
// first call's pointers.
TEST_F(GemmLibraryTest, KeptPrimitiveRunsOnEachCallsOperands) {
  const Shape s{2, 9, 11, 13, false, true, false, true};
  Arena first(s), second(s);
  for (float &x : second.data)
    x = -x;
  std::fill(second.data.begin() + long(second.out), second.data.end(),
            Arena::kGuard);
  std::vector<float> one = first.run(s, GemmLibrary::OneDnn);
  std::vector<float> two = second.run(s, GemmLibrary::OneDnn);
  // Every operand negated: a . b is unchanged, the bias flips sign.
  std::vector<double> want, magnitude;
  reference(s, second, want, magnitude);
  for (size_t i = 0; i < two.size(); i++)
    ASSERT_NEAR(two[i], want[i], 1e-5 * magnitude[i]) << "entry " << i;
  EXPECT_NE(one, two);
}

TEST_F(GemmLibraryTest, EmptyReductionGivesTheBias) {
  const Shape s{2, 3, 5, 0, false, false, false, true};
  Arena arena(s);
  for (GemmLibrary library : {GemmLibrary::OneDnn, GemmLibrary::OpenBlas}) {
    std::vector<float> out = arena.run(s, library);
    for (size_t i = 0; i < out.size(); i++)
      EXPECT_EQ(out[i], arena.data[arena.bias + i % 5]);
  }
}

TEST_F(GemmLibraryTest, EnvironmentWordsAndDescription) {
  GemmLibrary library;
  ASSERT_TRUE(parse_gemm_library("openblas", library));
  EXPECT_EQ(library, GemmLibrary::OpenBlas);
  ASSERT_TRUE(parse_gemm_library("onednn", library));
  EXPECT_EQ(library, GemmLibrary::OneDnn);
  EXPECT_FALSE(parse_gemm_library("mkl", library));
  EXPECT_NE(gemm_library_description().find("oneDNN"), std::string::npos);
  set_gemm_library(GemmLibrary::OpenBlas);
  EXPECT_NE(gemm_library_description().find("OpenBLAS"), std::string::npos);
}

} // namespace
