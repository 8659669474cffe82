// Fused kernels the plan's fusion pass (llmc-fuse-kernels) calls instead of
// two separate ones. Each gives results bit-identical to the unfused pair.
#pragma once

#include "runtime/cpu/matmul.h"

#include <cstdint>

namespace llmc::cpu {

// The residual add and the norm after it, in one pass over each row:
// sum = a + b, out = layernorm(sum) (sum is kept: the residual stream).
// sum, out, a, b: (N, C)  mean, rstd: (N,)  weight, bias: (C,)
void add_layernorm_forward(float *sum, float *out, float *mean, float *rstd,
                           const float *a, const float *b, const float *weight,
                           const float *bias, int64_t N, int64_t C, float eps);

// The same with RMSNorm (LLaMA).
// sum, out, a, b: (N, C)  rstd: (N,)  weight: (C,)
void add_rmsnorm_forward(float *sum, float *out, float *rstd, const float *a,
                         const float *b, const float *weight, int64_t N,
                         int64_t C, float eps);

// A GEMM with bias followed by GELU: pre = op(a)·op(b) + bias, then
// out = gelu(pre) row block by row block while the block is in cache (pre is
// kept for the backward pass). Arguments as matmul_forward.
void matmul_bias_gelu_forward(float *pre, float *out, const float *a,
                              const float *b, const float *bias, int64_t batch,
                              int64_t M, int64_t N, int64_t K, bool trans_a,
                              bool trans_b, bool b_batched, bool tanh,
                              GemmMath math = GemmMath::FP32,
                              const Bf16Operands &shared = {});

// LLaMA's up projection followed by SwiGLU: up = op(a)·op(b), then
// out = silu(gate)·up row block by row block while the block is in cache (up
// is kept for the backward pass). Arguments as matmul_forward.
void matmul_swiglu_forward(float *up, float *out, const float *a,
                           const float *b, const float *gate, int64_t batch,
                           int64_t M, int64_t N, int64_t K, bool trans_a,
                           bool trans_b, bool b_batched,
                           GemmMath math = GemmMath::FP32,
                           const Bf16Operands &shared = {});

} // namespace llmc::cpu
