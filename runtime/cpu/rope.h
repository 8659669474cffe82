// Rotary position embedding in Hugging Face LLaMA's "rotate_half" layout:
// within each head vector of size D, element i pairs with element i + D/2.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// For t in [0, T), i in [0, D/2), p = t + position_offset:
//   angle = p * inv_freq[i],  inv_freq[i] = 1 / theta^(2i / D)
//   out[i]       = x[i] * cos(angle) - x[i + D/2] * sin(angle)
//   out[i + D/2] = x[i + D/2] * cos(angle) + x[i] * sin(angle)
// The angles follow HF's float32 computation (LlamaRotaryEmbedding, default
// rope_type): inv_freq = 1 / powf(theta, float(2i) / float(D)) in float,
// angle = float(p) * inv_freq in float, then cosf / sinf of that float.
// D must be even. out may alias inp.
// out, inp: (B, H, T, D)
void rope_forward(float *out, const float *inp, int64_t B, int64_t H, int64_t T,
                  int64_t D, float theta, int64_t position_offset);

// rope_forward with the angle of token t of sequence b taken from its
// position p = positions[b, t] instead of t; padding (p < 0) is copied.
// out, inp: (B, H, T, D)  positions: (B, T)
void rope_at_forward(float *out, const float *inp, const int32_t *positions,
                     int64_t B, int64_t H, int64_t T, int64_t D, float theta);

// The transpose of the rotation (rotation by the negative angle).
// dinp, dout: (B, H, T, D)
void rope_backward(float *dinp, const float *dout, int64_t B, int64_t H,
                   int64_t T, int64_t D, float theta, int64_t position_offset);

} // namespace llmc::cpu
