//===- OnnxImport.h - `llmc compile model.onnx` -----------------*- C++ -*-===//
//
// Imports a transformer exported to ONNX (torch.onnx.export, Hugging Face
// Optimum; opsets 13-17) as the same model the config builder makes: the
// graph is loaded with its external data (confined to the model's folder),
// checked by onnx::checker, bound to concrete shapes and folded, recomposed
// into `llm` ops by pattern, and recognised as a GPT-2 or LLaMA-family
// model. The result is a ModelConfig, from which every compile mode and
// mesh works as for a config.json, and the initializers as parameters under
// Hugging Face names and layouts.
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_FRONTENDS_ONNX_ONNXIMPORT_H
#define LLMC_FRONTENDS_ONNX_ONNXIMPORT_H

#include "frontends/hf/ModelConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace llmc {

struct ImportedTensor {
  std::string name;           // Hugging Face name
  std::vector<int64_t> shape; // Hugging Face layout
  std::vector<float> data;
};

struct ImportedModel {
  ModelConfig config;
  /// A Hugging Face config.json for `config`, as plans and checkpoint
  /// folders carry it.
  std::string hfConfigJson;
  /// The parameters in listParameters(config) order; a tied weight stored
  /// twice in the graph is one tensor here.
  std::vector<ImportedTensor> weights;
  int64_t graphNodes = 0;      // nodes in the ONNX graph
  int64_t nodesRecomposed = 0; // of those, absorbed into llm ops
  int64_t opset = 0;
};

/// A graph that is not a language model llmc recognises, lowered node by
/// node to general llm ops (frontends/onnx/GeneralLowering.h): a module
/// with `func.func @forward` (or `@loss`), and the weights and constants
/// its ops read as arguments.
struct ImportedGraph {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<ImportedTensor> constants; // by ONNX name, as stored
  int64_t graphNodes = 0;
  int64_t nodesLowered = 0;
  int64_t opset = 0;
};

/// An ONNX model: a `.onnx` file, or a folder holding `model.onnx`.
bool isOnnxModelPath(llvm::StringRef path);

/// What the error of a graph without token ids says (compile then keeps the
/// general lowering's error instead).
inline constexpr llvm::StringLiteral kNoTokenIdsError =
    "the graph takes no token ids";

/// Imports the model. Errors are one line naming the file and, where there
/// is one, the node, tensor or field.
llvm::Expected<ImportedModel> importOnnxModel(llvm::StringRef path);

/// Imports any graph of the general lowering's ops (float32 inputs and
/// outputs; symbolic batch and sequence dimensions bound to `batch` and
/// `seq`): `@forward`, or with `train` `@loss` (GeneralProgram::Loss).
/// Errors are one line naming the file and the node or tensor.
llvm::Expected<ImportedGraph> importOnnxGraph(llvm::StringRef path,
                                              mlir::MLIRContext &context,
                                              int64_t batch, int64_t seq,
                                              bool train = false);

/// config.json text for a ModelConfig (the fields parseModelConfig reads).
std::string hfConfigJson(const ModelConfig &config);

} // namespace llmc

#endif // LLMC_FRONTENDS_ONNX_ONNXIMPORT_H
