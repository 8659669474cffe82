// Elementwise add and multiply with a trailing broadcast: b has nb elements
// repeated over the n / nb rows of a (nb == n: same shape). nb must divide n.
#pragma once

#include <cstdint>

namespace llmc::cpu {

// out[i] = a[i] + b[i % nb]
// out: (n / nb, nb)  a: (n / nb, nb)  b: (nb,)
void add_forward(float *out, const float *a, const float *b, int64_t n,
                 int64_t nb);

// da = dout; db[j] = sum over rows r of dout[r, j] (rows in order).
// Either output may be nullptr to skip it; da may alias dout (then it is
// left as is).
// da: (n / nb, nb)  db: (nb,)  dout: (n / nb, nb)
void add_backward(float *da, float *db, const float *dout, int64_t n,
                  int64_t nb);

// out[i] = a[i] * b[i % nb]
// out: (n / nb, nb)  a: (n / nb, nb)  b: (nb,)
void mul_forward(float *out, const float *a, const float *b, int64_t n,
                 int64_t nb);

// da[i] = dout[i] * b[i % nb]; db[j] = sum over rows r of dout[r, j] * a[r, j]
// (rows in order). Either output may be nullptr to skip it; da may alias
// dout.
// da: (n / nb, nb)  db: (nb,)  dout, a: (n / nb, nb)  b: (nb,)
void mul_backward(float *da, float *db, const float *dout, const float *a,
                  const float *b, int64_t n, int64_t nb);

} // namespace llmc::cpu
