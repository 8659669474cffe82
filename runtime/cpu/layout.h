// Data movement: transpose by an arbitrary permutation, and split / concat
// along one axis. All are pure copies; each one's backward is another of
// them (inverse permutation; concat <-> split).
#pragma once

#include <cstdint>

namespace llmc::cpu {

constexpr int kMaxPermuteRank = 6;

// out = inp.permute(perm): out dimension i is input dimension perm[i], so
// out_shape[i] = shape[perm[i]]. rank in [0, kMaxPermuteRank]; perm is a
// permutation of [0, rank). Backward: permute dout by the inverse permutation
// (inv[perm[i]] = i) over out_shape.
// out: (shape[perm[0]], ..., shape[perm[rank-1]])  inp: (shape[0], ...)
// shape, perm: (rank,)
void permute(float *out, const float *inp, const int64_t *shape,
             const int *perm, int rank);

// Concatenation along the middle axis of (outer, axis, inner) views: input k
// is (outer, axis_sizes[k], inner), out is (outer, sum_k axis_sizes[k],
// inner). Backward: split with the same sizes.
// out: (outer, sum(axis_sizes), inner)  inputs[k]: (outer, axis_sizes[k],
// inner)  axis_sizes: (n_inputs,)
void concat(float *out, const float *const *inputs, const int64_t *axis_sizes,
            int n_inputs, int64_t outer, int64_t inner);

// The inverse of concat: output k gets the slice of inp at offset
// sum_{j<k} axis_sizes[j] along the axis. Backward: concat.
// outputs[k]: (outer, axis_sizes[k], inner)  inp: (outer, sum(axis_sizes),
// inner)  axis_sizes: (n_outputs,)
void split(float *const *outputs, const float *inp, const int64_t *axis_sizes,
           int n_outputs, int64_t outer, int64_t inner);

// out[b] = inp[b, t] for the token t of sequence b with the largest
// position (zeros when every position is -1, i.e. padding).
// out: (B, C)  inp: (B, T, C)  positions: (B, T)
void last_token(float *out, const float *inp, const int32_t *positions,
                int64_t B, int64_t T, int64_t C);

} // namespace llmc::cpu
