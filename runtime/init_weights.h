//===- init_weights.h - `llmc init`: a plan's initial weights
//--------------===//
#pragma once

#include <cstdint>
#include <string>

namespace llmc {

/// Writes the plan's parameters, initialised from `seed` with GPT-2's
/// scheme, as the full tensors in Hugging Face layout whatever the plan's
/// mesh.
void init_weights(const std::string &plan_path, uint64_t seed,
                  const std::string &out_path);

} // namespace llmc
