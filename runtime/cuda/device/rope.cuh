// Rotary position embedding on the GPU in LLaMA's rotate-half layout, as
// runtime/cpu/rope.h computes it (the angle in float32 as Hugging Face
// does): a thread per pair (i, i + D/2) of a head vector, so out may alias
// inp. Device code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include <cstdint>

namespace llmc::cuda::device {

constexpr int kRopeThreads = 256;
inline int rope_blocks(long long pairs) {
  long long blocks = (pairs + kRopeThreads - 1) / kRopeThreads;
  return int(blocks < 65535 ? blocks : 65535);
}

// out, inp: (B, H, T, D) as rows of D; sign +1 rotates, -1 applies the
// transpose (the backward). Token t of sequence b is at position
// positions[b, t] when positions is given (rope_at: padding, -1, is
// copied), else at t + position_offset.
__global__ void rope_kernel(float *out, const float *inp, long long rows, int T,
                            int D, float theta, long long position_offset,
                            float sign, const int32_t *positions = nullptr,
                            int H = 1) {
  int half = D / 2;
  long long pairs = rows * half;
  for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x;
       k < pairs; k += (long long)gridDim.x * blockDim.x) {
    long long row = k / half;
    int i = int(k % half);
    const float *x = inp + row * D;
    float *o = out + row * D;
    float x1 = x[i], x2 = x[i + half];
    long long p = row % T + position_offset;
    if (positions) {
      p = positions[row / ((long long)H * T) * T + row % T];
      if (p < 0) {
        o[i] = x1;
        o[i + half] = x2;
        continue;
      }
    }
    float inv_freq = 1.0f / powf(theta, float(2 * i) / float(D));
    float angle = float(p) * inv_freq;
    float c = cosf(angle), s = sign * sinf(angle);
    o[i] = x1 * c - x2 * s;
    o[i + half] = x2 * c + x1 * s;
  }
}

} // namespace llmc::cuda::device
