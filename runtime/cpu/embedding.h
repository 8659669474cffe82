// Token / position embedding lookup and its gradient (scatter-add by id).
#pragma once

#include <cstdint>

namespace llmc::cpu {

// out[n, :] = table[ids[n] - first, :]. The table holds rows first..first+V-1
// of a vocabulary split over ranks (Megatron's VocabParallelEmbedding; first
// is 0 on one device): ids outside them give zero rows.
// out: (N, C)  table: (V, C)  ids: (N,)
void embedding_forward(float *out, const float *table, const int32_t *ids,
                       int64_t N, int64_t V, int64_t C, int64_t first = 0);

// dtable = 0, then dtable[ids[n] - first, :] += dout[n, :] for n = 0..N-1 in
// order, skipping ids outside the table (rows with a repeated id are summed
// in token order, for any thread count).
// dtable: (V, C)  dout: (N, C)  ids: (N,)
void embedding_backward(float *dtable, const float *dout, const int32_t *ids,
                        int64_t N, int64_t V, int64_t C, int64_t first = 0);

} // namespace llmc::cpu
