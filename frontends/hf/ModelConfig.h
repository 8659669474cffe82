//===- ModelConfig.h - Hugging Face config.json of GPT-2 and LLaMA -*- C++ -*-//
//
// Reads a Hugging Face `config.json` into the few numbers that define a GPT-2
// or LLaMA model, checking every field it reads. Fields that Hugging Face
// itself defaults (rope_theta, num_key_value_heads, ...) take HF's defaults,
// so real configs load; every other field is required.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_FRONTENDS_HF_MODELCONFIG_H
#define LLMC_FRONTENDS_HF_MODELCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace llmc {

enum class ModelFamily { GPT2, Llama };

struct ModelConfig {
  ModelFamily family = ModelFamily::GPT2;
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0; // n_embd / hidden_size
  int64_t numLayers = 0;  // n_layer / num_hidden_layers
  int64_t numHeads = 0;   // n_head / num_attention_heads
  int64_t numKVHeads = 0; // num_key_value_heads (GPT-2: numHeads)
  int64_t intermediateSize =
      0;                    // n_inner (default 4·n_embd) / intermediate_size
  int64_t maxPositions = 0; // n_positions / max_position_embeddings
  double normEpsilon = 0.0; // layer_norm_epsilon / rms_norm_eps
  double ropeTheta = 0.0;   // LLaMA only
  bool tieWordEmbeddings = false; // GPT-2 always ties wte and lm_head
  bool geluTanh = true;           // GPT-2 only: gelu_new vs exact gelu

  int64_t headDim() const { return hiddenSize / numHeads; }
  llvm::StringRef modelType() const {
    return family == ModelFamily::GPT2 ? "gpt2" : "llama";
  }
};

/// Parses config.json text. Errors are one line: "FILE: field 'X': expected
/// Y, got Z", or name the constraint two fields break.
llvm::Expected<ModelConfig> parseModelConfig(llvm::StringRef text,
                                             llvm::StringRef fileName);

/// Reads and parses a config.json file.
llvm::Expected<ModelConfig> loadModelConfig(llvm::StringRef path);

} // namespace llmc

#endif // LLMC_FRONTENDS_HF_MODELCONFIG_H
