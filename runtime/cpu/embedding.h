// Token / position embedding lookup and its gradient (scatter-add by id).
#pragma once

#include <cstdint>

namespace llmc::cpu {

// out[n, :] = table[ids[n], :]. Every id must lie in [0, V).
// out: (N, C)  table: (V, C)  ids: (N,)
void embedding_forward(float *out, const float *table, const int32_t *ids,
                       int64_t N, int64_t V, int64_t C);

// dtable = 0, then dtable[ids[n], :] += dout[n, :] for n = 0..N-1 in order
// (rows with a repeated id are summed in token order, for any thread count).
// dtable: (V, C)  dout: (N, C)  ids: (N,)
void embedding_backward(float *dtable, const float *dout, const int32_t *ids,
                        int64_t N, int64_t V, int64_t C);

} // namespace llmc::cpu
