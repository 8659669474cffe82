// Hugging Face checkpoint names onto the model's; see hf_checkpoint.h.
#include "runtime/io/hf_checkpoint.h"

#include "runtime/io/safetensors.h"

namespace llmc::io {
namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Buffers HF saves next to the parameters that are not parameters.
bool is_buffer(const std::string &name) {
  return ends_with(name, ".attn.bias") ||
         ends_with(name, ".attn.masked_bias") ||
         ends_with(name, ".rotary_emb.inv_freq");
}

const std::string kGPT2Prefix = "transformer.";

} // namespace

void load_hf_checkpoint(const std::string &path,
                        const std::vector<TensorSpec> &specs,
                        const std::function<float *(const std::string &)> &dst,
                        const std::function<void(const std::string &)> &read) {
  SafetensorsReader reader(path);
  // The file's name for each model tensor.
  std::vector<TensorSpec> in_file = specs;
  const std::vector<int64_t> *embedding = nullptr;
  bool has_head = false;
  for (TensorSpec &spec : in_file) {
    std::string bare =
        spec.name.compare(0, kGPT2Prefix.size(), kGPT2Prefix) == 0
            ? spec.name.substr(kGPT2Prefix.size())
            : "";
    if (!reader.contains(spec.name) && !bare.empty() && reader.contains(bare))
      spec.name = bare;
    if (ends_with(spec.name, "wte.weight") ||
        spec.name == "model.embed_tokens.weight")
      embedding = &spec.shape;
    has_head |= spec.name == "lm_head.weight";
  }
  reader.check_against(in_file, [&](const TensorInfo &t) {
    bool tied_head = t.name == "lm_head.weight" && !has_head && embedding &&
                     t.shape == *embedding;
    return is_buffer(t.name) || tied_head;
  });
  for (size_t i = 0; i < specs.size(); ++i)
    if (float *out = dst(specs[i].name)) {
      reader.read(in_file[i].name, out);
      if (read)
        read(specs[i].name);
    }
}

} // namespace llmc::io
