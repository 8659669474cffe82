// Softmax cross-entropy on the GPU (kernel table: cross_entropy_forward,
// cross_entropy_backward and the vocab-parallel cross_entropy_vp_*), as
// runtime/cpu/cross_entropy.h. Bodies in runtime/cuda/device/cross_entropy.cuh.
#pragma once

#include <cuda_runtime.h>

namespace llmc::cuda {

// *loss = mean over rows of logsumexp(logits) - logits[target]; losses (N,)
// is scratch that ends holding each row's loss.
void cross_entropy_forward(float *loss, float *losses, const float *logits,
                           const int *targets, int N, int V,
                           cudaStream_t stream);

// dlogits = (softmax(logits) - onehot(targets)) · *dloss / N (dloss on the
// device); dlogits may alias logits.
void cross_entropy_backward(float *dlogits, const float *dloss,
                            const float *logits, const int *targets, int N,
                            int V, cudaStream_t stream);

// Vocab-parallel: this rank holds vocabulary ids first..first+V-1.
// stats: (N, 3) per row (max, sum of exp(x - max), target logit or 0).
void cross_entropy_vp_partial(float *stats, const float *logits,
                              const int *targets, int N, int V, int first,
                              cudaStream_t stream);
// After the stats of P ranks are gathered (P, N, 3): lse (N,) over the whole
// vocabulary, *loss the mean.
void cross_entropy_vp_finish(float *loss, float *lse, const float *gathered,
                             int N, int P, cudaStream_t stream);
// dlogits (N, V) = (exp(logits - lse) - onehot) · *dloss / N on this block.
void cross_entropy_vp_backward(float *dlogits, const float *dloss,
                               const float *logits, const int *targets,
                               const float *lse, int N, int V, int first,
                               cudaStream_t stream);

} // namespace llmc::cuda
