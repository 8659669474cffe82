// Inputs of the CUDA kernel checks, shared by the SIMT emulator's tests
// (test/unittests/cuda) and the GPU check (gpu_kernels_check.cu), so both
// feed a kernel the same values for the same seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace llmc::test {

// n values drawn from N(0, scale²).
inline std::vector<float> random_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

} // namespace llmc::test
