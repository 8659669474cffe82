// Tests that GELU (tanh and erf), SiLU and SwiGLU match their formulas in
// double and that every backward matches finite differences.

#include "runtime/cpu/activation.h"

#include "GradCheck.h"

#include <cmath>

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

} // namespace
