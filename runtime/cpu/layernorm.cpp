// LayerNorm forward / backward (the llm.c formulation: backward recomputes
// the normalised input from the saved mean and rstd).
#include "runtime/cpu/layernorm.h"
#include "runtime/cpu/norm_rows.h"

#include <algorithm>
#include <cmath>

namespace llmc::cpu {

void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *weight, const float *bias, int64_t N,
                       int64_t C, float eps) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++)
    rows::layernorm(out + n * C, mean + n, rstd + n, inp + n * C, weight, bias,
                    C, eps);
}

void layernorm_backward(float *dinp, float *dweight, float *dbias,
                        const float *dout, const float *inp,
                        const float *weight, const float *mean,
                        const float *rstd, int64_t N, int64_t C) {
  // dweight / dbias first, so that dinp may overwrite dout. Threads own
  // column blocks and walk the rows in order.
  const int64_t block = 128;
  const int64_t nblocks = (C + block - 1) / block;
#pragma omp parallel for
  for (int64_t cb = 0; cb < nblocks; cb++) {
    int64_t c0 = cb * block, c1 = std::min(C, c0 + block);
    std::fill(dweight + c0, dweight + c1, 0.0f);
    if (dbias)
      std::fill(dbias + c0, dbias + c1, 0.0f);
    for (int64_t n = 0; n < N; n++) {
      const float *g = dout + n * C;
      const float *x = inp + n * C;
      const float m = mean[n], s = rstd[n];
      for (int64_t c = c0; c < c1; c++)
        dweight[c] += g[c] * ((x[c] - m) * s);
      if (dbias)
        for (int64_t c = c0; c < c1; c++)
          dbias[c] += g[c];
    }
  }
  // dinp: rows are independent.
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    const float *g = dout + n * C;
    const float *x = inp + n * C;
    float *dx = dinp + n * C;
    const float m = mean[n], s = rstd[n];
    const float dnorm_mean = vec::dot(weight, g, C) / float(C);
    const float dnorm_norm_mean =
        vec::sum_of(
            C, [=](int64_t c) { return weight[c] * g[c] * (x[c] - m) * s; }) /
        float(C);
    for (int64_t c = 0; c < C; c++) {
      float xhat = (x[c] - m) * s;
      dx[c] = (weight[c] * g[c] - dnorm_mean - xhat * dnorm_norm_mean) * s;
    }
  }
}

} // namespace llmc::cpu
