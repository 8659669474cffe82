// Measurements for `llmc calibrate`; see calibrate.h.
#include "runtime/calibrate.h"

#include "runtime/comm/communicator.h"
#include "runtime/cpu/elementwise.h"
#include "runtime/cpu/matmul.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace llmc {
namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Seconds per call of `fn`, the best of repeated batches lasting at least
// `min_seconds` in all (the first call warms caches and thread pools).
template <typename Fn> double seconds_per_call(Fn fn, double min_seconds) {
  fn();
  double best = 1e30, spent = 0;
  while (spent < min_seconds) {
    double start = now();
    fn();
    double t = now() - start;
    best = std::min(best, t);
    spent += t;
  }
  return best;
}

} // namespace

DeviceCalibration calibrate_device(double min_seconds) {
  DeviceCalibration result;
  // Shapes the matmul kernels of small and mid-sized models run: square,
  // skinny in each dimension, and the attention-like small k.
  const int64_t sizes[] = {64, 256, 1024};
  std::vector<float> a, b, c;
  for (cpu::GemmMath math : {cpu::GemmMath::FP32, cpu::GemmMath::BF16})
    for (int64_t m : sizes)
      for (int64_t n : sizes)
        for (int64_t k : sizes) {
          a.assign(size_t(m * k), 0.5f);
          b.assign(size_t(k * n), 0.25f);
          c.assign(size_t(m * n), 0.0f);
          double t = seconds_per_call(
              [&] {
                cpu::matmul_forward(c.data(), a.data(), b.data(), nullptr, 1, m,
                                    n, k, false, false, false, math);
              },
              min_seconds / 9);
          (math == cpu::GemmMath::FP32 ? result.gemms : result.bf16_gemms)
              .push_back({m, n, k, 2.0 * double(m * n * k) / t});
        }
  // 3 arrays of 32 MiB: read two, write one.
  const int64_t n = int64_t(8) << 20;
  std::vector<float> x(size_t(n), 1.0f), y(size_t(n), 2.0f), z(size_t(n), 0.0f);
  double t = seconds_per_call(
      [&] { cpu::add_forward(z.data(), x.data(), y.data(), n, n); },
      min_seconds);
  result.memory_bandwidth = 3.0 * 4.0 * double(n) / t;
  return result;
}

LinkCalibration calibrate_link(comm::Communicator &comm) {
  LinkCalibration link;
  int rank = comm.rank();
  auto round_trip = [&](size_t n, int reps) {
    std::vector<float> buffer(n, 1.0f);
    comm.barrier();
    double start = now();
    for (int i = 0; i < reps; ++i) {
      if (rank == 0) {
        comm.send(buffer.data(), n, 1, 7);
        comm.recv(buffer.data(), n, 1, 7);
      } else if (rank == 1) {
        comm.recv(buffer.data(), n, 0, 7);
        comm.send(buffer.data(), n, 0, 7);
      }
    }
    return (now() - start) / reps;
  };
  round_trip(2, 100); // warm up the connection
  float result[2] = {0, 0};
  double small = round_trip(2, 2000) / 2;
  double large = round_trip(size_t(4) << 20, 10) / 2;
  if (rank == 0) {
    result[0] = float(small);
    result[1] = float(double(16 << 20) / std::max(large - small, 1e-9));
  }
  comm.broadcast(result, 2, 0);
  link.latency = result[0];
  link.bandwidth = result[1];
  return link;
}

} // namespace llmc
