// Pointwise activations, forward and backward side by side.
#include "runtime/cpu/activation.h"
#include "runtime/cpu/vec_math.h"

#include <cmath>

namespace llmc::cpu {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f; // sqrt(2 / pi)
constexpr float kGeluCoeff = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;   // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.3989422804014327f; // 1 / sqrt(2 pi)

inline float sigmoid(float x) { return 1.0f / (1.0f + vec::exp_approx(-x)); }

} // namespace

// ----------------------------------------------------------------------------
// GELU, tanh approximation

void gelu_tanh_forward(float *out, const float *inp, int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i];
    float u = kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
    out[i] = 0.5f * x * (1.0f + vec::tanh_approx(u));
  }
}

void gelu_tanh_backward(float *dinp, const float *dout, const float *inp,
                        int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i];
    float u = kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
    float t = vec::tanh_approx(u);
    float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCoeff * x * x);
    float grad = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
    dinp[i] = grad * dout[i];
  }
}

// ----------------------------------------------------------------------------
// GELU, exact erf

void gelu_erf_forward(float *out, const float *inp, int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i];
    out[i] = 0.5f * x * (1.0f + std::erf(x * kInvSqrt2));
  }
}

void gelu_erf_backward(float *dinp, const float *dout, const float *inp,
                       int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i];
    float cdf = 0.5f * (1.0f + std::erf(x * kInvSqrt2));
    float pdf = kInvSqrt2Pi * std::exp(-0.5f * x * x);
    dinp[i] = (cdf + x * pdf) * dout[i];
  }
}

// ----------------------------------------------------------------------------
// SiLU and SwiGLU

void silu_forward(float *out, const float *inp, int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++)
    out[i] = inp[i] * sigmoid(inp[i]);
}

void silu_backward(float *dinp, const float *dout, const float *inp,
                   int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i], s = sigmoid(x);
    dinp[i] = dout[i] * s * (1.0f + x * (1.0f - s));
  }
}

void swiglu_forward(float *out, const float *gate, const float *up, int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++)
    out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

void swiglu_backward(float *dgate, float *dup, const float *dout,
                     const float *gate, const float *up, int64_t n) {
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++) {
    float x = gate[i], s = sigmoid(x), g = dout[i];
    dgate[i] = g * up[i] * s * (1.0f + x * (1.0f - s));
    dup[i] = g * x * s;
  }
}

} // namespace llmc::cpu
