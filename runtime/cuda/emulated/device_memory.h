// Device memory of the emulated CUDA backend, as a GPU's is to its host:
// cudaMalloc's memory is readable and writable only while device work runs
// (a kernel, a copy, a memset, a GEMM, a collective); at any other time the
// host touching it faults, as it would on a real GPU, so the emulated tests
// catch a host read of device memory (the arena is device memory).
#pragma once

#include <cstddef>

namespace llmc::cuda::emulated {

// Memory only device work may touch (mmap'd, no access outside it).
void *allocate_device(size_t bytes);
// Frees what allocate_device gave; false if it did not give it.
bool free_device(void *memory);

// While one exists, device memory is accessible: the span of device work.
class DeviceWork {
public:
  DeviceWork();
  ~DeviceWork();
  DeviceWork(const DeviceWork &) = delete;
  DeviceWork &operator=(const DeviceWork &) = delete;
};

} // namespace llmc::cuda::emulated
