//===- GeneralLowering.h - An ONNX graph op by op as llm ops ----*- C++ -*-===//
//
// What the importer does with a graph that is not a recognised language
// model: every node that computes on run-time data becomes `llm` ops
// (llm.unary, llm.binary, llm.reduce, llm.where, llm.matmul, llm.softmax,
// llm.transpose, llm.reshape, llm.concat, llm.split, llm.embedding,
// llm.layer_norm, tensor.extract_slice), in graph order, inside `func.func
// @forward` whose arguments are the graph's inputs (llm.input), its weights
// (llm.param, by ONNX name) and the folded constants its ops read (splats
// as arith.constant, others llm.const), and whose results are the graph's
// outputs (llm.output). Shape arithmetic has been folded by Graph::build.
// Or, to train, `func.func @loss` (GeneralProgram::Loss).
//
//===----------------------------------------------------------------------===//

#ifndef LLMC_FRONTENDS_ONNX_GENERALLOWERING_H
#define LLMC_FRONTENDS_ONNX_GENERALLOWERING_H

#include "frontends/onnx/OnnxGraph.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace llmc::onnx_import {

/// A weight or constant the lowered graph reads as an argument, by name.
struct GraphConstant {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct LoweredGraph {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<GraphConstant> constants;
  int64_t nodesLowered = 0; // graph nodes that became llm ops
};

/// What the lowered function computes.
enum class GeneralProgram {
  /// `@forward`: the graph's outputs.
  Forward,
  /// `@loss`: the mean cross-entropy of the graph's logits against
  /// `targets`, for `llmc compile --mode train`. Each name a weight is read
  /// under is its own parameter, a transposed copy of a weight (a tied LM
  /// head) reads that weight, and weights with infinities stay constant.
  Loss,
};

/// Lowers `graph`; errors name the node or tensor.
llvm::Expected<LoweredGraph>
lowerGeneral(const Graph &graph, mlir::MLIRContext &context,
             GeneralProgram program = GeneralProgram::Forward);

} // namespace llmc::onnx_import

#endif // LLMC_FRONTENDS_ONNX_GENERALLOWERING_H
