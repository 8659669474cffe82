//===- GeneralLowering.h - An ONNX graph op by op as llm ops ----*- C++ -*-===//
//
// What the importer does with a graph that is not a recognised language
// model: every node that computes on run-time data becomes `llm` ops
// (llm.unary, llm.binary, llm.reduce, llm.where, llm.matmul, llm.softmax,
// llm.transpose, llm.reshape, llm.concat, llm.split, llm.embedding,
// llm.layer_norm, tensor.extract_slice), in graph order, inside `func.func
// @forward` whose arguments are the graph's inputs (llm.input) and the
// constants the ops read (llm.param, by ONNX name), and whose results are the
// graph's outputs (llm.output). Shape arithmetic has been folded by
// Graph::build. Forward only: these ops have no gradient rules yet.
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

/// A constant the lowered graph reads as a parameter, by ONNX value name.
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

/// Lowers `graph`; errors name the node or tensor.
llvm::Expected<LoweredGraph> lowerGeneral(const Graph &graph,
                                          mlir::MLIRContext &context);

} // namespace llmc::onnx_import

#endif // LLMC_FRONTENDS_ONNX_GENERALLOWERING_H
