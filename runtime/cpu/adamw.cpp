// AdamW and grad-norm helpers.
#include "runtime/cpu/adamw.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace llmc::cpu {

void adamw_update(float *params, float *m, float *v, const float *grads,
                  int64_t n, const AdamWHyper &hyper) {
#pragma omp parallel for
  for (int64_t i = 0; i < n; i++)
    adamw_step(&params[i], &m[i], &v[i], grads[i], hyper);
}

double sum_squares(const float *x, int64_t n) {
  const int64_t block = 16384;
  const int64_t nblocks = (n + block - 1) / block;
  std::vector<double> partial(size_t(nblocks > 0 ? nblocks : 0));
#pragma omp parallel for
  for (int64_t b = 0; b < nblocks; b++) {
    int64_t i0 = b * block, i1 = std::min(n, i0 + block);
    double s = 0.0;
    for (int64_t i = i0; i < i1; i++)
      s += double(x[i]) * double(x[i]);
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
