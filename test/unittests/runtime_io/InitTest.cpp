//===- InitTest.cpp - GPT-2 style initialisation --------------------------===//

#include "runtime/io/init.h"

#include "TestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace llmc::io;
using namespace llmc::io::testing;

namespace {

/// GPT-2's parameters for one layer, as frontends/hf/ModelBuilder.cpp lists.
std::vector<TensorSpec> gpt2_specs(int64_t V, int64_t P, int64_t C, int64_t L) {
  std::vector<TensorSpec> s = {{"transformer.wte.weight", {V, C}},
                               {"transformer.wpe.weight", {P, C}}};
  for (int64_t l = 0; l < L; ++l) {
    std::string h = "transformer.h." + std::to_string(l) + ".";
    s.insert(s.end(), {{h + "ln_1.weight", {C}},
                       {h + "ln_1.bias", {C}},
                       {h + "attn.c_attn.weight", {C, 3 * C}},
                       {h + "attn.c_attn.bias", {3 * C}},
                       {h + "attn.c_proj.weight", {C, C}},
                       {h + "attn.c_proj.bias", {C}},
                       {h + "ln_2.weight", {C}},
                       {h + "ln_2.bias", {C}},
                       {h + "mlp.c_fc.weight", {C, 4 * C}},
                       {h + "mlp.c_fc.bias", {4 * C}},
                       {h + "mlp.c_proj.weight", {4 * C, C}},
                       {h + "mlp.c_proj.bias", {C}}});
  }
  s.push_back({"transformer.ln_f.weight", {C}});
  s.push_back({"transformer.ln_f.bias", {C}});
  return s;
}

struct Stats {
  double mean, std, within_one_std;
};

Stats stats(const std::vector<float> &v, double sigma) {
  double sum = 0, sq = 0;
  size_t inside = 0;
  for (float x : v) {
    sum += x;
    sq += static_cast<double>(x) * x;
    inside += std::fabs(x) < sigma;
  }
  double n = static_cast<double>(v.size()), mean = sum / n;
  return {mean, std::sqrt(sq / n - mean * mean),
          static_cast<double>(inside) / n};
}

/// Checks v looks like N(0, sigma^2): mean within 5 standard errors, std
/// within 2%, and the one-sigma mass 0.6827 within 0.005 (a uniform or
/// wrongly scaled generator fails this).
void expect_normal(const std::vector<float> &v, double sigma,
                   const std::string &what) {
  Stats s = stats(v, sigma);
  double n = static_cast<double>(v.size());
  EXPECT_LT(std::fabs(s.mean), 5 * sigma / std::sqrt(n)) << what;
  EXPECT_NEAR(s.std / sigma, 1.0, 0.02) << what;
  EXPECT_NEAR(s.within_one_std, 0.6827, 0.005) << what;
}

bool same_bits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

TEST(Init, RulesGPT2) {
  const int64_t L = 12;
  const double resid = 0.02 / std::sqrt(24.0);
  struct Case {
    TensorSpec spec;
    InitKind kind;
    double std;
  } cases[] = {
      {{"transformer.wte.weight", {50257, 768}}, InitKind::Normal, 0.02},
      {{"transformer.wpe.weight", {1024, 768}}, InitKind::Normal, 0.02},
      {{"transformer.h.0.attn.c_attn.weight", {768, 2304}},
       InitKind::Normal,
       0.02},
      {{"transformer.h.0.attn.c_proj.weight", {768, 768}},
       InitKind::Normal,
       resid},
      {{"transformer.h.11.mlp.c_proj.weight", {3072, 768}},
       InitKind::Normal,
       resid},
      {{"transformer.h.0.mlp.c_fc.weight", {768, 3072}},
       InitKind::Normal,
       0.02},
      {{"transformer.h.0.attn.c_proj.bias", {768}}, InitKind::Zeros, 0},
      {{"transformer.h.0.ln_1.weight", {768}}, InitKind::Ones, 0},
      {{"transformer.h.0.ln_1.bias", {768}}, InitKind::Zeros, 0},
      {{"transformer.ln_f.weight", {768}}, InitKind::Ones, 0},
      {{"model.embed_tokens.weight", {32000, 4096}}, InitKind::Normal, 0.02},
      {{"model.layers.0.self_attn.q_proj.weight", {4096, 4096}},
       InitKind::Normal,
       0.02},
      {{"model.layers.0.self_attn.o_proj.weight", {4096, 4096}},
       InitKind::Normal,
       resid},
      {{"model.layers.3.mlp.down_proj.weight", {4096, 11008}},
       InitKind::Normal,
       resid},
      {{"model.layers.3.mlp.gate_proj.weight", {11008, 4096}},
       InitKind::Normal,
       0.02},
      {{"model.layers.0.input_layernorm.weight", {4096}}, InitKind::Ones, 0},
      {{"model.layers.0.post_attention_layernorm.weight", {4096}},
       InitKind::Ones,
       0},
      {{"model.norm.weight", {4096}}, InitKind::Ones, 0},
      {{"lm_head.weight", {32000, 4096}}, InitKind::Normal, 0.02},
  };
  for (const Case &c : cases) {
    InitRule r = init_rule(c.spec, L);
    EXPECT_EQ(r.kind, c.kind) << c.spec.name;
    EXPECT_DOUBLE_EQ(r.std, c.std) << c.spec.name;
  }
}

// Tests zeros, ones and both normal scales on a small GPT-2 (C = 256, so the
// big tensors have >= 65536 elements).
TEST(Init, ValuesAndStatistics) {
  const int64_t L = 2;
  auto params = init_parameters(gpt2_specs(512, 256, 256, L), L, 1337);
  EXPECT_EQ(params.size(), 2u + 12 * L + 2);
  for (const char *name :
       {"transformer.h.0.ln_1.weight", "transformer.h.1.ln_2.weight",
        "transformer.ln_f.weight"})
    EXPECT_EQ(params.at(name), std::vector<float>(256, 1.0f)) << name;
  for (const char *name :
       {"transformer.h.0.ln_1.bias", "transformer.h.1.attn.c_attn.bias",
        "transformer.h.0.mlp.c_fc.bias", "transformer.ln_f.bias"})
    for (float x : params.at(name))
      ASSERT_EQ(x, 0.0f) << name;
  EXPECT_EQ(params.at("transformer.h.0.mlp.c_fc.bias").size(), 1024u);
  expect_normal(params.at("transformer.wte.weight"), 0.02, "wte");
  expect_normal(params.at("transformer.wpe.weight"), 0.02, "wpe");
  expect_normal(params.at("transformer.h.1.attn.c_attn.weight"), 0.02,
                "c_attn");
  expect_normal(params.at("transformer.h.0.mlp.c_fc.weight"), 0.02, "c_fc");
  double resid = 0.02 / std::sqrt(2.0 * L);
  expect_normal(params.at("transformer.h.0.mlp.c_proj.weight"), resid,
                "mlp.c_proj");
  expect_normal(params.at("transformer.h.1.attn.c_proj.weight"), resid,
                "attn.c_proj");
}

// Tests determinism: same seed, same bits; another seed or name, other values.
TEST(Init, Deterministic) {
  auto specs = gpt2_specs(64, 32, 16, 1);
  auto a = init_parameters(specs, 1, 7), b = init_parameters(specs, 1, 7);
  auto c = init_parameters(specs, 1, 8);
  for (const auto &[name, values] : a) {
    EXPECT_TRUE(same_bits(values, b.at(name))) << name;
    if (name.find("wte") != std::string::npos)
      EXPECT_FALSE(same_bits(values, c.at(name))) << name;
  }
  std::vector<float> x(64), y(64);
  fill_normal("a.weight", 7, 0.02, x.data(), 64);
  fill_normal("b.weight", 7, 0.02, y.data(), 64);
  EXPECT_FALSE(same_bits(x, y));
}

// Tests that a tensor's values do not depend on the other tensors listed, or
// their order, and that a longer tensor extends a shorter one of that name.
TEST(Init, IndependentOfOtherTensors) {
  auto specs = gpt2_specs(64, 32, 16, 2);
  auto all = init_parameters(specs, 2, 3);
  std::vector<TensorSpec> reversed(specs.rbegin(), specs.rend());
  auto rev = init_parameters(reversed, 2, 3);
  auto one =
      init_parameters({{"transformer.h.1.attn.c_proj.weight", {16, 16}}}, 2, 3);
  for (const auto &[name, values] : all)
    EXPECT_TRUE(same_bits(values, rev.at(name))) << name;
  EXPECT_TRUE(same_bits(one.at("transformer.h.1.attn.c_proj.weight"),
                        all.at("transformer.h.1.attn.c_proj.weight")));
  std::vector<float> odd(7), even(8);
  fill_normal("x", 3, 1.0, odd.data(), 7);
  fill_normal("x", 3, 1.0, even.data(), 8);
  EXPECT_TRUE(
      same_bits(odd, std::vector<float>(even.begin(), even.begin() + 7)));
}

// Pins the generator: these values are part of the format (a Python
// re-implementation of the documented formula must give them too).
TEST(Init, PinnedValues) {
  std::vector<float> v(4);
  fill_normal("transformer.wte.weight", 1337, 1.0, v.data(), 4);
  // From an independent Python implementation of the formula in init.h.
  EXPECT_EQ(v, (std::vector<float>{0x1.323d7cp+0f, 0x1.d6f1bcp-1f,
                                   -0x1.811294p-1f, 0x1.fd0eb6p+0f}));
}

TEST(Init, Errors) {
  EXPECT_EQ(error_of([] {
              init_parameters({{"a.weight", {2, 2}}}, 0, 1);
            }),
            "init: n_layer 0 must be positive");
  EXPECT_EQ(error_of([] {
              init_parameters({{"scale", {}}}, 1, 1);
            }),
            "init: tensor 'scale' [] has no initialisation rule; expected a "
            "'.bias', a rank-1 '.weight' or a tensor of rank >= 2");
  EXPECT_EQ(
      error_of([] {
        init_parameters({{"inv_freq", {8}}}, 1, 1);
      }),
      "init: tensor 'inv_freq' [8] has no initialisation rule; expected a "
      "'.bias', a rank-1 '.weight' or a tensor of rank >= 2");
  EXPECT_EQ(error_of([] {
              init_parameters({{"a.bias", {2}}, {"a.bias", {2}}}, 1, 1);
            }),
            "init: tensor 'a.bias' is listed twice");
  EXPECT_EQ(error_of([] {
              init_parameters({{"w.weight", {3, -2}}}, 1, 1);
            }),
            "init: tensor 'w.weight': shape [3, -2] has a negative dimension");
}
