// Softmax cross-entropy on the GPU (kernel table: cross_entropy_forward,
// cross_entropy_backward), as runtime/cpu/cross_entropy.h. Bodies in
// runtime/cuda/device/cross_entropy.cuh.
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

} // namespace llmc::cuda
