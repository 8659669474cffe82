// Numerically stable softmax (max subtracted) and its backward.
#include "runtime/cpu/softmax.h"
#include "runtime/cpu/vec_math.h"

namespace llmc::cpu {

void softmax_forward(float *out, const float *inp, int64_t N, int64_t C) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    if (C > 0)
      vec::softmax(out + n * C, inp + n * C, C);
  }
}

void softmax_backward(float *dinp, const float *dout, const float *out,
                      int64_t N, int64_t C) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    const float *g = dout + n * C;
    const float *y = out + n * C;
    float *dx = dinp + n * C;
    const float dot = vec::dot(g, y, C);
    for (int64_t c = 0; c < C; c++)
      dx[c] = y[c] * (g[c] - dot);
  }
}

} // namespace llmc::cpu
