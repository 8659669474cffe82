// Embedding lookup on the GPU: a thread per output element; rows of a
// vocabulary split over ranks (ids outside first..first+V-1) are zero, as
// runtime/cpu/embedding.h says. Device code for nvcc and the SIMT emulator.
#pragma once

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

} // namespace llmc::cuda::device
