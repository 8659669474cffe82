// Pointwise activations on the GPU (kernel table: gelu_forward,
// gelu_backward, silu_forward, silu_backward, swiglu_forward,
// swiglu_backward), as runtime/cpu/activation.h; outputs may alias inputs.
// Bodies in runtime/cuda/device/activation.cuh.
#pragma once

#include <cuda_runtime.h>

namespace llmc::cuda {

enum class Gelu { Tanh, Erf };

void gelu_forward(float *out, const float *inp, long long n, Gelu kind,
                  cudaStream_t stream);
void gelu_backward(float *dinp, const float *dout, const float *inp,
                   long long n, Gelu kind, cudaStream_t stream);
void silu_forward(float *out, const float *inp, long long n,
                  cudaStream_t stream);
void silu_backward(float *dinp, const float *dout, const float *inp,
                   long long n, cudaStream_t stream);
void swiglu_forward(float *out, const float *gate, const float *up, long long n,
                    cudaStream_t stream);
void swiglu_backward(float *dgate, float *dup, const float *dout,
                     const float *gate, const float *up, long long n,
                     cudaStream_t stream);

} // namespace llmc::cuda
