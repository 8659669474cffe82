// The GPU check's shared parts (test/cuda/gpu_*.cu): device buffers, timing
// on both sides, the error measure and the report line.
#pragma once

#include "runtime/cuda/cuda_check.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

namespace llmc::gpu_check {

struct Device {
  std::vector<void *> buffers;
  template <class T> T *copy(const std::vector<T> &host) {
    T *p = nullptr;
    LLMC_CUDA_CHECK(cudaMalloc(&p, host.size() * sizeof(T)));
    LLMC_CUDA_CHECK(cudaMemcpy(p, host.data(), host.size() * sizeof(T),
                               cudaMemcpyHostToDevice));
    buffers.push_back(p);
    return p;
  }
  float *copy(std::initializer_list<float> host) {
    return copy(std::vector<float>(host));
  }
  std::vector<float> read(const float *p, size_t n) {
    std::vector<float> host(n);
    LLMC_CUDA_CHECK(
        cudaMemcpy(host.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost));
    return host;
  }
  ~Device() {
    for (void *p : buffers)
      cudaFree(p);
  }
};

// Milliseconds of `run` on the device (median of 5, after a warm-up).
inline double device_ms(const std::function<void()> &run) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  run();
  std::vector<float> times;
  for (int i = 0; i < 5; ++i) {
    cudaEventRecord(start);
    run();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  return times[2];
}

inline double host_ms(const std::function<void()> &run) {
  auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

// max |a - b| / (1 + |b|)
inline double worst(const std::vector<float> &a, const std::vector<float> &b) {
  double w = 0;
  for (size_t i = 0; i < a.size(); ++i)
    w = std::max(w, std::fabs(double(a[i]) - b[i]) / (1 + std::fabs(b[i])));
  return w;
}

inline int failures = 0;
inline void report(const char *kernel, const std::string &shape, double error,
                   double tolerance, double gpu, double cpu) {
  bool ok = error <= tolerance;
  failures += !ok;
  std::printf("%-18s %-16s max error %.2e (tolerance %.0e) %s  gpu %.3f ms, "
              "cpu %.3f ms\n",
              kernel, shape.c_str(), error, tolerance, ok ? "ok" : "MISMATCH",
              gpu, cpu);
}

// The checks of the other files, called from main.
void check_attention_and_paged();
void check_losses_and_general();

} // namespace llmc::gpu_check
