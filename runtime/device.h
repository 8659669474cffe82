// The device plans run on: the CPU (the default, always there) or a backend
// registered by the library that implements it (runtime/cuda/dispatch.h
// registers CUDA), so the runtime itself links no CUDA. One device per
// process, chosen by `--device` before any executor is made.
//
// A device backend gives the arena as the device's own memory, one
// allocation the host never touches: what loads weights, feeds token ids or
// reads the loss copies in and out through the executor (Executor::upload,
// download), which on the CPU are plain copies. Every kernel of a plan runs
// on the device; a plan calling one the device lacks is refused at load.
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
  void *(*allocate)(size_t bytes); // zeroed device memory
  void (*release)(void *memory);
  // Copies between host and device memory (either way, by address), after
  // the device's work so far and before the host goes on.
  void (*copy)(void *dst, const void *src, size_t bytes);
  void (*synchronize)();
  // Zeroes device memory in stream order.
  void (*zero)(void *memory, size_t bytes);
  // The device function of a kernel, or nullptr when the device lacks it.
  KernelFn (*find_kernel)(const std::string &name);
  // The device's communicator over the ranks of a host one (NCCL over an
  // MPI group), made on the first call for it (collective over the group)
  // and kept; or nullptr: the host's serves, which must then reach device
  // memory itself (a CUDA-aware MPI).
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
