// RMSNorm forward / backward. With y = x * rstd and dy = dout * weight:
// dx = rstd * (dy - x * rstd^2 * mean(dy * x)).
#include "runtime/cpu/rmsnorm.h"
#include "runtime/cpu/norm_rows.h"

#include <algorithm>
#include <cmath>

namespace llmc::cpu {

void rmsnorm_forward(float *out, float *rstd, const float *inp,
                     const float *weight, int64_t N, int64_t C, float eps) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++)
    rows::rmsnorm(out + n * C, rstd + n, inp + n * C, weight, C, eps);
}

void rmsnorm_backward(float *dinp, float *dweight, const float *dout,
                      const float *inp, const float *weight, const float *rstd,
                      int64_t N, int64_t C) {
  // dweight first, so that dinp may overwrite dout. Threads own column
  // blocks and walk the rows in order.
  const int64_t block = 128;
  const int64_t nblocks = (C + block - 1) / block;
#pragma omp parallel for
  for (int64_t cb = 0; cb < nblocks; cb++) {
    int64_t c0 = cb * block, c1 = std::min(C, c0 + block);
    std::fill(dweight + c0, dweight + c1, 0.0f);
    for (int64_t n = 0; n < N; n++) {
      const float *g = dout + n * C;
      const float *x = inp + n * C;
      const float s = rstd[n];
      for (int64_t c = c0; c < c1; c++)
        dweight[c] += g[c] * (x[c] * s);
    }
  }
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    const float *g = dout + n * C;
    const float *x = inp + n * C;
    float *dx = dinp + n * C;
    const float s = rstd[n];
    // The sum of dy * x.
    const float dot =
        vec::sum_of(C, [=](int64_t c) { return weight[c] * g[c] * x[c]; });
    const float k = s * s * dot / float(C);
    for (int64_t c = 0; c < C; c++)
      dx[c] = s * (weight[c] * g[c] - x[c] * k);
  }
}

} // namespace llmc::cpu
