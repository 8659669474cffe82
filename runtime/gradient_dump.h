//===- gradient_dump.h - `llmc train --dump-grads`
//-------------------------===//
//
// Copies each gradient as AdamW is about to consume it (after any
// data-parallel averaging, before clipping) and writes them as safetensors
// under their parameters' names, for the parity tests against PyTorch.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/executor.h"
#include "runtime/io/safetensors.h"

#include <string>
#include <vector>

namespace llmc {

class GradientDump {
public:
  explicit GradientDump(Executor &exec) : exec_(exec) {}
  /// The hook to run the step with: it copies each AdamW kernel's gradient.
  Executor::KernelHook hook();
  void write(const std::string &path);

private:
  Executor &exec_;
  std::vector<io::TensorView> views_;
  std::vector<std::vector<float>> values_;
};

} // namespace llmc
