// The sampler: turns one row of logits into one token for one request, with
// temperature, top-k and top-p, reproducibly from the request's seed.
#pragma once

#include "runtime/serve/sampling_params.h"

#include <cstdint>

namespace llmc::serve {

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

// xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/), seeded by
// four outputs of splitmix64 as its authors recommend. Written out rather
// than taken from <random>: the standard distributions are not specified bit
// for bit, so a seed would give other tokens under another standard library.
class Xoshiro256StarStar {
public:
  explicit Xoshiro256StarStar(uint64_t seed);
  // Starts from a raw state (not all zero); for the reference vectors.
  Xoshiro256StarStar(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3)
      : s_{s0, s1, s2, s3} {}

  uint64_t next();
  // Uniform in [0, 1): the top 53 bits, scaled by 2^-53 (exact in double).
  double next_double() { return double(next() >> 11) * 0x1.0p-53; }

  // One step of splitmix64 (Steele, Lea & Flood): advances x, returns its
  // output.
  static uint64_t splitmix64(uint64_t &x);

private:
  uint64_t s_[4];
};

// ---------------------------------------------------------------------------
// Sampler
// ---------------------------------------------------------------------------

struct Sample {
  int32_t token;
  // log_softmax(logits)[token] at temperature 1 over the whole vocabulary,
  // whatever the sampling parameters (OpenAI's logprobs are the model's).
  double logprob;
};

// One per request. It owns the request's RNG stream, so a request with a
// seed gets the same tokens whatever else shares its batch, and whatever
// order the engine samples the batch in.
//
// sample() applies, in the order of vLLM and Hugging Face:
//   1. temperature: p ∝ exp(logit / T); T = 0 is argmax, lowest id on ties;
//   2. top_k: keep the tokens whose logit is >= the k-th largest (so ties at
//      the boundary are all kept, as in both anchors); k >= V is off;
//   3. top_p: renormalise what is left, order it by probability (then id),
//      keep the shortest prefix whose mass is >= top_p (at least one token);
//   4. draw: one uniform u in [0, 1) from the stream, the first token, in
//      ascending id, whose cumulative kept mass exceeds u times the total.
// Every call takes exactly one uniform, greedy ones included, so after n
// tokens the stream has moved n steps whatever the parameters.
//
// Non-finite logits never produce NaN: NaN counts as -inf; if any logit is
// +inf, the +inf tokens share all the mass equally; if all are -inf, all
// tokens do. The logprob follows the same rules.
//
// Scratch space is thread-local in sampler.cpp, so a Sampler is a few words
// and requests on one thread share one buffer. Not thread-safe per object.
class Sampler {
public:
  // params must have passed params.validate(vocab). default_seed is used
  // when params.seed is absent (the engine derives it, e.g. per request).
  Sampler(SamplingParams params, uint64_t default_seed);

  // logits: (vocab), vocab >= 1.
  Sample sample(const float *logits, int64_t vocab);
  // The uniform of this request's next token (sample() takes it itself):
  // for a device that samples the row (sample_row's semantics) instead.
  double next_uniform() { return rng_.next_double(); }

  bool is_stop(int32_t token) const;
  const SamplingParams &params() const { return params_; }

private:
  SamplingParams params_;
  Xoshiro256StarStar rng_;
};

// What Sampler::sample does with its request's uniform u for this token:
// the whole rule of this file's header, as a function of its inputs.
Sample sample_row(const SamplingParams &params, const float *logits,
                  int64_t vocab, double u);

} // namespace llmc::serve
