// Softmax cross entropy over a vocabulary, mean-reduced over N tokens, as
// torch.nn.functional.cross_entropy(logits, targets) with every target valid
// (no ignore_index: every target must lie in [0, V)).
#pragma once

#include <cstdint>

namespace llmc::cpu {

// losses[n] = logsumexp(logits[n, :]) - logits[n, targets[n]] (losses may be
// nullptr); returns the mean over n, summed in double in token order.
// losses: (N,)  logits: (N, V)  targets: (N,)
float cross_entropy_forward(float *losses, const float *logits,
                            const int32_t *targets, int64_t N, int64_t V);

// dlogits = (softmax(logits) - onehot(targets)) * dloss / N, where dloss is
// the gradient of the mean loss. dlogits may alias logits (the logits are
// then consumed, as in llm.c).
// dlogits: (N, V)  logits: (N, V)  targets: (N,)
void cross_entropy_backward(float *dlogits, float dloss, const float *logits,
                            const int32_t *targets, int64_t N, int64_t V);

// Vocab-parallel cross entropy (Megatron's vocab_parallel_cross_entropy):
// each rank holds logits for vocabulary ids first..first+V-1 only.
//
// Step 1, per rank: stats[n] = (max, sum of exp(x - max), x[target] or 0 when
// the target is not in this rank's block) of row n.
// stats: (N, 3)  logits: (N, V)  targets: (N,)
void cross_entropy_vp_partial(float *stats, const float *logits,
                              const int32_t *targets, int64_t N, int64_t V,
                              int64_t first);

// Step 2, after all-gathering the P ranks' stats in rank order: lse[n] is
// the log-sum-exp over the whole vocabulary; returns the mean loss, summed in
// double in token order. Every rank computes the same value.
// lse: (N,)  gathered: (P, N, 3)
float cross_entropy_vp_finish(float *lse, const float *gathered, int64_t N,
                              int64_t P);

// dlogits = (exp(logits - lse) - onehot(targets)) * dloss / N on this rank's
// block of the vocabulary.
// dlogits: (N, V)  logits: (N, V)  targets: (N,)  lse: (N,)
void cross_entropy_vp_backward(float *dlogits, float dloss, const float *logits,
                               const int32_t *targets, const float *lse,
                               int64_t N, int64_t V, int64_t first);

} // namespace llmc::cpu
