// Strided copies. permute walks the output in order (contiguous writes) and
// gathers from the input with the permuted strides.
#include "runtime/cpu/layout.h"

#include <algorithm>
#include <cstring>

namespace llmc::cpu {

void permute(float *out, const float *inp, const int64_t *shape,
             const int *perm, int rank) {
  // Output dims and the input stride each one walks, with size-1 dims dropped
  // and runs of dims that stay adjacent in the input merged, so e.g.
  // (B, T, H, D) -> (B, H, T, D) becomes a 4-D walk with a memcpy of D.
  int64_t in_stride[kMaxPermuteRank];
  int64_t s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    in_stride[d] = s;
    s *= shape[d];
  }
  const int64_t total = s;
  if (total == 0)
    return;
  int64_t dims[kMaxPermuteRank], strides[kMaxPermuteRank];
  int r = 0;
  for (int i = 0; i < rank; i++) {
    const int64_t n = shape[perm[i]], st = in_stride[perm[i]];
    if (n == 1)
      continue;
    if (r > 0 && strides[r - 1] == st * n) {
      dims[r - 1] *= n; // contiguous with the previous dim in the input
      strides[r - 1] = st;
      continue;
    }
    dims[r] = n;
    strides[r] = st;
    r++;
  }
  if (r == 0) {
    out[0] = inp[0];
    return;
  }
  // Rows are the output's last dim; each row's input offset is decomposed
  // from the row index.
  const int64_t inner = dims[r - 1], inner_stride = strides[r - 1];
  const int64_t rows = total / inner;
#pragma omp parallel for
  for (int64_t row = 0; row < rows; row++) {
    int64_t off = 0, rem = row;
    for (int d = r - 2; d >= 0; d--) {
      off += (rem % dims[d]) * strides[d];
      rem /= dims[d];
    }
    const float *src = inp + off;
    float *dst = out + row * inner;
    if (inner_stride == 1) {
      std::memcpy(dst, src, size_t(inner) * sizeof(float));
    } else {
      for (int64_t j = 0; j < inner; j++)
        dst[j] = src[j * inner_stride];
    }
  }
}

void concat(float *out, const float *const *inputs, const int64_t *axis_sizes,
            int n_inputs, int64_t outer, int64_t inner) {
  int64_t axis_total = 0;
  for (int k = 0; k < n_inputs; k++)
    axis_total += axis_sizes[k];
#pragma omp parallel for
  for (int64_t o = 0; o < outer; o++) {
    float *dst = out + o * axis_total * inner;
    for (int k = 0; k < n_inputs; k++) {
      const int64_t len = axis_sizes[k] * inner;
      std::memcpy(dst, inputs[k] + o * len, size_t(len) * sizeof(float));
      dst += len;
    }
  }
}

void split(float *const *outputs, const float *inp, const int64_t *axis_sizes,
           int n_outputs, int64_t outer, int64_t inner) {
  int64_t axis_total = 0;
  for (int k = 0; k < n_outputs; k++)
    axis_total += axis_sizes[k];
#pragma omp parallel for
  for (int64_t o = 0; o < outer; o++) {
    const float *src = inp + o * axis_total * inner;
    for (int k = 0; k < n_outputs; k++) {
      const int64_t len = axis_sizes[k] * inner;
      std::memcpy(outputs[k] + o * len, src, size_t(len) * sizeof(float));
      src += len;
    }
  }
}

void last_token(float *out, const float *inp, const int32_t *positions,
                int64_t B, int64_t T, int64_t C) {
  for (int64_t b = 0; b < B; b++) {
    int64_t last = -1;
    for (int64_t t = 0; t < T; t++)
      if (positions[b * T + t] >= 0 &&
          (last < 0 || positions[b * T + t] > positions[b * T + last]))
        last = t;
    if (last < 0)
      std::fill(out + b * C, out + (b + 1) * C, 0.0f);
    else
      std::copy(inp + (b * T + last) * C, inp + (b * T + last + 1) * C,
                out + b * C);
  }
}

} // namespace llmc::cpu
