//===- general_kinds.h - The functions of the general kernels ---*- C++ -*-===//
//
// The `kind`s of llm.unary, llm.binary and llm.reduce, which lower to the
// `unary`, `binary` and `reduce` kernels with the same kind as a parameter:
// one list for the dialect's verifier, the ONNX importer and the runtime
// (which links no MLIR).
//
//===----------------------------------------------------------------------===//

#pragma once

#include <array>
#include <cstring>

namespace llmc::kernels {

inline constexpr std::array<const char *, 15> kUnaryKinds = {
    "neg",     "abs", "relu", "exp", "log",   "sqrt", "reciprocal", "tanh",
    "sigmoid", "erf", "sin",  "cos", "floor", "ceil", "sign"};
inline constexpr std::array<const char *, 7> kBinaryKinds = {
    "add", "sub", "mul", "div", "pow", "max", "min"};
inline constexpr std::array<const char *, 5> kReduceKinds = {
    "sum", "mean", "max", "min", "prod"};

/// The index of `kind` in `kinds`, or -1.
template <size_t N>
int kind_index(const std::array<const char *, N> &kinds, const char *kind) {
  for (size_t i = 0; i < N; ++i)
    if (!std::strcmp(kinds[i], kind))
      return int(i);
  return -1;
}

} // namespace llmc::kernels
