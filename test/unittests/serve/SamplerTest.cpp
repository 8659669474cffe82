// Tests that the sampler draws from exactly the distribution its parameters
// define (chi-square against a reference written from the definitions), that
// draws depend only on the request's seed, and that logprobs are the model's.

#include "runtime/serve/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

using namespace llmc::serve;

namespace {

constexpr float kInfF = std::numeric_limits<float>::infinity();

// Test logits from the sampler's own generator: portable, unlike <random>'s
// distributions, so every standard library sees the same inputs.
std::vector<float> random_logits(int64_t V, uint64_t seed, float lo, float hi) {
  Xoshiro256StarStar rng(seed);
  std::vector<float> x(static_cast<size_t>(V));
  for (float &v : x)
    v = lo + float(rng.next_double()) * (hi - lo);
  return x;
}

std::vector<int32_t> draw_n(Sampler &s, const std::vector<float> &logits,
                            int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; i++)
    out.push_back(s.sample(logits.data(), int64_t(logits.size())).token);
  return out;
}

SamplingParams with_seed(uint64_t seed) {
  SamplingParams p;
  p.seed = seed;
  return p;
}

// log_softmax(x)[t] in double, the textbook way.
double ref_logprob(const std::vector<float> &x, int32_t t) {
  double m = -INFINITY, sum = 0.0;
  for (float v : x)
    m = std::max(m, double(v));
  for (float v : x)
    sum += std::exp(double(v) - m);
  return double(x[size_t(t)]) - m - std::log(sum);
}

// ---------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------

// Tests that the transcription of xoshiro256** and splitmix64 reproduces the
// published reference outputs (rand_xoshiro's `reference` tests, produced by
// the authors' C code), so seeds mean the same thing everywhere.
TEST(SamplerRngTest, MatchesReferenceVectors) {
  Xoshiro256StarStar x(1, 2, 3, 4);
  const uint64_t want[] = {11520ULL,
                           0ULL,
                           1509978240ULL,
                           1215971899390074240ULL,
                           1216172134540287360ULL,
                           607988272756665600ULL,
                           16172922978634559625ULL,
                           8476171486693032832ULL,
                           10595114339597558777ULL,
                           2904607092377533576ULL};
  for (uint64_t w : want)
    EXPECT_EQ(x.next(), w);

  uint64_t sm = 0;
  const uint64_t want0[] = {0xE220A8397B1DCDAFULL, 0x6E789E6AA1B965F4ULL,
                            0x06C45D188009454FULL, 0xF88BB8A8724C81ECULL};
  for (uint64_t w : want0)
    EXPECT_EQ(Xoshiro256StarStar::splitmix64(sm), w);

  sm = 1234567;
  const uint64_t want1[] = {6457827717110365317ULL, 3203168211198807973ULL,
                            9817491932198370423ULL, 4593380528125082431ULL,
                            16408922859458223821ULL};
  for (uint64_t w : want1)
    EXPECT_EQ(Xoshiro256StarStar::splitmix64(sm), w);
}

// Tests that a seed fills the state with four splitmix64 outputs, and that
// next_double is the top 53 bits scaled into [0, 1).
TEST(SamplerRngTest, SeedingAndDoubles) {
  uint64_t sm = 99;
  uint64_t s[4];
  for (uint64_t &v : s)
    v = Xoshiro256StarStar::splitmix64(sm);
  Xoshiro256StarStar a(99), b(s[0], s[1], s[2], s[3]), c(99);
  for (int i = 0; i < 100; i++) {
    uint64_t bits = b.next();
    EXPECT_EQ(a.next(), bits);
    double u = c.next_double();
    EXPECT_EQ(u, double(bits >> 11) / 9007199254740992.0);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

// ---------------------------------------------------------------------------
// Greedy, seeds and batch independence
// ---------------------------------------------------------------------------

// Tests that temperature 0 is argmax with the lowest id on ties, whatever
// top_k and top_p say.
TEST(SamplerTest, GreedyIsArgmaxLowestIdOnTies) {
  SamplingParams p = with_seed(1);
  p.temperature = 0.0;
  p.top_k = 2;
  p.top_p = 0.5;
  Sampler s(p, 0);
  std::vector<float> x = {0.5f, -1.0f, 3.0f, 7.0f, 2.0f, 7.0f, -kInfF};
  for (int i = 0; i < 5; i++)
    EXPECT_EQ(s.sample(x.data(), int64_t(x.size())).token, 3);

  std::vector<float> r = random_logits(5000, 17, -4.0f, 4.0f);
  int32_t want = int32_t(std::max_element(r.begin(), r.end()) - r.begin());
  EXPECT_EQ(s.sample(r.data(), int64_t(r.size())).token, want);
}

// Tests that one seed gives one sequence and other seeds give others.
TEST(SamplerTest, SameSeedSameTokensOtherSeedsDiffer) {
  std::vector<float> x = random_logits(1000, 3, -2.0f, 2.0f);
  Sampler a(with_seed(42), 0), b(with_seed(42), 0), c(with_seed(43), 0);
  std::vector<int32_t> ta = draw_n(a, x, 100);
  EXPECT_EQ(ta, draw_n(b, x, 100));
  EXPECT_NE(ta, draw_n(c, x, 100));
  // The draws vary within a sequence too (not one token repeated).
  EXPECT_GT(std::set<int32_t>(ta.begin(), ta.end()).size(), 50u);
}

// Tests that without a seed the caller's default seed is used.
TEST(SamplerTest, AbsentSeedUsesDefaultSeed) {
  std::vector<float> x = random_logits(1000, 4, -2.0f, 2.0f);
  Sampler unseeded(SamplingParams{}, 7), seeded(with_seed(7), 12345);
  Sampler other_default(SamplingParams{}, 8);
  std::vector<int32_t> t = draw_n(unseeded, x, 50);
  EXPECT_EQ(t, draw_n(seeded, x, 50));
  EXPECT_NE(t, draw_n(other_default, x, 50));
}

// Tests that a request's tokens do not depend on its batch-mates: other
// Samplers (other params, other vocabularies) used in between change nothing.
TEST(SamplerTest, BatchMatesDoNotChangeDraws) {
  SamplingParams pa = with_seed(2024);
  pa.temperature = 0.8;
  pa.top_p = 0.95;
  std::vector<float> xa = random_logits(800, 5, -3.0f, 3.0f);
  Sampler alone(pa, 0);
  std::vector<int32_t> want = draw_n(alone, xa, 60);

  SamplingParams pb = with_seed(2024); // even the same seed
  pb.top_k = 5;
  SamplingParams pc;
  pc.temperature = 0.0;
  std::vector<float> xb = random_logits(50, 6, -1.0f, 1.0f);
  std::vector<float> xc = random_logits(3000, 7, -1.0f, 1.0f);
  Sampler batched(pa, 0), b(pb, 0), c(pc, 99);
  std::vector<int32_t> got;
  for (int i = 0; i < 60; i++) {
    for (int j = 0; j < i % 3; j++)
      b.sample(xb.data(), int64_t(xb.size()));
    got.push_back(batched.sample(xa.data(), int64_t(xa.size())).token);
    c.sample(xc.data(), int64_t(xc.size()));
  }
  EXPECT_EQ(got, want);
}

// ---------------------------------------------------------------------------
// Logprobs
// ---------------------------------------------------------------------------

// Tests that the logprob is log_softmax of the raw logits (temperature 1,
// no filtering) in double, also with -inf logits and large offsets.
TEST(SamplerTest, LogprobIsLogSoftmaxOfRawLogits) {
  std::vector<float> x = random_logits(1000, 8, -10.0f, 10.0f);
  for (size_t i = 0; i < x.size(); i += 97)
    x[i] = -kInfF;
  for (size_t i = 500; i < 600; i++)
    x[i] += 300.0f; // would overflow exp without the max shift
  std::vector<SamplingParams> ps(4, with_seed(9));
  ps[0].temperature = 0.0;
  ps[1].temperature = 0.7;
  ps[1].top_k = 50;
  ps[2].top_p = 0.9;
  ps[3].temperature = 2.5;
  for (const SamplingParams &p : ps) {
    Sampler s(p, 0);
    for (int i = 0; i < 20; i++) {
      Sample out = s.sample(x.data(), int64_t(x.size()));
      ASSERT_GE(out.token, 0);
      ASSERT_LT(out.token, int32_t(x.size()));
      EXPECT_NEAR(out.logprob, ref_logprob(x, out.token), 1e-6);
    }
  }
}

// ---------------------------------------------------------------------------
// Frequencies against the definitions
// ---------------------------------------------------------------------------

// The distribution the parameters define, in double, straight from the
// definitions (token ids sorted by probability; the test logits have no
// ties): softmax(x / T); keep the top k, renormalise; keep the shortest
// prefix with mass >= top_p, renormalise.
std::vector<double> reference_distribution(const std::vector<float> &x,
                                           const SamplingParams &p) {
  const size_t V = x.size();
  std::vector<double> prob(V);
  double m = -INFINITY, sum = 0.0;
  for (float v : x)
    m = std::max(m, double(v) / p.temperature);
  for (size_t i = 0; i < V; i++)
    sum += prob[i] = std::exp(double(x[i]) / p.temperature - m);
  for (double &q : prob)
    q /= sum;
  std::vector<size_t> ids(V);
  std::iota(ids.begin(), ids.end(), 0);
  std::sort(ids.begin(), ids.end(),
            [&](size_t a, size_t b) { return prob[a] > prob[b]; });
  auto keep_first = [&](size_t n) {
    double kept = 0.0;
    for (size_t j = 0; j < V; j++)
      if (j < n)
        kept += prob[ids[j]];
      else
        prob[ids[j]] = 0.0;
    for (double &q : prob)
      q /= kept;
  };
  if (p.top_k > 0 && size_t(p.top_k) < V)
    keep_first(size_t(p.top_k));
  if (p.top_p < 1.0) {
    double cum = 0.0;
    size_t n = 0;
    while (cum < p.top_p)
      cum += prob[ids[n++]];
    keep_first(n);
  }
  return prob;
}

// Chi-square critical values at p = 0.001 by degrees of freedom (standard
// tables, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.4).
double chi2_critical_p001(size_t df) {
  static const double table[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515};
  return table[df];
}

constexpr int kDraws = 200000;
// Six tokens with distinct probabilities; the top-p cut-offs used below fall
// at least 0.06 from any cumulative mass, so rounding cannot move them.
const std::vector<float> kLogits = {2.0f, 1.4f, 0.9f, 0.3f, -0.4f, -1.5f};

// Draws kDraws tokens and checks them against reference_distribution: none
// outside the kept set, and a chi-square over the kept set below the
// p = 0.001 critical value. The seed is fixed, so this cannot flake.
void expect_matches_reference(const SamplingParams &p, size_t want_kept,
                              const char *name) {
  std::vector<double> ref = reference_distribution(kLogits, p);
  std::vector<int64_t> count(kLogits.size(), 0);
  Sampler s(p, 0);
  for (int i = 0; i < kDraws; i++)
    count[size_t(s.sample(kLogits.data(), int64_t(kLogits.size())).token)]++;
  double chi2 = 0.0;
  size_t kept = 0;
  for (size_t t = 0; t < ref.size(); t++) {
    if (ref[t] == 0.0) {
      EXPECT_EQ(count[t], 0) << name << ": token " << t << " was filtered";
      continue;
    }
    kept++;
    double e = ref[t] * kDraws;
    chi2 += (double(count[t]) - e) * (double(count[t]) - e) / e;
  }
  ASSERT_EQ(kept, want_kept) << name;
  const double crit = chi2_critical_p001(kept - 1);
  std::printf("  %-28s kept %zu  chi2 = %7.3f  (df %zu, p=0.001 critical "
              "%.3f)\n",
              name, kept, chi2, kept - 1, crit);
  EXPECT_LT(chi2, crit) << name;
}

TEST(SamplerFrequencyTest, Temperature) {
  SamplingParams p = with_seed(1001);
  p.temperature = 0.7;
  expect_matches_reference(p, 6, "temperature 0.7");
}

TEST(SamplerFrequencyTest, TopK) {
  SamplingParams p = with_seed(1002);
  p.top_k = 3;
  expect_matches_reference(p, 3, "top_k 3");
}

TEST(SamplerFrequencyTest, TopP) {
  SamplingParams p = with_seed(1003);
  p.top_p = 0.8;
  expect_matches_reference(p, 3, "top_p 0.8");
}

// Top-p over the renormalised top-k keeps 3 tokens here; over the full
// softmax it would keep 4, so this also pins the order top-k then top-p.
TEST(SamplerFrequencyTest, TopKThenTopP) {
  SamplingParams p = with_seed(1004);
  p.top_k = 4;
  p.top_p = 0.9;
  expect_matches_reference(p, 3, "top_k 4 + top_p 0.9");
}

// Top-p 0.8 keeps 3 tokens at temperature 1 but 4 at 1.5: this pins
// temperature before top-p.
TEST(SamplerFrequencyTest, TemperatureThenTopP) {
  SamplingParams p = with_seed(1005);
  p.temperature = 1.5;
  p.top_p = 0.8;
  expect_matches_reference(p, 4, "temperature 1.5 + top_p 0.8");
}

// Tests the kept set exactly where the nucleus spans a few hundred tokens of
// 2,000, so the sampler's top-p selection grows past its first candidates
// (64, then 256, then 1,024): every token of the reference nucleus is drawn
// and no other, so one token too many or too few at the boundary fails.
TEST(SamplerFrequencyTest, LargeNucleusKeepsExactlyTheReferenceSet) {
  const int64_t V = 2000;
  std::vector<float> x(static_cast<size_t>(V));
  for (int64_t i = 0; i < V; i++) // ~1 in 7 tokens high; all logits distinct
    x[size_t(i)] = (i % 7 == 3 ? 0.0f : -5.0f) + 1e-4f * float(i * 7919 % V);
  std::vector<SamplingParams> ps(2, with_seed(1006));
  ps[0].top_p = 0.9;
  ps[1].top_k = 270;
  ps[1].top_p = 0.95;
  for (const SamplingParams &p : ps) {
    // No prefix of the sorted reference sits within 1e-6 of top_p, so
    // rounding cannot move the boundary.
    SamplingParams no_top_p = p;
    no_top_p.top_p = 1.0;
    std::vector<double> full = reference_distribution(x, no_top_p);
    std::sort(full.begin(), full.end(), std::greater<double>());
    double cum = 0.0;
    for (double q : full)
      ASSERT_GT(std::fabs((cum += q) - p.top_p), 1e-6);

    std::vector<double> ref = reference_distribution(x, p);
    // Each kept token has probability > 1/400: ~50 expected hits in 20,000.
    std::vector<int64_t> count(x.size(), 0);
    Sampler s(p, 0);
    for (int i = 0; i < 20000; i++)
      count[size_t(s.sample(x.data(), V).token)]++;
    size_t kept = 0;
    for (size_t t = 0; t < x.size(); t++) {
      kept += ref[t] > 0.0;
      EXPECT_EQ(count[t] > 0, ref[t] > 0.0) << "token " << t;
    }
    std::printf("  top_k %ld, top_p %.2f over %ld tokens: kept %zu\n",
                long(p.top_k), p.top_p, long(V), kept);
    EXPECT_GT(kept, 64u);
  }
}

// ---------------------------------------------------------------------------
// Edge cases
// ---------------------------------------------------------------------------

// Tests that ties at the k-th logit are all kept, as in vLLM and HF.
TEST(SamplerTest, TopKKeepsTiesAtTheBoundary) {
  SamplingParams p = with_seed(11);
  p.top_k = 2;
  Sampler s(p, 0);
  std::vector<float> x = {3.0f, 2.0f, 1.0f, 2.0f, 2.0f, 0.0f};
  std::vector<int64_t> count(x.size(), 0);
  for (int i = 0; i < 20000; i++)
    count[size_t(s.sample(x.data(), int64_t(x.size())).token)]++;
  for (size_t t : {0, 1, 3, 4})
    EXPECT_GT(count[t], 0) << t;
  EXPECT_EQ(count[2], 0);
  EXPECT_EQ(count[5], 0);
}

// Tests that top_k = 1, a tiny top_p and a tiny temperature all give argmax,
// and that top_k >= vocab is the same as off.
TEST(SamplerTest, DegenerateFiltersReduceToArgmaxOrOff) {
  std::vector<float> x = random_logits(500, 12, -3.0f, 3.0f);
  int32_t want = int32_t(std::max_element(x.begin(), x.end()) - x.begin());
  std::vector<SamplingParams> ps(3, with_seed(13));
  ps[0].top_k = 1;
  ps[1].top_p = 1e-9;
  ps[2].temperature = 1e-300; // (x - max) / T underflows to -inf, not NaN
  for (const SamplingParams &p : ps) {
    Sampler s(p, 0);
    for (int32_t t : draw_n(s, x, 20))
      EXPECT_EQ(t, want);
  }
  SamplingParams big = with_seed(14), off = with_seed(14);
  big.top_k = 500;
  Sampler sb(big, 0), so(off, 0);
  EXPECT_EQ(draw_n(sb, x, 50), draw_n(so, x, 50));
  big.top_k = 1 << 20;
  Sampler sb2(big, 0), so2(off, 0);
  EXPECT_EQ(draw_n(sb2, x, 50), draw_n(so2, x, 50));
}

// Tests the non-finite rules: -inf and NaN never drawn; +inf tokens share
// all the mass; all -inf is uniform; no NaN logprob anywhere.
TEST(SamplerTest, NonFiniteLogits) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  SamplingParams p = with_seed(15);
  p.top_p = 0.99;
  p.top_k = 5;
  Sampler s(p, 0);

  std::vector<float> some = {-kInfF, 1.0f, nan, 0.5f, -kInfF, 2.0f, nan};
  for (int i = 0; i < 2000; i++) {
    Sample out = s.sample(some.data(), int64_t(some.size()));
    EXPECT_TRUE(out.token == 1 || out.token == 3 || out.token == 5);
    EXPECT_TRUE(std::isfinite(out.logprob));
  }

  std::vector<float> pos = {1.0f, kInfF, 3.0f, kInfF, nan};
  std::vector<int64_t> count(pos.size(), 0);
  for (int i = 0; i < 2000; i++) {
    Sample out = s.sample(pos.data(), int64_t(pos.size()));
    count[size_t(out.token)]++;
    EXPECT_NEAR(out.logprob, std::log(0.5), 1e-12);
  }
  EXPECT_EQ(count[1] + count[3], 2000);
  EXPECT_GT(count[1], 0);
  EXPECT_GT(count[3], 0);

  std::vector<float> none = {-kInfF, nan, -kInfF, -kInfF};
  for (double t : {0.0, 1.0}) {
    SamplingParams q = with_seed(16);
    q.temperature = t;
    Sampler g(q, 0);
    for (int i = 0; i < 100; i++) {
      Sample out = g.sample(none.data(), int64_t(none.size()));
      EXPECT_GE(out.token, 0);
      EXPECT_LT(out.token, 4);
      EXPECT_NEAR(out.logprob, -std::log(4.0), 1e-12);
      if (t == 0.0) {
        EXPECT_EQ(out.token, 0);
      }
    }
  }
}

TEST(SamplerTest, IsStop) {
  SamplingParams p;
  p.stop_token_ids = {2, 50256};
  Sampler s(p, 0);
  EXPECT_TRUE(s.is_stop(2));
  EXPECT_TRUE(s.is_stop(50256));
  EXPECT_FALSE(s.is_stop(0));
  EXPECT_FALSE(s.is_stop(3));
  EXPECT_FALSE(Sampler(SamplingParams{}, 0).is_stop(2));
}

// ---------------------------------------------------------------------------
// validate()
// ---------------------------------------------------------------------------

// Tests that the OpenAI defaults are valid and every bad field is named with
// what was expected and what was given.
TEST(SamplingParamsTest, ValidateMessages) {
  SamplingParams d;
  EXPECT_EQ(d.temperature, 1.0);
  EXPECT_EQ(d.top_p, 1.0);
  EXPECT_EQ(d.top_k, 0);
  EXPECT_FALSE(d.seed.has_value());
  EXPECT_EQ(d.max_tokens, 16);
  EXPECT_FALSE(d.logprobs);
  EXPECT_EQ(d.validate(100), "");

  auto msg = [](auto edit) {
    SamplingParams p;
    edit(p);
    return p.validate(100);
  };
  EXPECT_EQ(msg([](SamplingParams &p) { p.temperature = 0.0; }), "");
  EXPECT_EQ(msg([](SamplingParams &p) { p.temperature = -0.5; }),
            "temperature must be finite and >= 0 (0 = greedy), got -0.5");
  EXPECT_EQ(msg([](SamplingParams &p) { p.temperature = NAN; }),
            "temperature must be finite and >= 0 (0 = greedy), got nan");
  EXPECT_EQ(msg([](SamplingParams &p) { p.temperature = INFINITY; }),
            "temperature must be finite and >= 0 (0 = greedy), got inf");
  EXPECT_EQ(msg([](SamplingParams &p) { p.top_p = 0.0; }),
            "top_p must be in (0, 1], got 0");
  EXPECT_EQ(msg([](SamplingParams &p) { p.top_p = 1.5; }),
            "top_p must be in (0, 1], got 1.5");
  EXPECT_EQ(msg([](SamplingParams &p) { p.top_p = NAN; }),
            "top_p must be in (0, 1], got nan");
  EXPECT_EQ(msg([](SamplingParams &p) { p.top_k = -1; }),
            "top_k must be >= 0 (0 = off), got -1");
  EXPECT_EQ(msg([](SamplingParams &p) { p.max_tokens = 0; }),
            "max_tokens must be >= 1, got 0");
  EXPECT_EQ(msg([](SamplingParams &p) { p.stop_token_ids = {0, 99}; }), "");
  EXPECT_EQ(msg([](SamplingParams &p) {
              p.stop_token_ids = {5, 100};
            }),
            "stop_token_ids[1] must be in [0, 100), got 100");
  EXPECT_EQ(msg([](SamplingParams &p) { p.stop_token_ids = {-3}; }),
            "stop_token_ids[0] must be in [0, 100), got -3");
  // One line, the first bad field.
  EXPECT_EQ(msg([](SamplingParams &p) {
              p.top_k = -2;
              p.max_tokens = -1;
            }),
            "top_k must be >= 0 (0 = off), got -2");
}

} // namespace
