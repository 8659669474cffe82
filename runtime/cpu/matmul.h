// Batched matrix multiply (oneDNN or OpenBLAS), and the row sum that gives a
// bias gradient. The backward of a matmul is emitted by the compiler as other
// matmuls (with the transposes swapped) plus sum_rows, so there is no
// matmul_backward here; test/unittests/kernels/MatmulTest.cpp shows and
// checks that composition.
#pragma once

#include <cstdint>
#include <vector>

namespace llmc::cpu {

// What a GEMM multiplies: its fp32 operands, or (a bf16-mixed plan's
// `math = "bf16"`) the operands rounded to bf16, their products summed in
// fp32 into an fp32 result, as bf16 tensor units and PyTorch's autocast do.
enum class GemmMath { FP32, BF16 };

// One operand's bf16 rounding, shared between GEMMs that multiply the same
// bytes (runtime/bf16_reuse.h): `ready` is its rounding made by an earlier
// GEMM (the bytes unchanged since), `keep` receives the rounding this GEMM
// makes, for a later one. Either may be null; GEMMs that round no operand
// (fp32, or a product not on oneDNN) ignore both and leave `keep` empty.
// With `ready` set the fp32 operand may be null: a bf16 buffer of the plan
// (round_bf16's) is the operand itself.
struct Bf16Operand {
  const uint16_t *ready = nullptr;
  std::vector<uint16_t> *keep = nullptr;
};
struct Bf16Operands {
  Bf16Operand a, b;
};

// out[i] = op(a[i]) . op(b[i or shared]) + bias, for i in [0, batch).
// op(a[i]) is (M, K): a is (batch, M, K), or (batch, K, M) if trans_a.
// op(b) is (K, N):   b is (K, N), or (N, K) if trans_b; one matrix shared by
//                    every batch entry, or (batch, K, N) / (batch, N, K) if
//                    b_batched.
// bias: (N,) added to every row, or nullptr.
// out: (batch, M, N), overwritten.
void matmul_forward(float *out, const float *a, const float *b,
                    const float *bias, int64_t batch, int64_t M, int64_t N,
                    int64_t K, bool trans_a, bool trans_b, bool b_batched,
                    GemmMath math = GemmMath::FP32,
                    const Bf16Operands &shared = {});

// out[c] = sum over n of in[n, c]: rows summed in chunks of 64, in order,
// then the chunks in order (the same bits for any thread count).
// out: (C,)  in: (N, C)
void sum_rows(float *out, const float *in, int64_t N, int64_t C);

} // namespace llmc::cpu
