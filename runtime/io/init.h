//===- init.h - GPT-2 style parameter initialisation ----------------------===//
//
// GPT-2's scheme (as in nanoGPT and llm.c), applied by name so it covers both
// families:
//   - names ending in ".bias": zeros;
//   - other rank-1 ".weight" (ln_1, ln_2, ln_f, *layernorm, norm): ones;
//   - residual output projections of rank >= 2 ("attn.c_proj.weight",
//     "mlp.c_proj.weight", "self_attn.o_proj.weight", "mlp.down_proj.weight"):
//     N(0, 0.02 / sqrt(2 * n_layer));
//   - every other tensor of rank >= 2 (embeddings, wpe, lm_head, ...):
//     N(0, 0.02).
// Values are a pure function of (seed, tensor name, element index), so a
// tensor's values do not depend on which other tensors exist or their order,
// and are the same on every platform (no std::normal_distribution):
//   key  = splitmix64(seed ^ splitmix64(fnv1a64(name)))
//   x_c  = splitmix64(key + c * 0x9E3779B97F4A7C15)      (see random.h)
//   for elements 2j and 2j+1:  u1 = ((x_2j >> 11) + 1) / 2^53 in (0, 1],
//   u2 = (x_2j+1 >> 11) / 2^53,  r = sqrt(-2 ln u1),
//   z_2j = r cos(2 pi u2), z_2j+1 = r sin(2 pi u2)   (Box-Muller in double),
//   value = float(std * z).
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_RUNTIME_IO_INIT_H
#define LLMC_RUNTIME_IO_INIT_H

#include "runtime/io/tensor_spec.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace llmc::io {

inline constexpr double kInitStd = 0.02;

enum class InitKind { Normal, Zeros, Ones };

struct InitRule {
  InitKind kind;
  double std; // for Normal
};

/// The rule for one parameter; throws InputError for a tensor no rule covers
/// (rank 0, or rank 1 named neither ".weight" nor ".bias") or n_layer <= 0.
InitRule init_rule(const TensorSpec &spec, int64_t n_layer);

/// dst[k] = float(std * z_k) for k in [0, n), z_k the k-th standard normal
/// of tensor `name` under `seed` (see the file comment).
void fill_normal(const std::string &name, uint64_t seed, double std, float *dst,
                 int64_t n);

/// Every parameter initialised by its rule; throws InputError on a bad
/// shape, a duplicate name or a tensor no rule covers.
// Initialises one tensor in place (the rule of init_rule, the values of
// fill_normal), so a runtime fills its arena without a second copy.
void init_parameter(const TensorSpec &spec, int64_t n_layer, uint64_t seed,
                    float *dst);

std::map<std::string, std::vector<float>>
init_parameters(const std::vector<TensorSpec> &specs, int64_t n_layer,
                uint64_t seed);

} // namespace llmc::io

#endif // LLMC_RUNTIME_IO_INIT_H
