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

struct BuildOptions {
  int64_t microBatch = 1;
  int64_t seqLen = 0; // 0: the model's full context
};

/// Function and argument-attribute names of the built module.
inline constexpr llvm::StringLiteral kForwardFuncName = "forward";
inline constexpr llvm::StringLiteral kLossFuncName = "loss";

/// Builds the module, or explains which option does not fit the model.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
buildModel(mlir::MLIRContext &context, const ModelConfig &config,
           const BuildOptions &options);

} // namespace llmc

#endif // LLMC_FRONTENDS_HF_MODELBUILDER_H
