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

} // namespace llmc::cpu
