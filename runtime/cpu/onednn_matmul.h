// A matmul through oneDNN, the library that chooses its kernels from the
// processor at run time. Each shape's primitive is created on its first call
// and kept, so a plan's steps after the first only execute.
#pragma once

#include "runtime/cpu/matmul.h"

#include <cstdint>

namespace llmc::cpu {

// matmul_forward's contract (runtime/cpu/matmul.h), on oneDNN. K > 0.
// bf16: a and b are rounded to bf16 (into scratch kept per thread, or into
// `shared`'s keep, or taken from its ready) and multiplied by oneDNN's bf16
// kernels, summing in fp32. Returns false, out
// untouched, where oneDNN has no implementation for the call on this
// processor (the caller then uses OpenBLAS).
bool onednn_matmul(float *out, const float *a, const float *b,
                   const float *bias, int64_t batch, int64_t M, int64_t N,
                   int64_t K, bool trans_a, bool trans_b, bool b_batched,
                   bool bf16, const Bf16Operands &shared = {});

// One operand of a batched product: `batch` matrices of (rows, cols)
// elements, element (i, r, c) at data[i * batch_stride + r * row_stride +
// c * col_stride] (a transpose is a swap of the two strides). bf16 data is
// uint16_t holding bf16 bits.
struct StridedMatrix {
  const void *data;
  int64_t rows, cols;
  int64_t batch_stride, row_stride, col_stride;
  bool bf16 = false;
};

// dst[i] = src[i] . weights[i] (+ dst[i] when accumulate), for each of
// `batch` matrices; dst is fp32 and writable, src and weights share their
// element type. No scale: oneDNN 2.6 runs a scaled bf16 product of most
// shapes on a kernel without AMX, at a seventh of the rate, so callers
// scale an operand instead. The primitive of each distinct description is made
// once. Threads may call at once (each brings its own scratchpad); inside
// an OpenMP region the product runs on the calling thread alone. Returns
// false, dst untouched, where oneDNN has no implementation.
bool onednn_batched_product(const StridedMatrix &dst, const StridedMatrix &src,
                            const StridedMatrix &weights, int64_t batch,
                            bool accumulate);

// Whether oneDNN multiplies bf16 operands on this processor (it needs
// AVX-512).
bool onednn_has_bf16();

// The instruction set oneDNN's kernels use here, e.g. "avx512_core".
const char *onednn_isa();

} // namespace llmc::cpu
