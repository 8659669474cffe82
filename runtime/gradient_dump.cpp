//===- gradient_dump.cpp - `llmc train --dump-grads`
//-----------------------===//
#include "runtime/gradient_dump.h"

#include "runtime/kernels/kernel_table.h"

namespace llmc {

Executor::KernelHook GradientDump::hook() {
  return [this](const planfile::Kernel &k) {
    if (!kernels::is(k.name(), kernels::KernelId::adamw))
      return;
    const planfile::Tensor &param = exec_.plan().tensors(k.outs(0));
    std::vector<float> &g =
        values_.emplace_back(size_t(exec_.num_elements(k.ins(0))));
    exec_.download(g.data(), exec_.f32(k.ins(0)), g.size() * sizeof(float));
    views_.push_back({exec_.plan().buffers(param.buffer()).name(),
                      {param.shape().begin(), param.shape().end()},
                      nullptr});
  };
}

void GradientDump::write(const std::string &path) {
  for (size_t i = 0; i < views_.size(); ++i)
    views_[i].data = values_[i].data();
  io::write_safetensors(path, views_);
}

} // namespace llmc
