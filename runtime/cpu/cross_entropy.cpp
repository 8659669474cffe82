// Cross entropy: per-row log-sum-exp. The exponentials are vectorised
// (vec_math.h) in chunks whose float sums are added up in double, since V is
// ~50k-130k, where one float running sum would lose digits.
#include "runtime/cpu/cross_entropy.h"
#include "runtime/cpu/vec_math.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace llmc::cpu {

namespace {

constexpr int64_t kChunk = 256;

// sum over v of y[v], y in float, by chunks added in double.
double chunked_sum(const float *y, int64_t V) {
  double sum = 0.0;
  for (int64_t v0 = 0; v0 < V; v0 += kChunk)
    sum += double(vec::sum(y + v0, std::min(kChunk, V - v0)));
  return sum;
}

// sum over v of exp(x[v] - shift), by chunks added in double.
double sum_exp_shifted(const float *x, float shift, int64_t V) {
  float tmp[kChunk];
  double sum = 0.0;
  for (int64_t v0 = 0; v0 < V; v0 += kChunk) {
    const int64_t len = std::min(kChunk, V - v0);
    vec::exp_shifted(tmp, x + v0, shift, len);
    sum += double(vec::sum(tmp, len));
  }
  return sum;
}

// log(sum_v exp(x[v])) of one row.
double logsumexp(const float *x, int64_t V) {
  const float maxv = vec::max(x, V);
  return double(maxv) + std::log(sum_exp_shifted(x, maxv, V));
}

} // namespace

float cross_entropy_forward(float *losses, const float *logits,
                            const int32_t *targets, int64_t N, int64_t V) {
  std::vector<double> row_loss(static_cast<size_t>(std::max<int64_t>(N, 0)));
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    const float *x = logits + n * V;
    row_loss[size_t(n)] = logsumexp(x, V) - double(x[targets[n]]);
    if (losses)
      losses[n] = float(row_loss[size_t(n)]);
  }
  double total = 0.0;
  for (int64_t n = 0; n < N; n++)
    total += row_loss[size_t(n)];
  return N > 0 ? float(total / double(N)) : 0.0f;
}

void cross_entropy_backward(float *dlogits, float dloss, const float *logits,
                            const int32_t *targets, int64_t N, int64_t V) {
  const float scale = dloss / float(N);
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    const float *x = logits + n * V;
    float *dx = dlogits + n * V;
    // The exponentials go straight into dx, so each is computed once.
    vec::exp_shifted(dx, x, vec::max(x, V), V);
    const float k = float(double(scale) / chunked_sum(dx, V));
    for (int64_t v = 0; v < V; v++)
      dx[v] *= k;
    dx[targets[n]] -= scale;
  }
}

void cross_entropy_vp_partial(float *stats, const float *logits,
                              const int32_t *targets, int64_t N, int64_t V,
                              int64_t first) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    const float *x = logits + n * V;
    const float maxv = vec::max(x, V);
    int64_t t = int64_t(targets[n]) - first;
    stats[3 * n] = maxv;
    stats[3 * n + 1] = float(sum_exp_shifted(x, maxv, V));
    stats[3 * n + 2] = t >= 0 && t < V ? x[t] : 0.0f;
  }
}

float cross_entropy_vp_finish(float *lse, const float *gathered, int64_t N,
                              int64_t P) {
  double total = 0.0;
  for (int64_t n = 0; n < N; n++) {
    float maxv = gathered[3 * n];
    for (int64_t p = 1; p < P; p++)
      maxv = std::max(maxv, gathered[(p * N + n) * 3]);
    double sum = 0.0, target = 0.0;
    for (int64_t p = 0; p < P; p++) {
      const float *s = gathered + (p * N + n) * 3;
      sum += double(s[1]) * std::exp(double(s[0]) - double(maxv));
      target += double(s[2]);
    }
    double row_lse = double(maxv) + std::log(sum);
    lse[n] = float(row_lse);
    total += row_lse - target;
  }
  return N > 0 ? float(total / double(N)) : 0.0f;
}

void cross_entropy_vp_backward(float *dlogits, float dloss, const float *logits,
                               const int32_t *targets, const float *lse,
                               int64_t N, int64_t V, int64_t first) {
  const float scale = dloss / float(N);
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    float *dx = dlogits + n * V;
    vec::exp_shifted(dx, logits + n * V, lse[n], V);
    for (int64_t v = 0; v < V; v++)
      dx[v] *= scale;
    int64_t t = int64_t(targets[n]) - first;
    if (t >= 0 && t < V)
      dx[t] -= scale;
  }
}

} // namespace llmc::cpu
