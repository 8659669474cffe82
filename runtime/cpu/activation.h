// Pointwise activations: GELU (tanh approximation and exact erf), SiLU and
// SwiGLU. Every backward overwrites its outputs; all are elementwise, so any
// output may alias any input.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// GPT-2 "gelu_new" / torch gelu(approximate="tanh"):
// out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// out, inp: (n,)
void gelu_tanh_forward(float *out, const float *inp, int64_t n);
// dinp, dout, inp: (n,)
void gelu_tanh_backward(float *dinp, const float *dout, const float *inp,
                        int64_t n);

// torch gelu(approximate="none"): out = 0.5 x (1 + erf(x / sqrt(2)))
// out, inp: (n,)
void gelu_erf_forward(float *out, const float *inp, int64_t n);
// dinp, dout, inp: (n,)
void gelu_erf_backward(float *dinp, const float *dout, const float *inp,
                       int64_t n);

// out = x * sigmoid(x)
// out, inp: (n,)
void silu_forward(float *out, const float *inp, int64_t n);
// dinp, dout, inp: (n,)
void silu_backward(float *dinp, const float *dout, const float *inp, int64_t n);

// LLaMA MLP gate: out = silu(gate) * up.
// out, gate, up: (n,)
void swiglu_forward(float *out, const float *gate, const float *up, int64_t n);
// dgate = dout * up * silu'(gate); dup = dout * silu(gate).
// dgate, dup, dout, gate, up: (n,)
void swiglu_backward(float *dgate, float *dup, const float *dout,
                     const float *gate, const float *up, int64_t n);

} // namespace llmc::cpu
