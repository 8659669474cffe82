// A matmul through oneDNN, the library that chooses its kernels from the
// processor at run time. Each shape's primitive is created on its first call
// and kept, so a plan's steps after the first only execute.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// matmul_forward's contract (runtime/cpu/matmul.h), on oneDNN. K > 0.
// bf16: a and b are rounded to bf16 (into scratch kept per thread) and
// multiplied by oneDNN's bf16 kernels, summing in fp32. Returns false, out
// untouched, where oneDNN has no implementation for the call on this
// processor (the caller then uses OpenBLAS).
bool onednn_matmul(float *out, const float *a, const float *b,
                   const float *bias, int64_t batch, int64_t M, int64_t N,
                   int64_t K, bool trans_a, bool trans_b, bool b_batched,
                   bool bf16);

// The instruction set oneDNN's kernels use here, e.g. "avx512_core".
const char *onednn_isa();

} // namespace llmc::cpu
