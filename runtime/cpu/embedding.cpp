// Embedding lookup: a row gather forward, a row scatter-add backward.
#include "runtime/cpu/embedding.h"

#include <algorithm>
#include <cstring>

namespace llmc::cpu {

void embedding_forward(float *out, const float *table, const int32_t *ids,
                       int64_t N, int64_t V, int64_t C) {
  (void)V;
#pragma omp parallel for
  for (int64_t n = 0; n < N; n++)
    std::memcpy(out + n * C, table + int64_t(ids[n]) * C, C * sizeof(float));
}

void embedding_backward(float *dtable, const float *dout, const int32_t *ids,
                        int64_t N, int64_t V, int64_t C) {
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
      float *row = dtable + int64_t(ids[n]) * C;
      const float *g = dout + n * C;
      for (int64_t c = c0; c < c1; c++)
        row[c] += g[c];
    }
  }
}

} // namespace llmc::cpu
