// Pointwise activations on the GPU, as runtime/cpu/activation.h computes
// them: GELU (tanh and erf), SiLU, SwiGLU and their gradients, a thread per
// element in a grid-stride loop. Device code for nvcc and the SIMT
// emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

namespace llmc::cuda::device {

constexpr int kPointwiseThreads = 256;
inline int pointwise_blocks(long long n) {
  long long blocks = (n + kPointwiseThreads - 1) / kPointwiseThreads;
  return int(blocks < 65535 ? blocks : 65535);
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluCoeff = 0.044715f;
constexpr float kInvSqrt2 = 0.7071067811865476f;
constexpr float kInvSqrt2Pi = 0.3989422804014327f;

__device__ __forceinline__ float sigmoid(float x) {
  return 1.0f / (1.0f + expf(-x));
}

// What each kernel does to element i of its operands.
struct GeluTanh {
  __device__ static float forward(float x) {
    float u = kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
    return 0.5f * x * (1.0f + tanhf(u));
  }
  __device__ static float slope(float x) {
    float u = kSqrt2OverPi * (x + kGeluCoeff * x * x * x);
    float t = tanhf(u);
    float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluCoeff * x * x);
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
  }
};
struct GeluErf {
  __device__ static float forward(float x) {
    return 0.5f * x * (1.0f + erff(x * kInvSqrt2));
  }
  __device__ static float slope(float x) {
    float cdf = 0.5f * (1.0f + erff(x * kInvSqrt2));
    return cdf + x * kInvSqrt2Pi * expf(-0.5f * x * x);
  }
};
struct Silu {
  __device__ static float forward(float x) { return x * sigmoid(x); }
  __device__ static float slope(float x) {
    float s = sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
  }
};

#define LLMC_GRID_STRIDE(i, n)                                                 \
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;  \
       i += (long long)gridDim.x * blockDim.x)

// out = f(inp)
template <class F>
__global__ void pointwise_forward_kernel(float *out, const float *inp,
                                         long long n) {
  LLMC_GRID_STRIDE(i, n)
  out[i] = F::forward(inp[i]);
}
// dinp = f'(inp) · dout
template <class F>
__global__ void pointwise_backward_kernel(float *dinp, const float *dout,
                                          const float *inp, long long n) {
  LLMC_GRID_STRIDE(i, n)
  dinp[i] = F::slope(inp[i]) * dout[i];
}
// out = silu(gate) · up
__global__ void swiglu_forward_kernel(float *out, const float *gate,
                                      const float *up, long long n) {
  LLMC_GRID_STRIDE(i, n)
  out[i] = Silu::forward(gate[i]) * up[i];
}
// dgate = dout · up · silu'(gate), dup = dout · silu(gate)
__global__ void swiglu_backward_kernel(float *dgate, float *dup,
                                       const float *dout, const float *gate,
                                       const float *up, long long n) {
  LLMC_GRID_STRIDE(i, n) {
    float x = gate[i], g = dout[i];
    float u = up[i]; // dup may alias up: read it first
    dgate[i] = g * u * Silu::slope(x);
    dup[i] = g * Silu::forward(x);
  }
}

#undef LLMC_GRID_STRIDE

} // namespace llmc::cuda::device
