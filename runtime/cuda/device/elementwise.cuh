// Elementwise, broadcast, reduction and data-movement kernels on the GPU:
// add / mul / accumulate_grad (a trailing broadcast), the general kernels
// of imported ONNX graphs (unary, binary, where, reduce: the same formulas
// as the CPU, runtime/kernels/general_math.h), sum_to, fill, bf16 rounding,
// and one strided copy for every layout kernel (permute, split, concat,
// slices, scatter_to_parallel). A thread per output element, grid-stride; each
// output is computed by one thread in a fixed order, so results are the
// same bits on every run. Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/strided_view.cuh"
#include "runtime/kernels/general_math.h"

#include <cstdint>
#include <cstring>

namespace llmc::cuda::device {

#define LLMC_GRID_STRIDE(i, n)                                                 \
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;  \
       i += (long long)gridDim.x * blockDim.x)

// out[i] = f(x[i]), f the unary kind.
__global__ void unary_kernel(float *out, const float *x, long long n,
                             int kind) {
  LLMC_GRID_STRIDE(i, n) out[i] = kernels::unary_value(kind, x[i]);
}

// out[i] = a[i] op b[i % nb] (add, mul, accumulate_grad's sum += grad);
// out may be a.
__global__ void trailing_kernel(float *out, const float *a, const float *b,
                                long long n, long long nb, int kind) {
  LLMC_GRID_STRIDE(i, n) out[i] = kernels::binary_value(kind, a[i], b[i % nb]);
}

// out = f(a, b) broadcast: view operands (out, a, b).
__global__ void binary_kernel(float *__restrict__ out,
                              const float *__restrict__ a,
                              const float *__restrict__ b, StridedView v,
                              long long n, int kind) {
  LLMC_GRID_STRIDE(e, n) {
    long long off[3];
    view_offsets(v, e, 3, off);
    out[off[0]] = kernels::binary_value(kind, a[off[1]], b[off[2]]);
  }
}

// out = condition != 0 ? a : b broadcast: view operands (out, condition,
// a, b).
__global__ void where_kernel(float *__restrict__ out,
                             const float *__restrict__ condition,
                             const float *__restrict__ a,
                             const float *__restrict__ b, StridedView v,
                             long long n) {
  LLMC_GRID_STRIDE(e, n) {
    long long off[4];
    view_offsets(v, e, 4, off);
    out[off[0]] = condition[off[1]] != 0.0f ? a[off[2]] : b[off[3]];
  }
}

// out[o] = x folded over the reduced axes by kind, in increasing index
// order, in double as the CPU: `kept` walks the outputs (operand 0: x's
// offset of output o), `folded` the reduced box inside one (operand 0: x's
// strides of those axes). count = the elements folded into each output.
__global__ void reduce_kernel(float *__restrict__ out,
                              const float *__restrict__ x, StridedView kept,
                              StridedView folded, long long n_out,
                              long long count, int kind) {
  LLMC_GRID_STRIDE(o, n_out) {
    long long base;
    view_offsets(kept, o, 1, &base);
    double acc = kernels::reduce_init(kind);
    for (long long r = 0; r < count; ++r) {
      long long off;
      view_offsets(folded, r, 1, &off);
      acc = kernels::reduce_step(kind, acc, x[base + off]);
    }
    out[o] = float(kind == kernels::kMean ? acc / double(count) : acc);
  }
}

// out[c] = the sum over rows of x[r, c], rows in order (sum_to).
__global__ void sum_rows_kernel(float *__restrict__ out,
                                const float *__restrict__ x, long long rows,
                                long long cols) {
  LLMC_GRID_STRIDE(c, cols) {
    float sum = 0.0f;
    for (long long r = 0; r < rows; ++r)
      sum += x[r * cols + c];
    out[c] = sum;
  }
}

__global__ void fill_kernel(float *out, long long n, float value) {
  LLMC_GRID_STRIDE(i, n) out[i] = value;
}

// out[i] = x[i] rounded to bf16 (to nearest, ties to even; a NaN stays a
// quiet NaN): runtime/cpu/bf16.h's to_bf16, bit for bit.
__global__ void round_bf16_kernel(uint16_t *out, const float *x, long long n) {
  LLMC_GRID_STRIDE(i, n) {
    uint32_t bits;
    memcpy(&bits, &x[i], sizeof bits);
    out[i] = (bits & 0x7fffffffu) > 0x7f800000u
                 ? uint16_t((bits >> 16) | 0x40u)
                 : uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  }
}

// dst[view operand 0] = src[view operand 1] over the view's box.
__global__ void strided_copy_kernel(float *dst, const float *src, StridedView v,
                                    long long n) {
  LLMC_GRID_STRIDE(e, n) {
    long long off[2];
    view_offsets(v, e, 2, off);
    dst[off[0]] = src[off[1]];
  }
}

#undef LLMC_GRID_STRIDE

} // namespace llmc::cuda::device
