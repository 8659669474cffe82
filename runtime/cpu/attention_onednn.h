// Attention's products on oneDNN, batched over every head of a chunk of
// samples: one call per product and block of query rows instead of one
// small single-threaded sgemm per head, and bf16 products where a
// bf16-mixed plan asks for them. The contract is attention.h's; these are
// the paths cpu::attention_forward / attention_backward take when oneDNN
// runs the GEMMs. Internal to runtime/cpu.
#pragma once

#include <cstdint>

namespace llmc::cpu {

struct AttentionDims {
  int64_t B, Hq, Hkv, Tq, Tk, D, Dv;
  float scale;
  bool causal;
};

// bf16: q, k, v, the probabilities, dout and dS are rounded to bf16 for the
// products, which sum in fp32 (softmax, lse and the dS arithmetic stay
// fp32), as PyTorch's attention under bf16 autocast. Returns false where
// oneDNN has no implementation; the outputs must then be written again.
bool attention_forward_onednn(float *out, float *lse, const float *q,
                              const float *k, const float *v,
                              const AttentionDims &d, bool bf16);
bool attention_backward_onednn(float *dq, float *dk, float *dv,
                               const float *dout, const float *q,
                               const float *k, const float *v, const float *out,
                               const float *lse, const AttentionDims &d,
                               bool bf16);

} // namespace llmc::cpu
