// Tests that GELU (tanh and erf), SiLU and SwiGLU match their formulas in
// double, that every backward matches finite differences, and that the
// AVX-512 and AVX2 loops, in place or not, give the same bits.

#include "runtime/cpu/activation.h"
#include "runtime/cpu/vector_isa.h"

#include "GradCheck.h"

#include <cmath>
#include <cstring>

using namespace llmc::cpu;
using namespace llmc::test;

namespace {

constexpr int64_t n = 2 * 5 * 6;

double gelu_tanh_ref(double x) {
  const double pi = 3.14159265358979323846;
  return 0.5 * x *
         (1.0 + std::tanh(std::sqrt(2.0 / pi) * (x + 0.044715 * x * x * x)));
}
double gelu_erf_ref(double x) {
  return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
}
double silu_ref(double x) { return x / (1.0 + std::exp(-x)); }

using Forward = void (*)(float *, const float *, int64_t);
using Backward = void (*)(float *, const float *, const float *, int64_t);

struct Unary {
  const char *name;
  Forward forward;
  Backward backward;
  double (*reference)(double);
};

const Unary kUnary[] = {
    {"gelu_tanh", gelu_tanh_forward, gelu_tanh_backward, gelu_tanh_ref},
    {"gelu_erf", gelu_erf_forward, gelu_erf_backward, gelu_erf_ref},
    {"silu", silu_forward, silu_backward, silu_ref},
};

TEST(ActivationTest, ForwardMatchesFormula) {
  // Wide range, including the tails where tanh / erf saturate.
  std::vector<float> x = random_vector(n, 41, -6.0f, 6.0f);
  x[0] = 0.0f;
  x[1] = -20.0f;
  x[2] = 20.0f;
  for (const Unary &u : kUnary) {
    std::vector<float> out(n);
    u.forward(out.data(), x.data(), n);
    std::vector<double> ref(n);
    for (int64_t i = 0; i < n; i++)
      ref[size_t(i)] = u.reference(x[size_t(i)]);
    EXPECT_TRUE(all_near(u.name, out, ref, 1e-6));
  }
}

TEST(ActivationTest, GeluVariantsDiffer) {
  // The two GELUs differ by 4.7e-4 at x = 2.7: make sure neither kernel
  // silently computes the other.
  std::vector<float> x = {2.7f}, a(1), b(1);
  gelu_tanh_forward(a.data(), x.data(), 1);
  gelu_erf_forward(b.data(), x.data(), 1);
  EXPECT_NEAR(a[0], gelu_tanh_ref(2.7f), 1e-6);
  EXPECT_NEAR(b[0], gelu_erf_ref(2.7f), 1e-6);
  EXPECT_GT(std::fabs(a[0] - b[0]), 4e-4);
}

TEST(ActivationTest, BackwardMatchesFiniteDifferences) {
  for (const Unary &u : kUnary) {
    std::vector<float> x = random_vector(n, 42, -4.0f, 4.0f);
    const std::vector<float> r = random_vector(n, 43);
    std::vector<float> dx(n), out(n);
    u.backward(dx.data(), r.data(), x.data(), n);
    auto loss = [&] {
      u.forward(out.data(), x.data(), n);
      return project(r, out.data());
    };
    EXPECT_TRUE(check_gradient(u.name, x, dx, loss));
  }
}

TEST(ActivationTest, SwigluForwardAndBackward) {
  std::vector<float> gate = random_vector(n, 44, -4.0f, 4.0f);
  std::vector<float> up = random_vector(n, 45, -2.0f, 2.0f);
  std::vector<float> out(n);
  swiglu_forward(out.data(), gate.data(), up.data(), n);
  std::vector<double> ref(n);
  for (int64_t i = 0; i < n; i++)
    ref[size_t(i)] = silu_ref(gate[size_t(i)]) * up[size_t(i)];
  EXPECT_TRUE(all_near("swiglu", out, ref, 1e-6));

  const std::vector<float> r = random_vector(n, 46);
  std::vector<float> dgate(n), dup(n);
  swiglu_backward(dgate.data(), dup.data(), r.data(), gate.data(), up.data(),
                  n);
  auto loss = [&] {
    swiglu_forward(out.data(), gate.data(), up.data(), n);
    return project(r, out.data());
  };
  EXPECT_TRUE(check_gradient("dgate", gate, dgate, loss));
  EXPECT_TRUE(check_gradient("dup", up, dup, loss));
}

// Every loop on both instruction sets, over several of the kernels' 4096
// element blocks and a ragged end, writing a fresh buffer and over its
// gradient input: the same bits each time.
TEST(ActivationTest, SameBitsOnEveryIsaAndInPlace) {
  const int64_t big = 3 * 4096 + 17;
  const std::vector<float> x = random_vector(big, 47, -6.0f, 6.0f);
  const std::vector<float> g = random_vector(big, 48);
  auto run_all = [&](VectorIsa isa, bool in_place) {
    set_vector_isa(isa);
    std::vector<std::vector<float>> results;
    for (const Unary &u : kUnary) {
      std::vector<float> out(big), dx = g;
      u.forward(out.data(), x.data(), big);
      if (in_place) {
        u.backward(dx.data(), dx.data(), x.data(), big);
      } else {
        std::vector<float> fresh(big);
        u.backward(fresh.data(), g.data(), x.data(), big);
        dx = fresh;
      }
      results.push_back(out);
      results.push_back(dx);
    }
    std::vector<float> out(big), dgate(big), dup = g;
    swiglu_forward(out.data(), x.data(), g.data(), big);
    swiglu_backward(dgate.data(), dup.data(), in_place ? dup.data() : g.data(),
                    x.data(), g.data(), big);
    results.push_back(out);
    results.push_back(dgate);
    results.push_back(dup);
    set_vector_isa(VectorIsa::Avx512);
    return results;
  };
  const auto want = run_all(VectorIsa::Avx2, false);
  for (VectorIsa isa : {VectorIsa::Avx2, VectorIsa::Avx512})
    for (bool in_place : {false, true}) {
      const auto got = run_all(isa, in_place);
      for (size_t i = 0; i < want.size(); i++)
        EXPECT_EQ(0, std::memcmp(got[i].data(), want[i].data(),
                                 want[i].size() * sizeof(float)))
            << "result " << i << (isa == VectorIsa::Avx2 ? " avx2" : " avx512")
            << (in_place ? " in place" : "");
    }
}

} // namespace
