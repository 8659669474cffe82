// Loading Hugging Face checkpoints into a model's parameters. Real HF files
// name the same tensors in a few ways; this accepts them all:
//  - GPT-2 files saved from GPT2Model (or the hub's gpt2) lack the
//    "transformer." prefix: "h.0.attn.c_attn.weight" for
//    "transformer.h.0.attn.c_attn.weight";
//  - non-parameter buffers are skipped: GPT-2's causal masks
//    ("h.N.attn.bias", "h.N.attn.masked_bias") and LLaMA's
//    "rotary_emb.inv_freq";
//  - a tied "lm_head.weight" (the token embedding saved twice) is skipped
//    when the model ties it.
// Every other difference is an error listing each mismatch.
#pragma once

#include "runtime/io/tensor_spec.h"

#include <functional>
#include <string>
#include <vector>

namespace llmc::io {

// Reads every tensor of `specs` (model names, HF layout) from the safetensors
// file at `path` into dst(name), skipping those for which dst returns nullptr
// (another pipeline stage's); F16 and BF16 files are converted to F32. Calls
// read(name), when given, once each tensor is in dst(name), before the next
// one is asked for, so a caller can load through one tensor's buffer.
void load_hf_checkpoint(
    const std::string &path, const std::vector<TensorSpec> &specs,
    const std::function<float *(const std::string &)> &dst,
    const std::function<void(const std::string &)> &read = nullptr);

} // namespace llmc::io
