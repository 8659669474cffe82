#include "runtime/device.h"

#include "runtime/io/error.h"

#include <vector>

namespace llmc {
namespace {

std::vector<const DeviceBackend *> &backends() {
  static std::vector<const DeviceBackend *> registered;
  return registered;
}
const DeviceBackend *selected = nullptr;

} // namespace

void register_device_backend(const DeviceBackend *backend) {
  for (const DeviceBackend *b : backends())
    if (b == backend)
      return;
  backends().push_back(backend);
}

void select_device(const std::string &name) {
  if (name == "cpu") {
    selected = nullptr;
    return;
  }
  for (const DeviceBackend *b : backends())
    if (name == b->name) {
      if (std::string why = b->unavailable(); !why.empty())
        throw io::InputError("--device " + name + ": " + why);
      selected = b;
      return;
    }
  if (name == "cuda")
    throw io::InputError("--device cuda: this llmc was built without CUDA "
                         "(configure with -DLLMC_ENABLE_CUDA=ON where nvcc "
                         "is installed)");
  throw io::InputError("--device: expected cpu or cuda, not '" + name + "'");
}

const DeviceBackend *selected_device() { return selected; }

} // namespace llmc
