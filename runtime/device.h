// The device plans run on: the CPU (the default, always there) or a backend
// registered by the library that implements it (runtime/cuda/dispatch.h
// registers CUDA), so the runtime itself links no CUDA. One device per
// process, chosen by `--device` before any executor is made.
//
// A device backend gives the arena as memory the host can also read and
// write (CUDA managed memory), so everything that loads weights, feeds
// token ids or reads the loss works unchanged; the executor synchronizes
// the device before the host touches the arena again. Kernels the device
// lacks run on the CPU over the same memory after a synchronize
// (the collectives, when the device has no communicator of its own).
#pragma once

#include "runtime/cpu_dispatch.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llmc {
namespace comm {
class Communicator;
}

// One row of logits a device samples, as serve::sample_row would with this
// request's parameters and uniform.
struct DeviceSampleRow {
  int64_t row; // of the logits given
  double temperature, top_p;
  int64_t top_k;
  double u;
};

struct DeviceBackend {
  const char *name;        // "cuda"
  const char *description; // "cuda (NVIDIA H100 ...)" for reports
  // Empty when the backend can run here, else why not (no GPU visible).
  std::string (*unavailable)();
  void *(*allocate)(size_t bytes); // zeroed, host-visible
  void (*release)(void *memory);
  void (*synchronize)();
  // Zeroes device memory in stream order.
  void (*zero)(void *memory, size_t bytes);
  // The device function of a kernel, or nullptr: the CPU's runs instead.
  KernelFn (*find_kernel)(const std::string &name);
  // The device's communicator over the ranks of a host one (NCCL over an
  // MPI group), made on the first call for it (collective over the group)
  // and kept; or nullptr (the host's serves: the device's memory is host
  // memory).
  comm::Communicator *(*communicator)(comm::Communicator &host);
  // Samples rows of logits (rows x vocab, in the arena) on the device:
  // token[i], logprob[i] for rows[i]; or nullptr (the host samples).
  void (*sample)(const float *logits, int64_t vocab,
                 const std::vector<DeviceSampleRow> &rows, int32_t *token,
                 double *logprob);
};

void register_device_backend(const DeviceBackend *backend);

// Makes `name` ("cpu", or a registered backend) the device of the executors
// made from now on. Throws io::InputError naming --device when it is
// unknown, not built in, or cannot run here.
void select_device(const std::string &name);

// The selected backend, or nullptr for the CPU.
const DeviceBackend *selected_device();

} // namespace llmc
