// The sampler's RNG, filters (temperature, top-k, top-p) and draw; sampler.h
// states the semantics and the order they are applied in.

#include "runtime/serve/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace llmc::serve {

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t Xoshiro256StarStar::splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// splitmix64 is a bijection of its counter, so four consecutive outputs are
// distinct and the state can never be the all-zero fixed point.
Xoshiro256StarStar::Xoshiro256StarStar(uint64_t seed) {
  for (uint64_t &s : s_)
    s = splitmix64(seed);
}

uint64_t Xoshiro256StarStar::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

// ---------------------------------------------------------------------------
// Filters and draw
// ---------------------------------------------------------------------------

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Per-thread buffers of vocabulary size: a Sampler lives as long as its
// request, so holding them per Sampler would cost V * 16 bytes per request.
struct Scratch {
  std::vector<double> x;      // logits as double, non-finite rules applied
  std::vector<double> w;      // unnormalised probabilities; 0 = filtered out
  std::vector<int32_t> order; // candidate ids for top-k / top-p
};

Scratch &thread_scratch() {
  thread_local Scratch s;
  return s;
}

// Copies logits into x, applying the non-finite rules of sampler.h, so that
// every later step sees a finite maximum.
void clean_logits(const float *logits, int64_t V, std::vector<double> &x) {
  x.resize(size_t(V));
  bool any_pos_inf = false, any_finite = false;
  for (int64_t i = 0; i < V; i++) {
    double v = std::isnan(logits[i]) ? -kInf : double(logits[i]);
    any_pos_inf |= v == kInf;
    any_finite |= std::isfinite(v);
    x[size_t(i)] = v;
  }
  if (any_pos_inf) // the limit of softmax: +inf tokens share all the mass
    for (double &v : x)
      v = v == kInf ? 0.0 : -kInf;
  else if (!any_finite) // all -inf: the limit of equal logits, uniform
    std::fill(x.begin(), x.end(), 0.0);
}

// Lowest id among the maxima.
int32_t argmax(const std::vector<double> &x) {
  size_t best = 0;
  for (size_t i = 1; i < x.size(); i++)
    if (x[i] > x[best])
      best = i;
  return int32_t(best);
}

// log_softmax(x)[t] in double, shifted by the (finite) maximum.
double log_softmax_at(const std::vector<double> &x, double maxv, int32_t t) {
  double sum = 0.0;
  for (double v : x)
    sum += std::exp(v - maxv);
  return x[size_t(t)] - maxv - std::log(sum);
}

// Puts in order[0, n) the ids whose logit is >= the k-th largest (ties at the
// boundary kept, as vLLM and HF do) and returns n. nth_element, not a sort:
// O(V) whatever k.
int64_t select_top_k(const std::vector<double> &x, int64_t k,
                     std::vector<int32_t> &order) {
  auto before = [&](int32_t a, int32_t b) {
    return x[size_t(a)] > x[size_t(b)] ||
           (x[size_t(a)] == x[size_t(b)] && a < b);
  };
  std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), before);
  const double kth = x[size_t(order[size_t(k - 1)])];
  // Everything past k-1 is <= kth; bring its ties forward.
  auto end = std::partition(order.begin() + k, order.end(),
                            [&](int32_t i) { return x[size_t(i)] >= kth; });
  return int64_t(end - order.begin());
}

// Zeroes the weight of all but the shortest prefix, in order (probability
// descending, then id), of the n candidates holding >= top_p of their mass.
// Sorting all n would cost O(V log V) per token when top_k is off, so only a
// top m is selected and sorted, m growing 4x until it holds the prefix:
// O(V) per round, and the result is that of the full sort because the order
// is strict.
void apply_top_p(std::vector<double> &w, std::vector<int32_t> &order, int64_t n,
                 double top_p) {
  auto before = [&](int32_t a, int32_t b) {
    return w[size_t(a)] > w[size_t(b)] ||
           (w[size_t(a)] == w[size_t(b)] && a < b);
  };
  double total = 0.0;
  for (int64_t j = 0; j < n; j++)
    total += w[size_t(order[size_t(j)])];
  const double target = top_p * total;
  int64_t keep = n; // if rounding keeps cum below target, keep everything
  for (int64_t m = std::min<int64_t>(n, 64);; m = std::min(n, 4 * m)) {
    if (m < n)
      std::nth_element(order.begin(), order.begin() + m, order.begin() + n,
                       before);
    std::sort(order.begin(), order.begin() + m, before);
    double cum = 0.0;
    int64_t j = 0;
    while (j < m && cum < target)
      cum += w[size_t(order[size_t(j++)])];
    if (cum >= target) {
      keep = j; // >= 1: target > 0 since the maximum has weight 1
      break;
    }
    if (m == n)
      break;
  }
  for (int64_t j = keep; j < n; j++)
    w[size_t(order[size_t(j)])] = 0.0;
}

// Inverse CDF over w in ascending id. The maximum-logit token always keeps
// weight exp(0) = 1, so total >= 1 and some token has positive weight.
int32_t draw(const std::vector<double> &w, double u) {
  double total = 0.0;
  for (double v : w)
    total += v;
  const double target = u * total;
  double cum = 0.0;
  int32_t last = -1;
  for (size_t i = 0; i < w.size(); i++) {
    if (w[i] <= 0.0)
      continue;
    cum += w[i];
    last = int32_t(i);
    if (cum > target)
      return last;
  }
  return last; // only when u * total rounds up to total
}

// Temperature, top-k, top-p, then the draw with u.
int32_t sample_filtered(const SamplingParams &p, Scratch &s, double maxv,
                        double u) {
  const int64_t V = int64_t(s.x.size());
  const bool top_k_on = p.top_k > 0 && p.top_k < V;
  const bool top_p_on = p.top_p < 1.0;
  // (x - max) / T <= 0: no overflow however small T is, and the maximum
  // gets exactly 1.
  auto weight = [&](int32_t i) {
    return std::exp((s.x[size_t(i)] - maxv) / p.temperature);
  };
  s.w.resize(size_t(V));
  int64_t n = V;
  if (top_k_on || top_p_on) {
    s.order.resize(size_t(V));
    std::iota(s.order.begin(), s.order.end(), 0);
  }
  if (top_k_on) { // exp only for the k kept: top-k is the cheap filter
    n = select_top_k(s.x, p.top_k, s.order);
    std::fill(s.w.begin(), s.w.end(), 0.0);
    for (int64_t j = 0; j < n; j++)
      s.w[size_t(s.order[size_t(j)])] = weight(s.order[size_t(j)]);
  } else {
    for (int64_t i = 0; i < V; i++)
      s.w[size_t(i)] = weight(int32_t(i));
  }
  if (top_p_on)
    apply_top_p(s.w, s.order, n, p.top_p);
  return draw(s.w, u);
}

} // namespace

// ---------------------------------------------------------------------------
// Sampler
// ---------------------------------------------------------------------------

Sampler::Sampler(SamplingParams params, uint64_t default_seed)
    : params_(std::move(params)), rng_(params_.seed.value_or(default_seed)) {}

Sample sample_row(const SamplingParams &params, const float *logits,
                  int64_t vocab, double u) {
  Scratch &s = thread_scratch();
  clean_logits(logits, vocab, s.x);
  const int32_t best = argmax(s.x);
  const double maxv = s.x[size_t(best)];
  const int32_t token =
      params.temperature == 0.0 ? best : sample_filtered(params, s, maxv, u);
  return {token, log_softmax_at(s.x, maxv, token)};
}

Sample Sampler::sample(const float *logits, int64_t vocab) {
  // Taken even when greedy: the stream advances one step per token.
  return sample_row(params_, logits, vocab, rng_.next_double());
}

bool Sampler::is_stop(int32_t token) const {
  const auto &ids = params_.stop_token_ids;
  return std::find(ids.begin(), ids.end(), token) != ids.end();
}

} // namespace llmc::serve
