//===- general_math.h - The functions of the general kernels ----*- C++ -*-===//
//
// What each `kind` of the unary, binary and reduce kernels computes (the
// kinds are listed in general_kinds.h, in the order of these enums), shared
// by the CPU kernels (runtime/cpu/general.cpp) and the CUDA ones
// (runtime/cuda/device/elementwise.cuh) so both compute the same formula.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/kernels/general_kinds.h"
#include "runtime/kernels/host_device.h"

#include <cmath>

namespace llmc::kernels {

enum UnaryKind {
  kNeg,
  kAbs,
  kRelu,
  kExp,
  kLog,
  kSqrt,
  kReciprocal,
  kTanh,
  kSigmoid,
  kErf,
  kSin,
  kCos,
  kFloor,
  kCeil,
  kSign,
  kUnaryKindCount
};
enum BinaryKind { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin, kBinaryKindCount };
enum ReduceKind {
  kSum,
  kMean,
  kReduceMax,
  kReduceMin,
  kProd,
  kReduceKindCount
};
static_assert(kUnaryKindCount == kUnaryKinds.size() &&
              kBinaryKindCount == kBinaryKinds.size() &&
              kReduceKindCount == kReduceKinds.size());

LLMC_HOST_DEVICE inline float unary_value(int kind, float v) {
  switch (kind) {
  case kNeg:
    return -v;
  case kAbs:
    return fabsf(v);
  case kRelu:
    return v > 0.0f ? v : 0.0f;
  case kExp:
    return expf(v);
  case kLog:
    return logf(v);
  case kSqrt:
    return sqrtf(v);
  case kReciprocal:
    return 1.0f / v;
  case kTanh:
    return tanhf(v);
  case kSigmoid:
    return 1.0f / (1.0f + expf(-v));
  case kErf:
    return erff(v);
  case kSin:
    return sinf(v);
  case kCos:
    return cosf(v);
  case kFloor:
    return floorf(v);
  case kCeil:
    return ceilf(v);
  default:
    return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : 0.0f; // kSign
  }
}

// ONNX's Max and Min propagate NaN, as fmax and fmin do not (v != v: NaN).
LLMC_HOST_DEVICE inline float binary_value(int kind, float x, float y) {
  switch (kind) {
  case kAdd:
    return x + y;
  case kSub:
    return x - y;
  case kMul:
    return x * y;
  case kDiv:
    return x / y;
  case kPow:
    return powf(x, y);
  case kMax:
    return x != x || y != y ? NAN : x > y ? x : y;
  default:
    return x != x || y != y ? NAN : x < y ? x : y; // kMin
  }
}

// A reduction's start value and step (max and min keep a NaN once seen).
LLMC_HOST_DEVICE inline double reduce_init(int kind) {
  return kind == kReduceMax   ? -INFINITY
         : kind == kReduceMin ? INFINITY
         : kind == kProd      ? 1.0
                              : 0.0;
}
LLMC_HOST_DEVICE inline double reduce_step(int kind, double acc, double v) {
  switch (kind) {
  case kReduceMax:
    return v != v || v > acc ? v : acc;
  case kReduceMin:
    return v != v || v < acc ? v : acc;
  case kProd:
    return acc * v;
  default:
    return acc + v; // kSum, kMean
  }
}

} // namespace llmc::kernels
