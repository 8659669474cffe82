// `llmc calibrate`: what this machine's device and links achieve, measured
// through the runtime's own kernels (OpenBLAS sgemm, the elementwise
// kernels) and communicators, for the planner's cluster spec.
#pragma once

#include <cstdint>
#include <vector>

namespace llmc {
namespace comm {
class Communicator;
}

struct GemmSample {
  int64_t m, n, k;
  double flops_per_s;
};

struct DeviceCalibration {
  std::vector<GemmSample> gemms; // row-major sgemm, as matmul kernels run it
  // The same shapes with bf16 math (bf16-mixed plans): operands rounded to
  // bf16, products summed in fp32, on the processor's bf16 kernels.
  std::vector<GemmSample> bf16_gemms;
  double memory_bandwidth = 0; // bytes/s of an elementwise add
};

// Times sgemm and bf16 GEMMs on a grid of shapes and an add over arrays
// far larger than the caches, each for at least `min_seconds`, with the current
// OpenMP and OpenBLAS thread counts.
DeviceCalibration calibrate_device(double min_seconds = 0.2);

struct LinkCalibration {
  double latency = 0;   // s, half a round trip of an 8-byte message
  double bandwidth = 0; // bytes/s, one direction, from 16 MiB messages
};

// Ping-pong between ranks 0 and 1 of `comm` (collective over it; other
// ranks only wait). Every rank returns the same result.
LinkCalibration calibrate_link(comm::Communicator &comm);

} // namespace llmc
