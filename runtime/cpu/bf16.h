// bfloat16: fp32's sign and exponent with 7 mantissa bits, the type of a
// bf16-mixed plan's GEMM operands. Rounded to nearest, ties to even (as
// PyTorch's and oneDNN's conversions do); NaN stays NaN.
#pragma once

#include <cstdint>
#include <cstring>

namespace llmc::cpu {

inline uint16_t to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet and a NaN
    return uint16_t((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

inline float from_bf16(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &bits, 4);
  return x;
}

// out[i] = to_bf16(in[i]) for i < n, on the OpenMP threads when n is large.
void round_to_bf16(uint16_t *out, const float *in, int64_t n);

// The same on the calling thread alone, for loops already parallel (an
// OpenMP region inside one costs more than a short row's rounding).
void round_to_bf16_serial(uint16_t *out, const float *in, int64_t n);

// out[i] = from_bf16(to_bf16(in[i])): the fp32 value a bf16 operand holds.
void round_through_bf16(float *out, const float *in, int64_t n);

// out[i] = from_bf16(in[i]): bf16 values as fp32, exactly.
void widen_bf16(float *out, const uint16_t *in, int64_t n);

} // namespace llmc::cpu
