//===- ModelConfig.cpp - Hugging Face config.json of GPT-2 and LLaMA ------===//
//
// Every field is read through one small reader that knows the file, the field
// and what it expected, so each error is a single precise line.
//
//===----------------------------------------------------------------------===//

#include "frontends/hf/ModelConfig.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <optional>

using namespace llmc;
namespace json = llvm::json;

namespace {

/// Describes a JSON value for an error message: `string "12"`, `null`, ...
std::string describe(const json::Value &value) {
  switch (value.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return *value.getAsBoolean() ? "true" : "false";
  case json::Value::Number:
    return llvm::formatv("{0}", value).str();
  case json::Value::String:
    return llvm::formatv("string {0}", value).str();
  case json::Value::Array:
    return "an array";
  case json::Value::Object:
    return "an object";
  }
  return "a value";
}

/// Reads typed fields of one config object, remembering the first error.
class FieldReader {
public:
  FieldReader(const json::Object &object, llvm::StringRef fileName)
      : object(object), fileName(fileName) {}

  /// A positive integer; `fallback` is used when the field is absent or null.
  int64_t positiveInt(llvm::StringRef field,
                      std::optional<int64_t> fallback = std::nullopt) {
    const json::Value *value =
        lookup(field, fallback.has_value(), "a positive integer");
    if (!value)
      return fallback.value_or(0);
    std::optional<int64_t> number = value->getAsInteger();
    if (!number || *number <= 0 || value->kind() != json::Value::Number)
      return fail(field, "a positive integer", *value), 0;
    return *number;
  }

  /// A positive number; `fallback` is used when the field is absent or null.
  double positiveNumber(llvm::StringRef field,
                        std::optional<double> fallback = std::nullopt) {
    const json::Value *value =
        lookup(field, fallback.has_value(), "a positive number");
    if (!value)
      return fallback.value_or(0.0);
    std::optional<double> number = value->getAsNumber();
    if (!number || !(*number > 0.0))
      return fail(field, "a positive number", *value), 0.0;
    return *number;
  }

  bool boolean(llvm::StringRef field, bool fallback) {
    const json::Value *value = lookup(field, /*optional=*/true, "");
    if (!value)
      return fallback;
    std::optional<bool> flag = value->getAsBoolean();
    if (!flag)
      return fail(field, "true or false", *value), fallback;
    return *flag;
  }

  /// A string; `expected` describes the accepted values for errors.
  std::string string(llvm::StringRef field, llvm::StringRef expected,
                     std::optional<llvm::StringRef> fallback = std::nullopt) {
    const json::Value *value = lookup(field, fallback.has_value(), expected);
    if (!value)
      return fallback.value_or("").str();
    std::optional<llvm::StringRef> text = value->getAsString();
    if (!text)
      return fail(field, expected, *value), "";
    return text->str();
  }

  /// Rejects a field that would change the model in a way llmc does not
  /// build, unless it is absent or has its neutral value.
  void requireAbsentOr(llvm::StringRef field, const json::Value &neutral,
                       llvm::StringRef why) {
    const json::Value *value = object.get(field);
    if (value && value->kind() != json::Value::Null && *value != neutral)
      fail(field, llvm::formatv("{0} ({1})", describe(neutral), why).str(),
           *value);
  }

  void fail(llvm::StringRef field, llvm::StringRef expected,
            const json::Value &got) {
    setError(llvm::formatv("field '{0}': expected {1}, got {2}", field,
                           expected, describe(got)));
  }

  /// Records a constraint between fields that does not hold.
  void setError(const llvm::Twine &message) {
    if (error.empty())
      error = (fileName + ": " + message).str();
  }

  llvm::Error takeError() {
    if (error.empty())
      return llvm::Error::success();
    return llvm::createStringError(llvm::inconvertibleErrorCode(), error);
  }

private:
  /// The field's value; null or absent optional fields give nullptr, and a
  /// missing required field records an error saying what was expected.
  const json::Value *lookup(llvm::StringRef field, bool optional,
                            llvm::StringRef expected) {
    const json::Value *value = object.get(field);
    if (value && value->kind() == json::Value::Null && optional)
      return nullptr;
    if (!value && !optional)
      setError(llvm::formatv("field '{0}' is missing: expected {1}", field,
                             expected));
    return value;
  }

  const json::Object &object;
  llvm::StringRef fileName;
  std::string error;
};

void readGPT2(FieldReader &read, ModelConfig &config) {
  config.family = ModelFamily::GPT2;
  config.vocabSize = read.positiveInt("vocab_size");
  config.hiddenSize = read.positiveInt("n_embd");
  config.numLayers = read.positiveInt("n_layer");
  config.numHeads = read.positiveInt("n_head");
  config.numKVHeads = config.numHeads;
  config.maxPositions = read.positiveInt("n_positions");
  config.normEpsilon = read.positiveNumber("layer_norm_epsilon");
  // HF: n_inner = null means 4 * n_embd. Clamped so that an absurd n_embd
  // cannot overflow here: the size limits below refuse it with one line.
  config.intermediateSize =
      read.positiveInt("n_inner", 4 * std::clamp<int64_t>(config.hiddenSize, 1,
                                                          int64_t(1) << 60));
  std::string act = read.string(
      "activation_function", "\"gelu_new\", \"gelu_pytorch_tanh\" or \"gelu\"",
      llvm::StringRef("gelu_new"));
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast")
    config.geluTanh = true;
  else if (act == "gelu")
    config.geluTanh = false;
  else
    read.fail("activation_function",
              "\"gelu_new\", \"gelu_pytorch_tanh\" or \"gelu\"",
              json::Value(act));
  config.tieWordEmbeddings = true; // GPT2LMHeadModel always ties lm_head.
  read.requireAbsentOr("scale_attn_by_inverse_layer_idx", false,
                       "llmc builds GPT-2's standard attention scale");
  read.requireAbsentOr("reorder_and_upcast_attn", false,
                       "not supported by llmc");
}

void readLlama(FieldReader &read, ModelConfig &config) {
  config.family = ModelFamily::Llama;
  config.vocabSize = read.positiveInt("vocab_size");
  config.hiddenSize = read.positiveInt("hidden_size");
  config.numLayers = read.positiveInt("num_hidden_layers");
  config.numHeads = read.positiveInt("num_attention_heads");
  // HF: num_key_value_heads absent means multi-head attention.
  config.numKVHeads = read.positiveInt("num_key_value_heads",
                                       std::max<int64_t>(config.numHeads, 1));
  config.intermediateSize = read.positiveInt("intermediate_size");
  config.maxPositions = read.positiveInt("max_position_embeddings");
  config.normEpsilon = read.positiveNumber("rms_norm_eps");
  config.ropeTheta = read.positiveNumber("rope_theta", 10000.0);
  config.tieWordEmbeddings = read.boolean("tie_word_embeddings", false);
  read.requireAbsentOr("hidden_act", "silu", "LLaMA's SwiGLU MLP");
  read.requireAbsentOr("rope_scaling", nullptr,
                       "rope scaling is not supported");
  read.requireAbsentOr("attention_bias", false, "not supported by llmc");
  read.requireAbsentOr("mlp_bias", false, "not supported by llmc");
}

/// Checks the constraints between fields that a model needs.
/// The largest sizes llmc compiles: every tensor of the model then has at
/// most 2^40 elements (vocab x hidden), so no count in the compiler, the
/// planner or the runtime overflows, and nothing allocates without end.
struct SizeLimit {
  const char *gpt2, *llama;
  int64_t ModelConfig::*size;
  int64_t limit;
};
constexpr SizeLimit kSizeLimits[] = {
    {"vocab_size", "vocab_size", &ModelConfig::vocabSize, int64_t(1) << 22},
    {"n_embd", "hidden_size", &ModelConfig::hiddenSize, int64_t(1) << 18},
    {"n_layer", "num_hidden_layers", &ModelConfig::numLayers, int64_t(1) << 14},
    {"n_head", "num_attention_heads", &ModelConfig::numHeads, int64_t(1) << 14},
    {"n_positions", "max_position_embeddings", &ModelConfig::maxPositions,
     int64_t(1) << 22},
    {"n_inner", "intermediate_size", &ModelConfig::intermediateSize,
     int64_t(1) << 20},
};

void checkShapes(FieldReader &read, const ModelConfig &config, bool isGPT2) {
  for (const SizeLimit &s : kSizeLimits)
    if (config.*s.size > s.limit) {
      read.setError(llvm::formatv("{0}={1} is larger than llmc compiles "
                                  "(at most {2})",
                                  isGPT2 ? s.gpt2 : s.llama, config.*s.size,
                                  s.limit));
      return;
    }
  llvm::StringRef hidden = isGPT2 ? "n_embd" : "hidden_size";
  llvm::StringRef heads = isGPT2 ? "n_head" : "num_attention_heads";
  if (config.hiddenSize % config.numHeads != 0) {
    read.setError(llvm::formatv("{0}={1} is not divisible by {2}={3}", hidden,
                                config.hiddenSize, heads, config.numHeads));
    return;
  }
  if (config.numHeads % config.numKVHeads != 0) {
    read.setError(llvm::formatv(
        "num_attention_heads={0} is not divisible by num_key_value_heads={1}",
        config.numHeads, config.numKVHeads));
    return;
  }
  if (!isGPT2 && config.headDim() % 2 != 0)
    read.setError(llvm::formatv(
        "head dimension hidden_size/num_attention_heads={0} must be even for "
        "rotary embeddings",
        config.headDim()));
}

} // namespace

/// How deep arrays and objects nest in `text` (outside strings): the JSON
/// parser recurses once per level, so depth is bounded before it runs.
static int64_t nestingDepth(llvm::StringRef text) {
  int64_t depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false; // the character after a backslash never ends it
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    else if (c == '[' || c == '{')
      deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}')
      --depth;
  }
  return deepest;
}

llvm::Expected<ModelConfig> llmc::parseModelConfig(llvm::StringRef text,
                                                   llvm::StringRef fileName) {
  constexpr int64_t kMaxDepth = 64;
  if (nestingDepth(text) > kMaxDepth)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "%s: malformed JSON: nested deeper than %lld levels",
        fileName.str().c_str(), (long long)kMaxDepth);
  llvm::Expected<json::Value> parsed = json::parse(text);
  if (!parsed)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(), "%s: malformed JSON %s",
        fileName.str().c_str(), llvm::toString(parsed.takeError()).c_str());
  const json::Object *object = parsed->getAsObject();
  if (!object)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(), "%s: expected a JSON object, got %s",
        fileName.str().c_str(), describe(*parsed).c_str());

  FieldReader read(*object, fileName);
  ModelConfig config;
  std::string modelType = read.string("model_type", "\"gpt2\" or \"llama\"");
  if (modelType == "gpt2")
    readGPT2(read, config);
  else if (modelType == "llama")
    readLlama(read, config);
  else if (object->get("model_type") &&
           object->get("model_type")->getAsString())
    read.fail("model_type", "\"gpt2\" or \"llama\"", json::Value(modelType));
  if (llvm::Error error = read.takeError())
    return std::move(error);
  checkShapes(read, config, modelType == "gpt2");
  if (llvm::Error error = read.takeError())
    return std::move(error);
  return config;
}

llvm::Expected<ModelConfig> llmc::loadModelConfig(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "%s: cannot read: %s",
                                   path.str().c_str(),
                                   buffer.getError().message().c_str());
  return parseModelConfig((*buffer)->getBuffer(), path);
}
