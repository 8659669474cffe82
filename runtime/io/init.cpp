//===- init.cpp - GPT-2 style parameter initialisation --------------------===//

#include "runtime/io/init.h"

#include "runtime/io/error.h"
#include "runtime/io/random.h"

#include <algorithm>
#include <cmath>

using namespace llmc::io;

static bool ends_with(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

static bool is_residual_projection(const std::string &name) {
  for (const char *suffix :
       {".attn.c_proj.weight", ".mlp.c_proj.weight", ".self_attn.o_proj.weight",
        ".mlp.down_proj.weight"})
    if (ends_with(name, suffix))
      return true;
  return false;
}

InitRule llmc::io::init_rule(const TensorSpec &spec, int64_t n_layer) {
  if (n_layer <= 0)
    throw InputError("init: n_layer " + std::to_string(n_layer) +
                     " must be positive");
  if (ends_with(spec.name, ".bias"))
    return {InitKind::Zeros, 0.0};
  if (spec.shape.size() == 1 && ends_with(spec.name, ".weight"))
    return {InitKind::Ones, 0.0};
  if (spec.shape.size() >= 2) {
    if (is_residual_projection(spec.name))
      return {InitKind::Normal,
              kInitStd / std::sqrt(2.0 * static_cast<double>(n_layer))};
    return {InitKind::Normal, kInitStd};
  }
  throw InputError("init: tensor '" + spec.name + "' " +
                   format_shape(spec.shape) +
                   " has no initialisation rule; expected a '.bias', a rank-1 "
                   "'.weight' or a tensor of rank >= 2");
}

void llmc::io::fill_normal(const std::string &name, uint64_t seed, double std,
                           float *dst, int64_t n) {
  const uint64_t key = splitmix64(seed ^ splitmix64(fnv1a64(name)));
  const double two_pi = 6.283185307179586476925286766559;
  const double two_pow_m53 = 1.0 / 9007199254740992.0;
  for (int64_t k = 0; k < n; k += 2) {
    uint64_t c = static_cast<uint64_t>(k);
    uint64_t x1 = splitmix64(key + c * kGoldenGamma);
    uint64_t x2 = splitmix64(key + (c + 1) * kGoldenGamma);
    double u1 = static_cast<double>((x1 >> 11) + 1) * two_pow_m53;
    double u2 = static_cast<double>(x2 >> 11) * two_pow_m53;
    double r = std * std::sqrt(-2.0 * std::log(u1));
    dst[k] = static_cast<float>(r * std::cos(two_pi * u2));
    if (k + 1 < n)
      dst[k + 1] = static_cast<float>(r * std::sin(two_pi * u2));
  }
}

void llmc::io::init_parameter(const TensorSpec &spec, int64_t n_layer,
                              uint64_t seed, float *dst) {
  int64_t n = checked_numel(spec.shape, "init: tensor '" + spec.name + "'");
  InitRule rule = init_rule(spec, n_layer);
  switch (rule.kind) {
  case InitKind::Zeros:
    std::fill(dst, dst + n, 0.0f);
    break;
  case InitKind::Ones:
    std::fill(dst, dst + n, 1.0f);
    break;
  case InitKind::Normal:
    fill_normal(spec.name, seed, rule.std, dst, n);
    break;
  }
}

std::map<std::string, std::vector<float>>
llmc::io::init_parameters(const std::vector<TensorSpec> &specs, int64_t n_layer,
                          uint64_t seed) {
  std::map<std::string, std::vector<float>> params;
  for (const TensorSpec &spec : specs) {
    int64_t n = checked_numel(spec.shape, "init: tensor '" + spec.name + "'");
    auto [it, inserted] = params.try_emplace(spec.name);
    if (!inserted)
      throw InputError("init: tensor '" + spec.name + "' is listed twice");
    it->second.resize(static_cast<size_t>(n));
    init_parameter(spec, n_layer, seed, it->second.data());
  }
  return params;
}
