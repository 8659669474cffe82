// LLMC_LAUNCH(kernel, grid, block, stream, args...): the launch of a
// kernel body, kernel<<<grid, block, 0, stream>>>(args...) under nvcc; in
// the emulated build of the launchers (LLMC_SIMT) the same body run by the
// SIMT emulator on the host, in stream order (the emulator runs launches
// one after another, as one stream does), with device memory open to it.
#pragma once

#if defined(LLMC_SIMT)
#include "runtime/cuda/emulated/device_memory.h"
#include "runtime/cuda/simt/simt.h"

namespace llmc::simt {
inline dim3 to_dim3(long long x) { return dim3(unsigned(x)); }
#if defined(CUDART_VERSION)
inline dim3 to_dim3(const ::dim3 &d) { return dim3(d.x, d.y, d.z); }
#endif
} // namespace llmc::simt

#define LLMC_LAUNCH(kernel, grid, block, stream, ...)                          \
  do {                                                                         \
    ::llmc::cuda::emulated::DeviceWork work;                                   \
    ::llmc::simt::launch(::llmc::simt::to_dim3(grid),                          \
                         ::llmc::simt::to_dim3(block),                         \
                         [&] { kernel(__VA_ARGS__); });                        \
  } while (0)
#else
#define LLMC_LAUNCH(kernel, grid, block, stream, ...)                          \
  kernel<<<grid, block, 0, stream>>>(__VA_ARGS__)
#endif
