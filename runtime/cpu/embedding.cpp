// Embedding lookup: a row gather forward, a row scatter-add backward.
#include "runtime/cpu/embedding.h"

#include <algorithm>
#include <cstring>

namespace llmc::cpu {

void embedding_forward(float *out, const float *table, const int32_t *ids,
                       int64_t N, int64_t V, int64_t C, int64_t first) {
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++) {
    int64_t row = int64_t(ids[n]) - first;
    if (row >= 0 && row < V)
      std::memcpy(out + n * C, table + row * C, C * sizeof(float));
    else
      std::fill(out + n * C, out + (n + 1) * C, 0.0f);
  }
}

void embedding_backward(float *dtable, const float *dout, const int32_t *ids,
                        int64_t N, int64_t V, int64_t C, int64_t first) {
  // Threads own disjoint column blocks of dtable and each walks the tokens in
  // order: no atomics, and the sum order never depends on the thread count.
  const int64_t block = 256;
  const int64_t nblocks = (C + block - 1) / block;
#pragma omp parallel for
  for (int64_t cb = 0; cb < nblocks; cb++) {
    int64_t c0 = cb * block, c1 = std::min(C, c0 + block);
    for (int64_t v = 0; v < V; v++)
      std::fill(dtable + v * C + c0, dtable + v * C + c1, 0.0f);
    for (int64_t n = 0; n < N; n++) {
      int64_t v = int64_t(ids[n]) - first;
      if (v < 0 || v >= V)
        continue;
      float *row = dtable + v * C;
      const float *g = dout + n * C;
      for (int64_t c = c0; c < c1; c++)
        row[c] += g[c];
    }
  }
}

} // namespace llmc::cpu
