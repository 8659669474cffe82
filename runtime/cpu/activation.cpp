// Pointwise activations, forward and backward side by side. The loops
// without libm calls run on AVX-512 where the processor has it (chosen at
// run time, runtime/cpu/vector_isa.h), else on the build's AVX2.
#include "runtime/cpu/activation.h"
#include "runtime/cpu/vec_math.h"
#include "runtime/cpu/vector_isa.h"

#include <algorithm>
#include <cmath>

namespace llmc::cpu {

namespace {

constexpr float kSqrt2OverPi = 0.7978845608028654f; // sqrt(2 / pi)
constexpr float kGeluCoeff = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;   // 1 / sqrt(2)
constexpr float kInvSqrt2Pi = 0.3989422804014327f; // 1 / sqrt(2 pi)

// The tanh approximation's argument, sqrt(2/pi) (x + 0.044715 x^3).
inline float gelu_tanh_arg(float x) {
  return kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
}

inline float sigmoid(float x) { return 1.0f / (1.0f + vec::exp_approx(-x)); }

// loop(i0, i1) compiled for AVX-512 or for the build's AVX2: loop is an
// always_inline lambda holding its own `omp simd` loop (a loop here around
// a call of it would lose the pragma's no-overlap promise when the call is
// inlined, and the overlap check it then needs fails for results written
// over an input, llmc-write-in-place, falling back to scalar code).
template <typename Loop>
__attribute__((target("avx512f,avx512dq,avx512vl"))) void
run_avx512(const Loop &loop, int64_t i0, int64_t i1) {
  loop(i0, i1);
}
template <typename Loop>
void run_avx2(const Loop &loop, int64_t i0, int64_t i1) {
  loop(i0, i1);
}

// loop over [0, n) on the OpenMP threads, in blocks of 16 KiB of each
// operand.
template <typename Loop> void pointwise(int64_t n, const Loop &loop) {
  constexpr int64_t kBlock = 4096;
  const bool wide = vector_isa() == VectorIsa::Avx512;
#pragma omp parallel for
  for (int64_t b = 0; b < (n + kBlock - 1) / kBlock; b++) {
    const int64_t i0 = b * kBlock, i1 = std::min(n, i0 + kBlock);
    wide ? run_avx512(loop, i0, i1) : run_avx2(loop, i0, i1);
  }
}

} // namespace

// ----------------------------------------------------------------------------
// GELU, tanh approximation

void gelu_tanh_forward(float *out, const float *inp, int64_t n) {
  pointwise(
      n, [=](int64_t i0, int64_t i1) __attribute__((always_inline)) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
          float x = inp[i];
          float u = gelu_tanh_arg(x);
          out[i] = 0.5f * x * (1.0f + vec::tanh_approx(u));
        }
      });
}

void gelu_tanh_backward(float *dinp, const float *dout, const float *inp,
                        int64_t n) {
  pointwise(
      n, [=](int64_t i0, int64_t i1) __attribute__((always_inline)) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
          float x = inp[i];
          float u = gelu_tanh_arg(x);
          float t = vec::tanh_approx(u);
          float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCoeff * x * x);
          float grad = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
          dinp[i] = grad * dout[i];
        }
      });
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
  pointwise(
      n, [=](int64_t i0, int64_t i1) __attribute__((always_inline)) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
          out[i] = inp[i] * sigmoid(inp[i]);
        }
      });
}

void silu_backward(float *dinp, const float *dout, const float *inp,
                   int64_t n) {
  pointwise(
      n, [=](int64_t i0, int64_t i1) __attribute__((always_inline)) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
          float x = inp[i], s = sigmoid(x);
          dinp[i] = dout[i] * s * (1.0f + x * (1.0f - s));
        }
      });
}

void swiglu_forward(float *out, const float *gate, const float *up, int64_t n) {
  pointwise(
      n, [=](int64_t i0, int64_t i1) __attribute__((always_inline)) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
          out[i] = gate[i] * sigmoid(gate[i]) * up[i];
        }
      });
}

void swiglu_backward(float *dgate, float *dup, const float *dout,
                     const float *gate, const float *up, int64_t n) {
  pointwise(
      n, [=](int64_t i0, int64_t i1) __attribute__((always_inline)) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
          float x = gate[i], s = sigmoid(x), g = dout[i];
          dgate[i] = g * up[i] * s * (1.0f + x * (1.0f - s));
          dup[i] = g * x * s;
        }
      });
}

} // namespace llmc::cpu
