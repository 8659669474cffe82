// Sampling on the GPU, as runtime/serve/sampler.h (the serving engine's
// Sampler) states it, a block per sequence: non-finite logits cleaned,
// argmax with the lowest id on ties, the chosen token's log-probability at
// temperature 1, then for temperature > 0: top-k (the exact k-th largest
// logit by radix selection, ties kept), top-p (the exact cut of the
// probability-ordered prefix, found by bisection on the weight's bits, ties
// in id order) and the inverse-CDF draw in ascending id. Sums are in double
// and in a fixed order, so a row gives the same token on every run; they
// are not the CPU's order, so a draw whose uniform falls within rounding
// (~1e-16) of a boundary may pick the neighbour the CPU does not. Device
// code for nvcc and the SIMT emulator.
#pragma once

#include "runtime/cuda/device/spelling.cuh"

#include "runtime/cuda/device/sample_params.h"

#include <cstdint>
#include <cstring>

namespace llmc::cuda::device {

constexpr int kSamplingThreads = 256;

// The cleaning rules of the CPU sampler (NaN is -inf; +inf tokens share the
// mass; all -inf is uniform).
__device__ __forceinline__ double clean_logit(float raw, bool any_pos_inf,
                                              bool any_finite) {
  double v = raw != raw ? -INFINITY : double(raw);
  if (any_pos_inf)
    return v == INFINITY ? 0.0 : -INFINITY;
  return any_finite ? v : 0.0;
}

// Order-preserving unsigned keys: larger value, larger key.
__device__ __forceinline__ uint32_t float_key(float f) {
  if (f == 0.0f)
    f = 0.0f; // -0 and +0 are one value, as the CPU's comparisons say
  uint32_t u;
  memcpy(&u, &f, 4);
  return u & 0x80000000u ? ~u : u | 0x80000000u;
}
__device__ __forceinline__ uint64_t double_key(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u & 0x8000000000000000ull ? ~u : u | 0x8000000000000000ull;
}

// Block-wide sums and counts in a fixed order: thread partials, then
// thread 0 adds them in thread order.
template <class T> __device__ T block_total(T v, T *scratch) {
  scratch[threadIdx.x] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    T sum = 0;
    for (unsigned t = 0; t < blockDim.x; ++t)
      sum += scratch[t];
    scratch[0] = sum;
  }
  __syncthreads();
  T total = scratch[0];
  __syncthreads();
  return total;
}

// token[b], logprob[b] for row b of logits (B, V); a block of
// kSamplingThreads per row. Each thread owns a contiguous slice of ids.
__global__ void sample_rows_kernel(int32_t *__restrict__ token,
                                   double *__restrict__ logprob,
                                   const float *__restrict__ logits,
                                   const SampleParams *__restrict__ params,
                                   int V) {
  __shared__ double dsum[kSamplingThreads];
  __shared__ long long lsum[kSamplingThreads];
  __shared__ double best_value[kSamplingThreads];
  __shared__ int best_id[kSamplingThreads];
  const float *x = logits + (long long)blockIdx.x * V;
  const SampleParams p = params[blockIdx.x];
  int per = (V + blockDim.x - 1) / blockDim.x;
  int lo = threadIdx.x * per, hi = lo + per < V ? lo + per : V;

  // Cleaning flags.
  long long pos_inf = 0, finite = 0;
  for (int i = lo; i < hi; ++i) {
    pos_inf += x[i] == INFINITY;
    finite += x[i] == x[i] && x[i] != INFINITY && x[i] != -INFINITY;
  }
  bool any_pos_inf = block_total(pos_inf, lsum) > 0;
  bool any_finite = block_total(finite, lsum) > 0;
  auto c = [&](int i) { return clean_logit(x[i], any_pos_inf, any_finite); };

  // Argmax, lowest id on ties: each slice's first maximum, then the slices
  // in id order, a later one winning only when strictly larger.
  double bv = -INFINITY;
  int bi = -1;
  for (int i = lo; i < hi; ++i)
    if (bi < 0 || c(i) > bv) {
      bv = c(i);
      bi = i;
    }
  best_value[threadIdx.x] = bv;
  best_id[threadIdx.x] = bi;
  __syncthreads();
  if (threadIdx.x == 0) {
    int id = -1;
    double v = -INFINITY;
    for (unsigned t = 0; t < blockDim.x; ++t)
      if (best_id[t] >= 0 && (id < 0 || best_value[t] > v)) {
        v = best_value[t];
        id = best_id[t];
      }
    best_id[0] = id;
  }
  __syncthreads();
  const int best = best_id[0];
  __syncthreads();
  const double maxv = c(best);

  // log-softmax normaliser at temperature 1.
  double part = 0.0;
  for (int i = lo; i < hi; ++i)
    part += exp(c(i) - maxv);
  const double log_total = log(block_total(part, dsum));

  int chosen = best;
  if (p.temperature != 0.0) {
    auto weight = [&](int i) { return exp((c(i) - maxv) / p.temperature); };
    // Top-k: the k-th largest cleaned logit (cleaned values are floats or
    // infinities), by radix selection from the top byte down.
    bool top_k_on = p.top_k > 0 && p.top_k < V;
    uint32_t kth_key = 0;
    if (top_k_on) {
      __shared__ unsigned histogram[256];
      __shared__ uint32_t digit_found;
      __shared__ long long still_needed;
      uint32_t prefix = 0, mask = 0;
      if (threadIdx.x == 0)
        still_needed = p.top_k;
      for (int shift = 24; shift >= 0; shift -= 8) {
        for (int d = threadIdx.x; d < 256; d += blockDim.x)
          histogram[d] = 0;
        __syncthreads();
        // Integer counts: the same whatever order the atomics land in.
        for (int i = lo; i < hi; ++i) {
          uint32_t key = float_key(float(c(i)));
          if ((key & mask) == prefix)
            atomicAdd(&histogram[(key >> shift) & 0xffu], 1u);
        }
        __syncthreads();
        if (threadIdx.x == 0) {
          int d = 255;
          while (d > 0 && (long long)histogram[d] < still_needed)
            still_needed -= histogram[d--];
          digit_found = uint32_t(d);
        }
        __syncthreads();
        prefix |= digit_found << shift;
        mask |= 0xffu << shift;
        __syncthreads();
      }
      kth_key = prefix;
    }
    auto kept = [&](int i) {
      return !top_k_on || float_key(float(c(i))) >= kth_key;
    };
    // Top-p: the shortest prefix in (weight desc, id asc) order holding
    // >= top_p of the kept mass. Its last weight w* is the largest with
    // mass(w >= w*) >= target; of the ties at w*, the lowest ids are kept
    // until the mass reaches the target.
    bool top_p_on = p.top_p < 1.0;
    uint64_t cut_key = 0;
    int tie_limit = V; // ties at the cut kept below this id
    if (top_p_on) {
      double kept_mass = 0.0;
      for (int i = lo; i < hi; ++i)
        if (kept(i))
          kept_mass += weight(i);
      const double target = p.top_p * block_total(kept_mass, dsum);
      // Bisection on the key for the largest k with mass(key >= k) >= target.
      uint64_t low = 0, high = ~0ull;
      while (low < high) {
        uint64_t mid = low + (high - low) / 2 + 1;
        double mass = 0.0;
        for (int i = lo; i < hi; ++i)
          if (kept(i) && double_key(weight(i)) >= mid)
            mass += weight(i);
        if (block_total(mass, dsum) >= target)
          low = mid;
        else
          high = mid - 1;
      }
      cut_key = low;
      double above = 0.0, w_cut = 0.0;
      for (int i = lo; i < hi; ++i)
        if (kept(i)) {
          uint64_t key = double_key(weight(i));
          if (key > cut_key)
            above += weight(i);
          else if (key == cut_key)
            w_cut = weight(i);
        }
      above = block_total(above, dsum);
      // Every tie has the same weight; any thread's copy will do.
      dsum[threadIdx.x] = w_cut;
      __syncthreads();
      if (threadIdx.x == 0)
        for (unsigned t = 0; t < blockDim.x; ++t)
          if (dsum[t] > 0.0)
            dsum[0] = dsum[t];
      __syncthreads();
      w_cut = dsum[0];
      __syncthreads();
      // The ties at the cut, per slice and in all.
      long long ties = 0;
      for (int i = lo; i < hi; ++i)
        ties += kept(i) && double_key(weight(i)) == cut_key;
      const long long all_ties = block_total(ties, lsum);
      // Ties needed: add w* until the target is reached, as the CPU's cum,
      // at most all of them (tiny weights may not move a large sum). If
      // even all leave it short (rounding), the CPU keeps every candidate:
      // top-p is off for this row.
      long long ties_needed = 0;
      double cum = above;
      while (cum < target && ties_needed < all_ties) {
        cum += w_cut;
        ++ties_needed;
      }
      if (cum < target) {
        cut_key = 0;
        ties_needed = all_ties;
      }
      // The id below which exactly ties_needed ties lie: thread 0 finds the
      // slice holding the last one, its owner the id.
      lsum[threadIdx.x] = ties;
      __syncthreads();
      if (threadIdx.x == 0) {
        long long before = 0;
        best_id[1] = -1; // the owner
        for (unsigned t = 0; t < blockDim.x && best_id[1] < 0; ++t) {
          if (before + lsum[t] >= ties_needed) {
            best_id[1] = int(t);
            lsum[0] = ties_needed - before; // ties to keep in its slice
          }
          before += lsum[t];
        }
        best_id[2] = V; // no owner: every tie is kept
      }
      __syncthreads();
      if (int(threadIdx.x) == best_id[1]) {
        long long left = lsum[0];
        int limit = lo;
        for (int i = lo; i < hi && left > 0; ++i)
          if (kept(i) && double_key(weight(i)) == cut_key) {
            --left;
            limit = i + 1;
          }
        best_id[2] = limit;
      }
      __syncthreads();
      tie_limit = best_id[2];
      __syncthreads();
    }
    auto in_nucleus = [&](int i) {
      if (!kept(i))
        return false;
      if (!top_p_on)
        return true;
      uint64_t key = double_key(weight(i));
      return key > cut_key || (key == cut_key && i < tie_limit);
    };
    // The draw: the first id whose cumulative mass exceeds u times the
    // total, slice sums scanned in order by thread 0; tokens of weight 0
    // (an exp that underflowed, a -inf logit) are never drawn.
    double slice = 0.0;
    int last = -1;
    for (int i = lo; i < hi; ++i)
      if (in_nucleus(i) && weight(i) > 0.0) {
        slice += weight(i);
        last = i;
      }
    dsum[threadIdx.x] = slice;
    best_id[threadIdx.x] = last;
    __syncthreads();
    if (threadIdx.x == 0) {
      double total = 0.0;
      int last_any = -1;
      for (unsigned t = 0; t < blockDim.x; ++t) {
        total += dsum[t];
        if (best_id[t] >= 0)
          last_any = best_id[t];
      }
      const double target = p.u * total;
      double cum = 0.0;
      int pick = -1;
      for (unsigned t = 0; t < blockDim.x && pick < 0; ++t) {
        if (cum + dsum[t] <= target) {
          cum += dsum[t];
          continue;
        }
        // Walk the slice; if its own rounding stays short, go on to the
        // next slice from there.
        int tlo = int(t) * per, thi = tlo + per < V ? tlo + per : V;
        for (int i = tlo; i < thi && pick < 0; ++i)
          if (in_nucleus(i) && weight(i) > 0.0) {
            cum += weight(i);
            if (cum > target)
              pick = i;
          }
      }
      best_id[0] = pick >= 0 ? pick : last_any; // u * total rounded up
    }
    __syncthreads();
    chosen = best_id[0];
  }
  if (threadIdx.x == 0) {
    token[blockIdx.x] = chosen;
    logprob[blockIdx.x] = c(chosen) - maxv - log_total;
  }
}

} // namespace llmc::cuda::device
