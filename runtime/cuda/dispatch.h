// The CUDA device backend (runtime/device.h): plan kernels dispatched to the
// CUDA launchers of runtime/cuda, the arena in device memory. Linked
// into llmc-run when CUDA is enabled, and, built over the SIMT emulator
// instead of the CUDA runtime, into llmc-run-emulated-cuda (tests).
#pragma once

#include "runtime/cpu_dispatch.h"

#include <string>

namespace llmc::cuda {

// Registers the backend under --device cuda.
void register_backend();

// The CUDA function of a kernel, or nullptr (the CPU's runs instead).
KernelFn find_kernel(const std::string &name);

} // namespace llmc::cuda
