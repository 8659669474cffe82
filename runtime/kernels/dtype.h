//===- dtype.h - The element types of a plan's buffers ----------*- C++ -*-===//
//
// What the kernel table checks operands against and what collectives move:
// header-only, so the communicators (runtime/comm) share it without linking
// the kernel table.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>

namespace llmc::kernels {

enum class DType { F32, I32, I8, BF16 };

constexpr size_t dtype_bytes(DType dtype) {
  return dtype == DType::I8 ? 1 : dtype == DType::BF16 ? 2 : 4;
}

} // namespace llmc::kernels
