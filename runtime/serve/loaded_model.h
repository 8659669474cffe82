// A model ready to generate, as `llmc generate` and `llmc serve` load it:
// the inference plan's runner with its weights, and the tokenizer that
// turns text into the model's token ids (when one is given).
#pragma once

#include "runtime/data/tokenizer.h"
#include "runtime/mesh_group.h"
#include "runtime/serve/model_runner.h"
#include "runtime/serve/openai_api.h"

#include <memory>
#include <optional>
#include <string>

namespace llmc::serve {

struct LoadedModel {
  // The ranks of a tensor-parallel plan (none on one device); declared
  // first so that it outlives the runner's in-flight collectives.
  std::unique_ptr<MeshGroup> mesh;
  std::unique_ptr<ModelRunner> runner;
  std::optional<data::Tokenizer> tokenizer;
  // Text in and out through the tokenizer; empty functions without one.
  // Valid while this LoadedModel stays where it is.
  TextCodec codec() const;
  // Whether this rank prints and serves: rank 0, or the only one.
  bool leader() const { return !mesh || mesh->leader(); }
};

// Throws plan::PlanError or io::InputError naming the file at fault: a plan
// not compiled with --mode infer, weights of another model, a tokenizer
// whose vocabulary the model does not have. A plan compiled with --mesh
// tp=T starts MPI and wants T ranks (mpirun -np T), each loading its shards.
LoadedModel load_model(const std::string &plan_path,
                       const std::string &weights_path,
                       const std::string &tokenizer_path);

} // namespace llmc::serve
