// AdamW and grad-norm helpers.
#include "runtime/cpu/adamw.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace llmc::cpu {

void adamw_update(float *params, float *m, float *v, const float *grads,
                  int64_t n, const AdamWHyper &hyper) {
  // Vectorised: the four tensors never overlap and the hyperparameters are
  // a local copy, so no store can change what the loop reads. Vector sqrt
  // and division round as the scalar ones do: the same bits.
  float *__restrict p = params, *__restrict mm = m, *__restrict vv = v;
  const float *__restrict g = grads;
  const AdamWHyper h = hyper;
#pragma omp parallel for simd
  for (int64_t i = 0; i < n; i++)
    adamw_step(&p[i], &mm[i], &vv[i], g[i], h);
}

double sum_squares(const float *x, int64_t n) {
  const int64_t block = 16384;
  const int64_t nblocks = (n + block - 1) / block;
  std::vector<double> partial(size_t(nblocks > 0 ? nblocks : 0));
#pragma omp parallel for
  for (int64_t b = 0; b < nblocks; b++) {
    int64_t i0 = b * block, i1 = std::min(n, i0 + block);
    // Eight running sums in a fixed order, so the loop vectorises and the
    // result still depends on nothing but x.
    double lane[8] = {};
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8)
      for (int j = 0; j < 8; j++)
        lane[j] += double(x[i + j]) * double(x[i + j]);
    double s = 0.0;
    for (; i < i1; i++)
      s += double(x[i]) * double(x[i]);
    for (double l : lane)
      s += l;
    partial[size_t(b)] = s;
  }
  double total = 0.0;
  for (double s : partial)
    total += s;
  return total;
}

void scale_inplace(float *x, int64_t n, float s) {
#pragma omp parallel for
  for (int64_t i = 0; i < n; i++)
    x[i] *= s;
}

} // namespace llmc::cpu
