// Loading a model to generate with; see loaded_model.h.
#include "runtime/serve/loaded_model.h"

#include "runtime/io/checkpoint_dir.h"
#include "runtime/io/error.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>

namespace llmc::serve {

TextCodec LoadedModel::codec() const {
  TextCodec codec;
  if (!tokenizer)
    return codec;
  const data::Tokenizer *t = &*tokenizer;
  codec.encode = [t](const std::string &text) {
    std::vector<int> ids = t->encode(text);
    return std::vector<int32_t>(ids.begin(), ids.end());
  };
  // A model's vocabulary may be padded past the tokenizer's (to divide
  // over tp ranks, as Megatron pads it): ids the tokenizer does not have
  // decode to nothing, as Hugging Face's tokenizers skip unknown ids.
  codec.decode = [t](const std::vector<int32_t> &ids) {
    std::vector<int> known;
    for (int32_t id : ids)
      if (id >= 0 && id < t->vocab_size())
        known.push_back(id);
    return t->decode(known);
  };
  return codec;
}

LoadedModel load_model(const std::string &plan_path,
                       const std::string &weights_path,
                       const std::string &tokenizer_path) {
  LoadedModel model;
  // A run or step folder of `llmc train --save` gives its weights, checked
  // against the manifest's checksum, and its tokenizer when it holds one; a
  // safetensors file is read as is.
  io::CheckpointRef weights = io::open_checkpoint(
      weights_path, /*weights_only=*/true, /*verify_checksums=*/true);
  std::string tokenizer = tokenizer_path;
  for (const char *file : io::kTokenizerFiles)
    if (tokenizer.empty() && !weights.part(file).empty())
      tokenizer = weights.folder; // loads whichever the folder holds
  if (!tokenizer.empty())
    model.tokenizer.emplace(tokenizer);
  planfile::Plan plan = plan::read_plan_file(plan_path);
  int64_t tp = std::max<int64_t>(plan.model().tp(), 1);
  // Every launch gets a group, so a plan for one device refuses mpirun -np 2.
  model.mesh = std::make_unique<MeshGroup>(1, tp, 1, plan_path);
  model.runner = std::make_unique<ModelRunner>(std::move(plan), plan_path);
  model.runner->set_tensor_parallel(model.mesh->tp());
  int64_t vocab = model.runner->vocab();
  if (model.tokenizer && model.tokenizer->vocab_size() > vocab)
    throw io::InputError(tokenizer + ": a vocabulary of " +
                         std::to_string(model.tokenizer->vocab_size()) +
                         " tokens; the model has " + std::to_string(vocab));
  model.runner->load_weights(weights.weights);
  return model;
}

} // namespace llmc::serve
