// Broadcast add / multiply. Rows are independent in forward; the broadcast
// reductions of backward sum over rows in a fixed order per column block.
#include "runtime/cpu/elementwise.h"

#include <algorithm>
#include <cstring>

namespace llmc::cpu {

namespace {

// db[j] = sum_r dout[r, j] * (a ? a[r, j] : 1), deterministic for any thread
// count: a thread owns a column block and walks the rows in order.
void reduce_rows(float *db, const float *dout, const float *a, int64_t rows,
                 int64_t nb) {
  const int64_t block = 128;
  const int64_t nblocks = (nb + block - 1) / block;
#pragma omp parallel for
  for (int64_t cb = 0; cb < nblocks; cb++) {
    int64_t c0 = cb * block, c1 = std::min(nb, c0 + block);
    std::fill(db + c0, db + c1, 0.0f);
    for (int64_t r = 0; r < rows; r++) {
      const float *g = dout + r * nb;
      if (a) {
        const float *x = a + r * nb;
        for (int64_t c = c0; c < c1; c++)
          db[c] += g[c] * x[c];
      } else {
        for (int64_t c = c0; c < c1; c++)
          db[c] += g[c];
      }
    }
  }
}

// Calls f(i, j, len) over [0, n) in parallel chunks, split so that the
// elements i..i+len-1 of a meet b[j..j+len-1] without wrapping: rows stay
// vectorisable and a same-shape add (nb == n) still uses every thread.
// The callers' loops carry `omp simd`: results may be written over an
// input (llmc-write-in-place), where a loop without it checks for overlap
// at run time and runs scalar code.
template <typename F> void for_each_segment(int64_t n, int64_t nb, F f) {
  const int64_t chunk = 8192;
  const int64_t nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for
  for (int64_t ch = 0; ch < nchunks; ch++) {
    int64_t i = ch * chunk, end = std::min(n, i + chunk);
    while (i < end) {
      int64_t j = i % nb;
      int64_t len = std::min(end - i, nb - j);
      f(i, j, len);
      i += len;
    }
  }
}

} // namespace

void add_forward(float *out, const float *a, const float *b, int64_t n,
                 int64_t nb) {
  for_each_segment(n, nb, [&](int64_t i, int64_t j, int64_t len) {
#pragma omp simd
    for (int64_t k = 0; k < len; k++)
      out[i + k] = a[i + k] + b[j + k];
  });
}

void add_backward(float *da, float *db, const float *dout, int64_t n,
                  int64_t nb) {
  if (db)
    reduce_rows(db, dout, nullptr, n / nb, nb);
  if (da && da != dout)
    std::memcpy(da, dout, size_t(n) * sizeof(float));
}

void mul_forward(float *out, const float *a, const float *b, int64_t n,
                 int64_t nb) {
  for_each_segment(n, nb, [&](int64_t i, int64_t j, int64_t len) {
#pragma omp simd
    for (int64_t k = 0; k < len; k++)
      out[i + k] = a[i + k] * b[j + k];
  });
}

void mul_backward(float *da, float *db, const float *dout, const float *a,
                  const float *b, int64_t n, int64_t nb) {
  // db first, so that da may overwrite dout.
  if (db)
    reduce_rows(db, dout, a, n / nb, nb);
  if (da) {
    for_each_segment(n, nb, [&](int64_t i, int64_t j, int64_t len) {
#pragma omp simd
      for (int64_t k = 0; k < len; k++)
        da[i + k] = dout[i + k] * b[j + k];
    });
  }
}

} // namespace llmc::cpu
