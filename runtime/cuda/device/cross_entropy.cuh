// Softmax cross-entropy on the GPU, as runtime/cpu/cross_entropy.h: a block
// per token row for its log-sum-exp (block reductions through shared
// memory), then one block for the mean in a fixed order, so the loss is the
// same bits on every run. Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/reduce.cuh"

namespace llmc::cuda::device {

constexpr int kCrossEntropyThreads = 256;

// The maximum of a row of V logits and the sum of exp(l - max), in every
// thread of the block.
__device__ __forceinline__ void
row_max_sum(const float *l, int V, float *scratch, float &max, float &sum) {
  max = -INFINITY;
  for (int i = threadIdx.x; i < V; i += blockDim.x)
    max = fmaxf(max, l[i]);
  max = block_reduce<true>(max, scratch);
  sum = 0.0f;
  for (int i = threadIdx.x; i < V; i += blockDim.x)
    sum += expf(l[i] - max);
  sum = block_reduce<false>(sum, scratch);
}

// The log-sum-exp of a row of V logits, in every thread of the block.
__device__ __forceinline__ float row_logsumexp(const float *l, int V,
                                               float *scratch) {
  float max, sum;
  row_max_sum(l, V, scratch, max, sum);
  return max + logf(sum);
}

// losses[n] = logsumexp(logits[n, :]) - logits[n, targets[n]]
// losses: (N,)  logits: (N, V)  targets: (N,); a block per row.
__global__ void cross_entropy_rows_kernel(float *__restrict__ losses,
                                          const float *__restrict__ logits,
                                          const int *__restrict__ targets,
                                          int N, int V) {
  __shared__ float scratch[32];
  int row = blockIdx.x;
  if (row >= N)
    return;
  const float *l = logits + (long long)row * V;
  float lse = row_logsumexp(l, V, scratch);
  if (threadIdx.x == 0)
    losses[row] = lse - l[targets[row]];
}

// loss = mean of the N losses; one block.
__global__ void mean_kernel(float *__restrict__ loss,
                            const float *__restrict__ losses, int N) {
  __shared__ float scratch[32];
  float sum = 0.0f;
  for (int i = threadIdx.x; i < N; i += blockDim.x)
    sum += losses[i];
  sum = block_reduce<false>(sum, scratch);
  if (threadIdx.x == 0)
    *loss = sum / N;
}

// dlogits = (softmax(logits) - onehot(targets)) · dloss / N; dlogits may
// alias logits (each thread reads its elements before writing them).
// dlogits, logits: (N, V)  targets: (N,)  dloss: a scalar; a block per row.
__global__ void cross_entropy_backward_kernel(float *dlogits,
                                              const float *__restrict__ dloss,
                                              const float *logits,
                                              const int *__restrict__ targets,
                                              int N, int V) {
  __shared__ float scratch[32];
  int row = blockIdx.x;
  if (row >= N)
    return;
  const float *l = logits + (long long)row * V;
  float *d = dlogits + (long long)row * V;
  float lse = row_logsumexp(l, V, scratch);
  float scale = *dloss / N;
  int target = targets[row];
  for (int i = threadIdx.x; i < V; i += blockDim.x)
    d[i] = (expf(l[i] - lse) - (i == target ? 1.0f : 0.0f)) * scale;
}

// Vocab-parallel cross-entropy (Megatron's), as cpu::cross_entropy_vp_*:
// each rank holds logits for vocabulary ids first..first+V-1.
//
// stats[n] = (max, sum of exp(x - max), x[target - first] or 0 when the
// target is another rank's); a block per row.
// stats: (N, 3)  logits: (N, V)  targets: (N,)
__global__ void cross_entropy_vp_partial_kernel(
    float *__restrict__ stats, const float *__restrict__ logits,
    const int *__restrict__ targets, int N, int V, int first) {
  __shared__ float scratch[32];
  int row = blockIdx.x;
  if (row >= N)
    return;
  const float *l = logits + (long long)row * V;
  float max, sum;
  row_max_sum(l, V, scratch, max, sum);
  if (threadIdx.x == 0) {
    int t = targets[row] - first;
    stats[3 * row] = max;
    stats[3 * row + 1] = sum;
    stats[3 * row + 2] = t >= 0 && t < V ? l[t] : 0.0f;
  }
}

// The P ranks' stats (gathered in rank order) combined: lse[n] over the
// whole vocabulary and *loss the mean of lse - target logit. One block; a
// thread sums its rows in order, then the block reduces, so the loss is the
// same bits on every run.
// lse: (N,)  gathered: (P, N, 3)
__global__ void cross_entropy_vp_finish_kernel(
    float *__restrict__ loss, float *__restrict__ lse,
    const float *__restrict__ gathered, int N, int P) {
  __shared__ float scratch[32];
  float total = 0.0f;
  for (int n = threadIdx.x; n < N; n += blockDim.x) {
    float max = gathered[3 * n];
    for (int p = 1; p < P; ++p)
      max = fmaxf(max, gathered[((long long)p * N + n) * 3]);
    float sum = 0.0f, target = 0.0f;
    for (int p = 0; p < P; ++p) {
      const float *s = gathered + ((long long)p * N + n) * 3;
      sum += s[1] * expf(s[0] - max);
      target += s[2];
    }
    float row_lse = max + logf(sum);
    lse[n] = row_lse;
    total += row_lse - target;
  }
  total = block_reduce<false>(total, scratch);
  if (threadIdx.x == 0)
    *loss = N > 0 ? total / N : 0.0f;
}

// dlogits = (exp(logits - lse) - onehot(targets - first)) · *dloss / N on
// this rank's block of the vocabulary; a block per row. dlogits may alias
// logits.
__global__ void cross_entropy_vp_backward_kernel(
    float *dlogits, const float *__restrict__ dloss, const float *logits,
    const int *__restrict__ targets, const float *__restrict__ lse, int N,
    int V, int first) {
  int row = blockIdx.x;
  if (row >= N)
    return;
  const float *l = logits + (long long)row * V;
  float *d = dlogits + (long long)row * V;
  float scale = *dloss / N, row_lse = lse[row];
  int target = targets[row] - first;
  for (int i = threadIdx.x; i < V; i += blockDim.x)
    d[i] = (expf(l[i] - row_lse) - (i == target ? 1.0f : 0.0f)) * scale;
}

} // namespace llmc::cuda::device
