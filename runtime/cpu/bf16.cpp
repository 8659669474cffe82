#include "runtime/cpu/bf16.h"

namespace llmc::cpu {

void round_to_bf16(uint16_t *out, const float *in, int64_t n) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++)
    out[i] = to_bf16(in[i]);
}

void round_through_bf16(float *out, const float *in, int64_t n) {
#pragma omp parallel for if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++)
    out[i] = from_bf16(to_bf16(in[i]));
}

} // namespace llmc::cpu
