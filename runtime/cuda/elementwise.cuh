// Elementwise, general (imported ONNX graphs), reduction and layout kernels
// on the GPU (kernel table: add, mul, accumulate_grad, unary, binary, where,
// reduce, sum_to, fill, copy, permute, split, concat, extract_slice,
// insert_slice, scatter_to_parallel's local copy), as the CPU kernels of
// runtime/cpu/elementwise.h, general.h and layout.h. Shapes with more than
// eight dimensions are refused (one line, exit). Bodies in
// runtime/cuda/device/elementwise.cuh.
#pragma once

#include <cstdint>
#include <cuda_runtime.h>
#include <string>
#include <vector>

namespace llmc::cuda {

using Shape = std::vector<int64_t>;

// out[i] = a[i] + b[i % nb] (accumulate_grad: add(sum, sum, grad, ...)),
// and a[i] * b[i % nb].
void add(float *out, const float *a, const float *b, long long n, long long nb,
         cudaStream_t stream);
void mul(float *out, const float *a, const float *b, long long n, long long nb,
         cudaStream_t stream);

// The general kernels; kind as in runtime/kernels/general_kinds.h.
void unary(float *out, const float *x, long long n, const std::string &kind,
           cudaStream_t stream);
void binary(float *out, const Shape &out_shape, const float *a,
            const Shape &a_shape, const float *b, const Shape &b_shape,
            const std::string &kind, cudaStream_t stream);
void where(float *out, const Shape &out_shape, const float *condition,
           const Shape &c_shape, const float *a, const Shape &a_shape,
           const float *b, const Shape &b_shape, cudaStream_t stream);
void reduce(float *out, const float *x, const Shape &x_shape, const Shape &axes,
            const std::string &kind, cudaStream_t stream);

// out[c] = sum over rows of x[r, c].  x: (rows, cols)
void sum_to(float *out, const float *x, long long rows, long long cols,
            cudaStream_t stream);
void fill(float *out, long long n, float value, cudaStream_t stream);
// out = x rounded to bf16 (round_bf16, and a GEMM's fp32 operand beside a
// bf16 one).
void round_bf16(uint16_t *out, const float *x, long long n,
                cudaStream_t stream);
void copy(float *out, const float *x, long long n, cudaStream_t stream);

// Layout: out = x.permute(perm); split / concat along the middle axis of
// (outer, sum(sizes), inner); the strided box at offsets (extract: out is
// the box; insert: the box of out, which already holds dest, gets src);
// tensor-parallel rank `rank`'s block of (outer, ranks * chunk).
void permute(float *out, const float *x, const Shape &x_shape,
             const std::vector<int> &perm, cudaStream_t stream);
void split(float *const *parts, const float *x, const Shape &sizes,
           long long outer, long long inner, cudaStream_t stream);
void concat(float *out, const float *const *parts, const Shape &sizes,
            long long outer, long long inner, cudaStream_t stream);
void extract_slice(float *out, const Shape &out_shape, const float *x,
                   const Shape &x_shape, const Shape &offsets,
                   const Shape &steps, cudaStream_t stream);
void insert_slice(float *out, const Shape &out_shape, const float *src,
                  const Shape &src_shape, const Shape &offsets,
                  const Shape &steps, cudaStream_t stream);
void scatter_to_parallel(float *out, const float *x, long long outer,
                         long long ranks, long long chunk, long long rank,
                         cudaStream_t stream);

} // namespace llmc::cuda
