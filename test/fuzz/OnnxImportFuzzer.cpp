//===- OnnxImportFuzzer.cpp - libFuzzer target: the ONNX importer
//----------===//
//
// Imports the input as model.onnx in a folder of its own (so external data
// can only name files there), as `llmc compile --mode forward` does: as a
// recognised model, else op by op. Each must give a result or an
// llvm::Error.
//
//===----------------------------------------------------------------------===//
#include "frontends/onnx/OnnxImport.h"
#include "test/fuzz/FuzzFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Error.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = llmc::fuzz::writeInput("model.onnx", data, size);
  llvm::Expected<llmc::ImportedModel> model = llmc::importOnnxModel(path);
  if (model)
    return 0;
  llvm::consumeError(model.takeError());
  static mlir::MLIRContext context;
  llvm::Expected<llmc::ImportedGraph> graph =
      llmc::importOnnxGraph(path, context, 2, 7);
  if (!graph)
    llvm::consumeError(graph.takeError());
  return 0;
}
