// A model ready to generate, as `llmc generate` and `llmc serve` load it:
// the inference plan's runner with its weights, and the tokenizer that
// turns text into the model's token ids (when one is given).
#pragma once

#include "runtime/data/tokenizer.h"
#include "runtime/serve/model_runner.h"
#include "runtime/serve/openai_api.h"

#include <memory>
#include <optional>
#include <string>

namespace llmc::serve {

struct LoadedModel {
  std::unique_ptr<ModelRunner> runner;
  std::optional<data::Tokenizer> tokenizer;
  // Text in and out through the tokenizer; empty functions without one.
  // Valid while this LoadedModel stays where it is.
  TextCodec codec() const;
};

// Throws plan::PlanError or io::InputError naming the file at fault: a plan
// not compiled with --mode infer, weights of another model, a tokenizer
// whose vocabulary the model does not have.
LoadedModel load_model(const std::string &plan_path,
                       const std::string &weights_path,
                       const std::string &tokenizer_path);

} // namespace llmc::serve
