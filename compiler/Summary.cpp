//===- Summary.cpp - Size and cost summary of a compiled model ------------===//

#include "compiler/Summary.h"

#include "dialects/llm/IR/LLMDialect.h"
#include "frontends/hf/ModelBuilder.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;

static int64_t flopsOf(DictionaryAttr flops, StringRef kind) {
  auto value = flops ? flops.getAs<IntegerAttr>(kind) : IntegerAttr();
  return value ? value.getInt() : 0;
}

llvm::Expected<llvm::json::Object>
llmc::summarizeModel(ModuleOp module, const ModelConfig &config) {
  auto forward = module.lookupSymbol<func::FuncOp>(kForwardFuncName);
  if (!forward)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "module has no @forward function");
  PassManager pm(module.getContext());
  pm.addNestedPass<func::FuncOp>(llm::createCountFlops());
  if (failed(pm.run(module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "llmc-count-flops failed");

  // Tied weights are one argument, so each parameter counts once.
  int64_t params = 0;
  for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i)
    if (forward.getArgAttr(i, llm::LLMDialect::kParamAttrName))
      params += cast<RankedTensorType>(forward.getArgument(i).getType())
                    .getNumElements();

  auto ids = cast<RankedTensorType>(forward.getArgument(0).getType());
  int64_t tokens = ids.getNumElements();
  auto flops = forward->getAttrOfType<DictionaryAttr>(llm::kFlopsAttrName);
  int64_t matmul = flopsOf(flops, "matmul") / tokens;
  int64_t attention = flopsOf(flops, "attention") / tokens;
  int64_t vector = flopsOf(flops, "vector") / tokens;

  return llvm::json::Object{
      {"model_type", config.modelType()},
      {"params", params},
      {"layers", config.numLayers},
      {"hidden_size", config.hiddenSize},
      {"heads", config.numHeads},
      {"kv_heads", config.numKVHeads},
      {"intermediate_size", config.intermediateSize},
      {"vocab_size", config.vocabSize},
      {"micro_batch", ids.getDimSize(0)},
      {"seq_len", ids.getDimSize(1)},
      // Model flops (GEMMs + attention products), as MFU counts them.
      {"forward_flops_per_token", matmul + attention},
      {"forward_matmul_flops_per_token", matmul},
      {"forward_attention_flops_per_token", attention},
      {"forward_vector_flops_per_token", vector},
  };
}
