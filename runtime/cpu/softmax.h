// Softmax along the last dimension.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// out[n, :] = exp(inp[n, :] - max) / sum(exp(inp[n, :] - max))
// out, inp: (N, C)
void softmax_forward(float *out, const float *inp, int64_t N, int64_t C);

// dinp = out * (dout - sum(dout * out)) per row, from the saved output.
// dinp may alias dout.
// dinp, dout, out: (N, C)
void softmax_backward(float *dinp, const float *dout, const float *out,
                      int64_t N, int64_t C);

} // namespace llmc::cpu
