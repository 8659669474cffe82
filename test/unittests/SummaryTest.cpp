// Tests that the parameter and flop counts llmc derives from the built IR
// equal closed-form counts for both families, and the published parameter
// counts of GPT-2 small and LLaMA-2-7B.

#include "compiler/Summary.h"
#include "compiler/Registration.h"
#include "frontends/hf/ModelBuilder.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace llmc;

namespace {

struct Counts {
  int64_t params, matmulPerToken, attentionPerToken;
};

Counts summarize(const ModelConfig &config, BuildOptions options) {
  mlir::DialectRegistry registry;
  registerDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = llvm::cantFail(buildModel(context, config, options));
  EXPECT_TRUE(mlir::succeeded(mlir::verify(*module)));
  llvm::json::Object summary = llvm::cantFail(summarizeModel(*module, config));
  auto get = [&](llvm::StringRef key) { return *summary.getInteger(key); };
  EXPECT_EQ(get("forward_flops_per_token"),
            get("forward_matmul_flops_per_token") +
                get("forward_attention_flops_per_token"));
  return {get("params"), get("forward_matmul_flops_per_token"),
          get("forward_attention_flops_per_token")};
}

// GPT-2: per layer two LayerNorms (2C each), c_attn C·3C+3C, c_proj C·C+C,
// c_fc C·F+F, mlp c_proj F·C+C; plus wte V·C, wpe P·C, ln_f 2C; lm_head tied.
// Forward GEMM flops per token are 2 × the weights each token multiplies
// (the LM head included); attention is 2·T·D for QKᵀ and again for P·V per
// head per layer, over the full T×T square.
Counts gpt2ClosedForm(const ModelConfig &c, int64_t T) {
  int64_t C = c.hiddenSize, F = c.intermediateSize, L = c.numLayers;
  int64_t perLayer =
      4 * C + (3 * C * C + 3 * C) + (C * C + C) + (C * F + F) + (F * C + C);
  int64_t params = c.vocabSize * C + c.maxPositions * C + L * perLayer + 2 * C;
  int64_t matmul = 2 * (L * (3 * C * C + C * C + 2 * C * F) + c.vocabSize * C);
  int64_t attention = L * 4 * T * C;
  return {params, matmul, attention};
}

// LLaMA: per layer q_proj C·C, k_proj and v_proj C·Hkv·D, o_proj C·C, three
// MLP projections C·F, two RMSNorms C; plus embed V·C, norm C and an untied
// lm_head V·C.
Counts llamaClosedForm(const ModelConfig &c, int64_t T) {
  int64_t C = c.hiddenSize, F = c.intermediateSize, L = c.numLayers;
  int64_t kv = c.numKVHeads * c.headDim();
  int64_t gemmWeights = 2 * C * C + 2 * C * kv + 3 * C * F;
  int64_t params = c.vocabSize * C + L * (gemmWeights + 2 * C) + C +
                   (c.tieWordEmbeddings ? 0 : c.vocabSize * C);
  int64_t matmul = 2 * (L * gemmWeights + c.vocabSize * C);
  int64_t attention = L * 4 * T * c.numHeads * c.headDim();
  return {params, matmul, attention};
}

void expectCounts(const Counts &got, const Counts &want) {
  EXPECT_EQ(got.params, want.params);
  EXPECT_EQ(got.matmulPerToken, want.matmulPerToken);
  EXPECT_EQ(got.attentionPerToken, want.attentionPerToken);
}

ModelConfig smallGPT2() {
  ModelConfig c;
  c.family = ModelFamily::GPT2;
  c.vocabSize = 96;
  c.hiddenSize = 48;
  c.numLayers = 3;
  c.numHeads = 6;
  c.numKVHeads = 6;
  c.intermediateSize = 80;
  c.maxPositions = 32;
  c.normEpsilon = 1e-5;
  c.tieWordEmbeddings = true;
  return c;
}

ModelConfig smallLlama(bool tied) {
  ModelConfig c;
  c.family = ModelFamily::Llama;
  c.vocabSize = 96;
  c.hiddenSize = 64;
  c.numLayers = 2;
  c.numHeads = 8;
  c.numKVHeads = 2;
  c.intermediateSize = 120;
  c.maxPositions = 32;
  c.normEpsilon = 1e-6;
  c.ropeTheta = 10000.0;
  c.tieWordEmbeddings = tied;
  return c;
}

TEST(SummaryTest, GPT2MatchesClosedForm) {
  ModelConfig c = smallGPT2();
  expectCounts(summarize(c, {2, 20}), gpt2ClosedForm(c, 20));
  expectCounts(summarize(c, {1, 0}), gpt2ClosedForm(c, c.maxPositions));
}

TEST(SummaryTest, ExactGeluDoesNotChangeCounts) {
  ModelConfig c = smallGPT2();
  c.geluTanh = false;
  expectCounts(summarize(c, {3, 8}), gpt2ClosedForm(c, 8));
}

TEST(SummaryTest, LlamaWithGroupedQueryHeadsMatchesClosedForm) {
  ModelConfig c = smallLlama(/*tied=*/false);
  expectCounts(summarize(c, {2, 16}), llamaClosedForm(c, 16));
}

TEST(SummaryTest, TiedLlamaCountsTheEmbeddingOnce) {
  ModelConfig c = smallLlama(/*tied=*/true);
  expectCounts(summarize(c, {1, 32}), llamaClosedForm(c, 32));
}

TEST(SummaryTest, PublishedParameterCounts) {
  std::string dir = std::string(LLMC_SOURCE_DIR) + "/examples/configs/";
  ModelConfig gpt2 = llvm::cantFail(loadModelConfig(dir + "gpt2-small.json"));
  ModelConfig llama = llvm::cantFail(loadModelConfig(dir + "llama-7b.json"));
  // Short sequences keep the IR small; parameter counts do not depend on it.
  EXPECT_EQ(summarize(gpt2, {1, 8}).params, 124439808);
  EXPECT_EQ(summarize(llama, {1, 8}).params, 6738415616);
  expectCounts(summarize(gpt2, {1, 1024}), gpt2ClosedForm(gpt2, 1024));
  expectCounts(summarize(llama, {1, 4096}), llamaClosedForm(llama, 4096));
}

} // namespace
