//===- ModelRecognizer.h - A GPT-2 or LLaMA model in an ONNX graph -*- C++ -*-//
//
// Walks the graph backwards from the logits through the recomposition
// patterns: LM head, final norm, then per layer the MLP and attention
// branches off the residual stream, down to the embeddings. The layer shapes
// give a ModelConfig; the weights each pattern bound give the parameters
// under their Hugging Face names and layouts. Every node that computes on
// run-time data must belong to a matched pattern, so a recognised model has
// no leftover primitive arithmetic: the `llm` module llmc builds from the
// config computes exactly what the graph computes.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_FRONTENDS_ONNX_MODELRECOGNIZER_H
#define LLMC_FRONTENDS_ONNX_MODELRECOGNIZER_H

#include "frontends/hf/ModelConfig.h"
#include "frontends/onnx/OnnxGraph.h"

#include <map>
#include <string>

namespace llmc::onnx_import {

/// Where a parameter's elements are: an initializer, transposed or not
/// relative to the Hugging Face layout.
struct WeightRef {
  const Value *value = nullptr;
  bool transpose = false;
};

struct RecognizedModel {
  ModelConfig config;
  std::map<std::string, WeightRef> params; // by Hugging Face name
  int64_t nodesRecomposed = 0;             // graph nodes absorbed into llm ops
};

/// `maxPositions` when the graph does not fix it (RoPE models compute their
/// tables for any length); 0: Hugging Face's default.
llvm::Expected<RecognizedModel> recognizeModel(const Graph &graph,
                                               int64_t maxPositions);

} // namespace llmc::onnx_import

#endif // LLMC_FRONTENDS_ONNX_MODELRECOGNIZER_H
