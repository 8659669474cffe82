// AdamW update of one parameter element, shared by the CPU and CUDA kernels
// so both backends compute bit-for-bit the same formula (Loshchilov & Hutter
// 2019, decoupled weight decay, as torch.optim.AdamW).
#pragma once

#include "runtime/kernels/host_device.h"

#include <cmath>

namespace llmc {

struct AdamWHyper {
  float lr;
  float beta1;
  float beta2;
  float eps;
  float weight_decay;     // 0 for tensors that are not decayed (rank < 2)
  float beta1_correction; // 1 - beta1^t
  float beta2_correction; // 1 - beta2^t
  // Multiplies the gradient first: clipping by global norm, applied here so
  // a gradient buffer is never rescaled in place (it may be shared).
  float grad_scale = 1.0f;
};

// torch.nn.utils.clip_grad_norm_'s factor: max_norm / (norm + 1e-6), at
// most 1; clip_grad_norm <= 0 leaves gradients as they are.
LLMC_HOST_DEVICE inline float clip_scale(float grad_norm,
                                         float clip_grad_norm) {
  if (clip_grad_norm <= 0.0f)
    return 1.0f;
  float scale = clip_grad_norm / (grad_norm + 1e-6f);
  return scale < 1.0f ? scale : 1.0f;
}

// Updates param, m and v in place from grad; returns nothing so the caller
// owns the memory traffic pattern.
LLMC_HOST_DEVICE inline void adamw_step(float *param, float *m, float *v,
                                        float grad, const AdamWHyper &h) {
  grad *= h.grad_scale;
  float m_new = h.beta1 * *m + (1.0f - h.beta1) * grad;
  float v_new = h.beta2 * *v + (1.0f - h.beta2) * grad * grad;
  *m = m_new;
  *v = v_new;
  float m_hat = m_new / h.beta1_correction;
  float v_hat = v_new / h.beta2_correction;
  // torch.optim.AdamW: decay first, then the Adam step.
  float p = *param * (1.0f - h.lr * h.weight_decay);
  *param = p - h.lr * m_hat / (sqrtf(v_hat) + h.eps);
}

} // namespace llmc
