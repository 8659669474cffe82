// The general kernels of graphs imported from ONNX: elementwise functions
// of one tensor, of two broadcast tensors, and reductions over axes. Each
// function is named by its kind (runtime/kernels/general_kinds.h); the
// kinds are checked when a plan loads, so an unknown one here is a bug.
// Written for correctness over speed: a graph that needs them runs, slower
// than the fused kernels of the patterns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::cpu {

// The strides of `shape` read as the last dimensions of `out_shape` (numpy
// broadcasting), 0 where it repeats (a dimension of 1, or one it lacks).
std::vector<int64_t> broadcast_strides(const std::vector<int64_t> &shape,
                                       const std::vector<int64_t> &out_shape);

// out[i] = f(x[i]), f named by kind (neg, abs, relu, exp, ...).
void unary_forward(const std::string &kind, float *out, const float *x,
                   int64_t n);

// out = f(a, b) with numpy broadcasting: a and b aligned at their last
// dimension, a dimension of 1 repeated, to out's shape.
void binary_forward(const std::string &kind, float *out,
                    const std::vector<int64_t> &out_shape, const float *a,
                    const std::vector<int64_t> &a_shape, const float *b,
                    const std::vector<int64_t> &b_shape);

// out = condition != 0 ? a : b, each broadcast to out's shape.
void where_forward(float *out, const std::vector<int64_t> &out_shape,
                   const float *condition, const std::vector<int64_t> &c_shape,
                   const float *a, const std::vector<int64_t> &a_shape,
                   const float *b, const std::vector<int64_t> &b_shape);

// out = x folded over `axes` (increasing) by kind (sum, mean, max, min,
// prod), in increasing index order; out has x's elements with those axes
// of size 1 (kept or squeezed: the layout is the same).
void reduce_forward(const std::string &kind, float *out, const float *x,
                    const std::vector<int64_t> &x_shape,
                    const std::vector<int64_t> &axes);

} // namespace llmc::cpu
