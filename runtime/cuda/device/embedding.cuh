// Embedding lookup on the GPU: a thread per output element; rows of a
// vocabulary split over ranks (ids outside first..first+V-1) are zero, as
// runtime/cpu/embedding.h says. Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

namespace llmc::cuda::device {

constexpr int kEmbeddingThreads = 256;
inline int embedding_blocks(long long n) {
  long long blocks = (n + kEmbeddingThreads - 1) / kEmbeddingThreads;
  return int(blocks < 65535 ? blocks : 65535);
}

// out: (N, C)  table: (V, C)  ids: (N,)
__global__ void embedding_forward_kernel(float *__restrict__ out,
                                         const float *__restrict__ table,
                                         const int *__restrict__ ids, int N,
                                         int V, int C, int first) {
  long long n = (long long)N * C;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    long long row = i / C, c = i % C;
    int id = ids[row] - first;
    out[i] = id >= 0 && id < V ? table[(long long)id * C + c] : 0.0f;
  }
}

// dtable = 0, then dtable[ids[n] - first] += dout[n] over n in token order
// (ids outside the table skipped): a thread per column walks the tokens, so
// rows with a repeated id are summed in the CPU's order, the same bits
// every run. dtable: (V, C)  dout: (N, C)  ids: (N,)
__global__ void embedding_backward_kernel(float *__restrict__ dtable,
                                          const float *__restrict__ dout,
                                          const int *__restrict__ ids, int N,
                                          int V, int C, int first) {
  int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C)
    return;
  for (int v = 0; v < V; ++v)
    dtable[(long long)v * C + c] = 0.0f;
  for (int n = 0; n < N; ++n) {
    int id = ids[n] - first;
    if (id >= 0 && id < V)
      dtable[(long long)id * C + c] += dout[(long long)n * C + c];
  }
}
inline int embedding_backward_blocks(int C) {
  return (C + kEmbeddingThreads - 1) / kEmbeddingThreads;
}

} // namespace llmc::cuda::device
