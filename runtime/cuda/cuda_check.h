// Checked CUDA calls: every failure names the file and line, then exits.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

namespace llmc {
inline void cuda_check(cudaError_t error, const char *file, int line) {
  if (error != cudaSuccess) {
    std::fprintf(stderr, "[CUDA ERROR] at %s:%d: %s\n", file, line,
                 cudaGetErrorString(error));
    std::exit(EXIT_FAILURE);
  }
}

// A shape a GPU kernel cannot take (the plan loader should have refused
// it): one line naming the kernel and why, then exit.
[[noreturn]] inline void cuda_unsupported(const char *kernel, const char *why) {
  std::fprintf(stderr, "llmc: %s on the GPU: %s\n", kernel, why);
  std::exit(EXIT_FAILURE);
}
} // namespace llmc

#define LLMC_CUDA_CHECK(call) ::llmc::cuda_check((call), __FILE__, __LINE__)
