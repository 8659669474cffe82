//===- OnnxImportFuzzer.cpp - libFuzzer target: the ONNX importer
//----------===//
//
// Imports the input as model.onnx in a folder of its own (so external data
// can only name files there). It must give a model or an llvm::Error.
//
//===----------------------------------------------------------------------===//
#include "frontends/onnx/OnnxImport.h"
#include "test/fuzz/FuzzFile.h"

#include "llvm/Support/Error.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = llmc::fuzz::writeInput("model.onnx", data, size);
  llvm::Expected<llmc::ImportedModel> model = llmc::importOnnxModel(path);
  if (!model)
    llvm::consumeError(model.takeError());
  return 0;
}
