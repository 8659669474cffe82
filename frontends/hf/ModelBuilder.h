//===- ModelBuilder.h - llm IR of a GPT-2 or LLaMA model --------*- C++ -*-===//
//
// Builds the one-device model from a ModelConfig: `@forward` (token ids to
// logits) and `@loss` (token ids and targets to the mean cross-entropy).
// Parameters are function arguments named as in Hugging Face checkpoints
// (`llm.param`) and shaped in HF layout, so checkpoints map one to one.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_FRONTENDS_HF_MODELBUILDER_H
#define LLMC_FRONTENDS_HF_MODELBUILDER_H

#include "frontends/hf/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>
#include <string>
#include <vector>

namespace llmc {

/// One parameter tensor: its Hugging Face name and shape, in HF layout.
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numElements() const;
};

/// The parameters of a model in Hugging Face state_dict order. A tied LM head
/// is not listed: it is the token embedding.
std::vector<ParamSpec> listParameters(const ModelConfig &config);

/// How Megatron-style tensor parallelism splits a parameter in HF layout:
/// along `dim`, in `blocks` equal blocks each split over the ranks (the fused
/// GPT-2 c_attn holds Q, K and V: 3 blocks, so rank r takes its heads of
/// each). `dim` < 0: replicated on every rank.
/// The parameter both the embedding and the LM head use ("" when untied).
std::string tiedEmbedding(const ModelConfig &config);

struct TensorParallelSplit {
  int64_t dim = -1;
  int64_t blocks = 1;
  bool isSplit() const { return dim >= 0; }
};
TensorParallelSplit tensorParallelSplit(const ModelConfig &config,
                                        llvm::StringRef paramName);

/// The layers one pipeline stage holds, [firstLayer, endLayer). The first
/// stage also embeds the tokens; the last also applies the final norm, the
/// LM head and the loss. Between stages flows the residual stream, named
/// "hidden_in" / "hidden_out" ([B, T, C], or [B, T/tp, C] under sequence
/// parallelism, as Megatron sends it).
struct PipelineStage {
  int64_t firstLayer = 0;
  int64_t endLayer = 0;
  bool first = true;
  bool last = true;
};

inline constexpr llvm::StringLiteral kHiddenInName = "hidden_in";
inline constexpr llvm::StringLiteral kHiddenOutName = "hidden_out";

struct BuildOptions {
  int64_t microBatch = 1;
  int64_t seqLen = 0; // 0: the model's full context
  /// Ranks of the mesh's "tp" axis: column-parallel QKV, fc1, gate/up;
  /// row-parallel attention output, fc2, down; vocab-parallel embedding, LM
  /// head and cross-entropy. 1: no tensor parallelism. The frontend builds
  /// the one-device model and marks each split parameter
  /// `llm.split = {axis, dim}`; llmc-partition-tensor-parallel derives each
  /// rank's step (GSPMD, through upstream sharding-propagation and
  /// shard-partition).
  int64_t tensorParallel = 1;
  /// Marks the residual stream split along the sequence over the "tp" axis
  /// (Megatron's sequence parallelism), for the compiler to follow.
  bool sequenceParallel = false;
  /// Set: build only `@loss`, for this pipeline stage, with only the
  /// parameters it uses.
  std::optional<PipelineStage> stage;
};

/// Function and argument-attribute names of the built module.
inline constexpr llvm::StringLiteral kForwardFuncName = "forward";
inline constexpr llvm::StringLiteral kLossFuncName = "loss";
/// The mesh axis of tensor (and sequence) parallelism.
inline constexpr llvm::StringLiteral kTensorParallelAxis = "tp";

/// Builds the module, or explains which option does not fit the model.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildModel(mlir::MLIRContext &context, const ModelConfig &config,
           const BuildOptions &options);

} // namespace llmc

#endif // LLMC_FRONTENDS_HF_MODELBUILDER_H
