#include "runtime/cpu/bf16.h"

#include "runtime/cpu/vector_isa.h"

#include <algorithm>

namespace llmc::cpu {
namespace {

#pragma clang diagnostic ignored "-Wpsabi"

// to_bf16 on 16 floats at a time, the same bit operations in the same
// order (the NaN test, then round to nearest even), so both paths give the
// same bits. Compiled for AVX-512 and chosen at run time: the build
// machine's flags never decide it.
using u32x16 = uint32_t __attribute__((vector_size(64)));
using u16x16 = uint16_t __attribute__((vector_size(32)));

__attribute__((target("avx512f,avx512bw,avx512vl"))) void
round_avx512(uint16_t *out, const float *in, int64_t n) {
  for (int64_t b = 0; b < n / 16; b++) {
    u32x16 bits;
    std::memcpy(&bits, in + 16 * b, sizeof bits);
    const u32x16 nan = (bits & 0x7fffffffu) > 0x7f800000u;
    const u32x16 rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    const u32x16 quiet = (bits >> 16) | 0x40u;
    const u16x16 h = __builtin_convertvector(nan ? quiet : rounded, u16x16);
    std::memcpy(out + 16 * b, &h, sizeof h);
  }
  for (int64_t i = n / 16 * 16; i < n; i++)
    out[i] = to_bf16(in[i]);
}

} // namespace

void round_to_bf16_serial(uint16_t *out, const float *in, int64_t n) {
  if (vector_isa() == VectorIsa::Avx512)
    return round_avx512(out, in, n);
  for (int64_t i = 0; i < n; i++)
    out[i] = to_bf16(in[i]);
}

void round_to_bf16(uint16_t *out, const float *in, int64_t n) {
  // Blocks of 64 KiB of input, a multiple of the vector width.
  constexpr int64_t kBlock = 16384;
#pragma omp parallel for if (n > 4 * kBlock)
  for (int64_t b = 0; b < (n + kBlock - 1) / kBlock; b++)
    round_to_bf16_serial(out + b * kBlock, in + b * kBlock,
                         std::min(kBlock, n - b * kBlock));
}

void round_through_bf16(float *out, const float *in, int64_t n) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++)
    out[i] = from_bf16(to_bf16(in[i]));
}

void widen_bf16(float *out, const uint16_t *in, int64_t n) {
#pragma omp parallel for simd if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++)
    out[i] = from_bf16(in[i]);
}

} // namespace llmc::cpu
