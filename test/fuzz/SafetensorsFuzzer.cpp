//===- SafetensorsFuzzer.cpp - libFuzzer target: the safetensors reader
//----===//
//
// Opens the input as a safetensors file and reads every tensor it accepts
// (converted to float32, as loading a checkpoint does). Only InputError may
// come out.
//
//===----------------------------------------------------------------------===//
#include "runtime/io/error.h"
#include "runtime/io/safetensors.h"
#include "test/fuzz/FuzzFile.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = llmc::fuzz::writeInput("model.safetensors", data, size);
  try {
    llmc::io::SafetensorsReader reader(path);
    for (const llmc::io::TensorInfo &info : reader.tensors())
      if (info.numel <= (1 << 20))
        reader.read(info.name);
  } catch (const llmc::io::InputError &) {
  }
  return 0;
}
