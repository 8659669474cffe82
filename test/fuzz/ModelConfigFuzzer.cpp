//===- ModelConfigFuzzer.cpp - libFuzzer target: the config.json parser
//----===//
//
// Parses the input as a Hugging Face config.json. It must give a config or an
// llvm::Error, and a config it gives must keep the promises the compiler
// relies on: every size positive and within its limit, heads dividing the
// hidden size and kv heads dividing the heads.
//
//===----------------------------------------------------------------------===//
#include "frontends/hf/ModelConfig.h"

#include "llvm/Support/Error.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<llmc::ModelConfig> config =
      llmc::parseModelConfig(text, "config.json");
  if (!config) {
    llvm::consumeError(config.takeError());
    return 0;
  }
  const llmc::ModelConfig &c = *config;
  bool positive = c.vocabSize > 0 && c.hiddenSize > 0 && c.numLayers > 0 &&
                  c.numHeads > 0 && c.numKVHeads > 0 &&
                  c.intermediateSize > 0 && c.maxPositions > 0;
  bool bounded = c.vocabSize <= (int64_t(1) << 22) &&
                 c.hiddenSize <= (int64_t(1) << 18) &&
                 c.intermediateSize <= (int64_t(1) << 20);
  if (!positive || !bounded || c.hiddenSize % c.numHeads != 0 ||
      c.numHeads % c.numKVHeads != 0)
    __builtin_trap();
  return 0;
}
