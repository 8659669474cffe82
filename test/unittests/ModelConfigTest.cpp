// Tests that config.json files of both families parse into the right numbers,
// take Hugging Face's defaults, and fail with one precise line otherwise.

#include "frontends/hf/ModelConfig.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <gtest/gtest.h>

using namespace llmc;

namespace {

ModelConfig parseOk(const std::string &text) {
  llvm::Expected<ModelConfig> config = parseModelConfig(text, "config.json");
  if (!config) {
    ADD_FAILURE() << llvm::toString(config.takeError());
    return {};
  }
  return *config;
}

std::string parseError(const std::string &text) {
  llvm::Expected<ModelConfig> config = parseModelConfig(text, "config.json");
  if (config) {
    ADD_FAILURE() << "expected an error for: " << text;
    return "";
  }
  return llvm::toString(config.takeError());
}

const char *kGPT2 = R"({"model_type": "gpt2", "vocab_size": 100, "n_embd": 32,
  "n_layer": 2, "n_head": 4, "n_positions": 16, "layer_norm_epsilon": 1e-5})";
const char *kLlama = R"({"model_type": "llama", "vocab_size": 100,
  "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
  "intermediate_size": 40, "max_position_embeddings": 16,
  "rms_norm_eps": 1e-6})";

/// `base` with the fields of the JSON object text `overrides` set on top.
std::string withFields(const char *base, const std::string &overrides) {
  llvm::json::Value config = llvm::cantFail(llvm::json::parse(base));
  llvm::json::Value extra =
      llvm::cantFail(llvm::json::parse("{" + overrides + "}"));
  for (auto &[key, value] : *extra.getAsObject())
    (*config.getAsObject())[key] = value;
  return llvm::formatv("{0}", config).str();
}
std::string gpt2(const std::string &overrides = "") {
  return withFields(kGPT2, overrides);
}
std::string llama(const std::string &overrides = "") {
  return withFields(kLlama, overrides);
}

TEST(ModelConfigTest, ReadsGPT2Fields) {
  ModelConfig c = parseOk(gpt2(R"("activation_function": "gelu")"));
  EXPECT_EQ(c.family, ModelFamily::GPT2);
  EXPECT_EQ(c.vocabSize, 100);
  EXPECT_EQ(c.hiddenSize, 32);
  EXPECT_EQ(c.numLayers, 2);
  EXPECT_EQ(c.numHeads, 4);
  EXPECT_EQ(c.numKVHeads, 4);
  EXPECT_EQ(c.maxPositions, 16);
  EXPECT_DOUBLE_EQ(c.normEpsilon, 1e-5);
  EXPECT_FALSE(c.geluTanh);
  EXPECT_TRUE(c.tieWordEmbeddings);
  EXPECT_EQ(c.headDim(), 8);
}

TEST(ModelConfigTest, GPT2TakesHuggingFaceDefaults) {
  ModelConfig c = parseOk(gpt2(R"("n_inner": null)"));
  EXPECT_EQ(c.intermediateSize, 4 * 32);
  EXPECT_TRUE(c.geluTanh); // gelu_new
  EXPECT_EQ(parseOk(gpt2(R"("n_inner": 48)")).intermediateSize, 48);
}

TEST(ModelConfigTest, ReadsLlamaFields) {
  ModelConfig c = parseOk(llama(R"("num_key_value_heads": 2,
      "rope_theta": 500000.0, "tie_word_embeddings": true,
      "hidden_act": "silu", "rope_scaling": null)"));
  EXPECT_EQ(c.family, ModelFamily::Llama);
  EXPECT_EQ(c.numKVHeads, 2);
  EXPECT_EQ(c.intermediateSize, 40);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 500000.0);
  EXPECT_DOUBLE_EQ(c.normEpsilon, 1e-6);
  EXPECT_TRUE(c.tieWordEmbeddings);
}

TEST(ModelConfigTest, LlamaTakesHuggingFaceDefaults) {
  ModelConfig c = parseOk(llama());
  EXPECT_EQ(c.numKVHeads, 4);
  EXPECT_DOUBLE_EQ(c.ropeTheta, 10000.0);
  EXPECT_FALSE(c.tieWordEmbeddings);
}

TEST(ModelConfigTest, ReportsMalformedJSON) {
  std::string error = parseError(R"({"model_type": "gpt2",})");
  EXPECT_EQ(error.rfind("config.json: malformed JSON [1:", 0), 0u) << error;
  EXPECT_EQ(parseError("[1, 2]"),
            "config.json: expected a JSON object, got an array");
}

TEST(ModelConfigTest, ReportsModelTypeProblems) {
  EXPECT_EQ(parseError(R"({"n_embd": 4})"),
            "config.json: field 'model_type' is missing: expected \"gpt2\" "
            "or \"llama\"");
  EXPECT_EQ(parseError(R"({"model_type": "bert"})"),
            "config.json: field 'model_type': expected \"gpt2\" or "
            "\"llama\", got string \"bert\"");
  EXPECT_EQ(parseError(R"({"model_type": 2})"),
            "config.json: field 'model_type': expected \"gpt2\" or "
            "\"llama\", got 2");
}

TEST(ModelConfigTest, ReportsMissingField) {
  EXPECT_EQ(parseError(R"({"model_type": "llama", "vocab_size": 10})"),
            "config.json: field 'hidden_size' is missing: expected a "
            "positive integer");
}

TEST(ModelConfigTest, ReportsWronglyTypedFields) {
  EXPECT_EQ(parseError(gpt2(R"("n_layer": "2")")),
            "config.json: field 'n_layer': expected a positive integer, got "
            "string \"2\"");
  EXPECT_EQ(parseError(gpt2(R"("n_layer": 2.5)")),
            "config.json: field 'n_layer': expected a positive integer, got "
            "2.5");
  EXPECT_EQ(parseError(gpt2(R"("n_layer": true)")),
            "config.json: field 'n_layer': expected a positive integer, got "
            "true");
  EXPECT_EQ(parseError(gpt2(R"("n_layer": -1)")),
            "config.json: field 'n_layer': expected a positive integer, got "
            "-1");
  EXPECT_EQ(parseError(gpt2(R"("layer_norm_epsilon": null)")),
            "config.json: field 'layer_norm_epsilon': expected a positive "
            "number, got null");
  EXPECT_EQ(parseError(llama(R"("tie_word_embeddings": "no")")),
            "config.json: field 'tie_word_embeddings': expected true or "
            "false, got string \"no\"");
}

TEST(ModelConfigTest, ReportsUnsupportedVariants) {
  EXPECT_EQ(parseError(gpt2(R"("activation_function": "relu")")),
            "config.json: field 'activation_function': expected "
            "\"gelu_new\", \"gelu_pytorch_tanh\" or \"gelu\", got string "
            "\"relu\"");
  EXPECT_EQ(parseError(llama(R"("hidden_act": "gelu")")),
            "config.json: field 'hidden_act': expected string \"silu\" "
            "(LLaMA's SwiGLU MLP), got string \"gelu\"");
  EXPECT_EQ(parseError(llama(R"("rope_scaling": {"type": "linear"})")),
            "config.json: field 'rope_scaling': expected null (rope scaling "
            "is not supported), got an object");
}

TEST(ModelConfigTest, ReportsHeadsThatDoNotDivide) {
  EXPECT_EQ(parseError(gpt2(R"("n_head": 5)")),
            "config.json: n_embd=32 is not divisible by n_head=5");
  EXPECT_EQ(parseError(llama(R"("num_key_value_heads": 3)")),
            "config.json: num_attention_heads=4 is not divisible by "
            "num_key_value_heads=3");
  EXPECT_EQ(parseError(llama(R"("hidden_size": 12)")),
            "config.json: head dimension hidden_size/num_attention_heads=3 "
            "must be even for rotary embeddings");
}

TEST(ModelConfigTest, ReportsUnreadableFile) {
  llvm::Expected<ModelConfig> config = loadModelConfig("/nonexistent/c.json");
  ASSERT_FALSE(config);
  EXPECT_EQ(llvm::toString(config.takeError()),
            "/nonexistent/c.json: cannot read: No such file or directory");
}

} // namespace
