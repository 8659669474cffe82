// Roofline compute times; see compute.h.

#include "compiler/planner/compute.h"

#include <algorithm>
#include <cmath>

namespace llmc::planner {

double dtype_bytes(DType type) {
  return type == DType::BF16 || type == DType::FP16 ? 2 : 4;
}

double gemm_efficiency(const GemmEfficiency &eff, double m, double n,
                       double k) {
  return eff.max * m / (m + eff.m0) * n / (n + eff.n0) * k / (k + eff.k0);
}

const GemmEfficiency &efficiency_of(const ClusterSpec &cluster, DType type) {
  return type == DType::BF16 && cluster.gemm_efficiency_bf16
             ? *cluster.gemm_efficiency_bf16
             : cluster.gemm_efficiency;
}

double gemm_time(const ClusterSpec &cluster, DType type, double m, double n,
                 double k, double batch) {
  double flops = 2 * m * n * k * batch;
  double bytes = (m * k + k * n + m * n) * dtype_bytes(type) * batch;
  double peak = cluster.peak_flops.of(type) *
                gemm_efficiency(efficiency_of(cluster, type), m, n, k);
  return std::max(flops / peak, bytes / cluster.memory_bandwidth);
}

double elementwise_time(const ClusterSpec &cluster, double bytes) {
  return bytes / cluster.memory_bandwidth;
}

GemmFit fit_gemm_efficiency(const std::vector<GemmMeasurement> &measurements) {
  GemmFit best;
  double best_loss = INFINITY;
  std::vector<double> grid;
  for (double x = 1; x <= 4096; x *= std::sqrt(2.0))
    grid.push_back(x);
  for (double m0 : grid)
    for (double n0 : grid)
      for (double k0 : grid) {
        GemmEfficiency eff{1.0, m0, n0, k0};
        // log rate = log peak + log eff: the peak is the mean of the rest.
        double log_peak = 0;
        for (const GemmMeasurement &g : measurements)
          log_peak += std::log(g.flops_per_s) -
                      std::log(gemm_efficiency(eff, g.m, g.n, g.k));
        log_peak /= double(measurements.size());
        double loss = 0;
        for (const GemmMeasurement &g : measurements) {
          double r = std::log(g.flops_per_s) - log_peak -
                     std::log(gemm_efficiency(eff, g.m, g.n, g.k));
          loss += r * r;
        }
        if (loss < best_loss) {
          best_loss = loss;
          best.peak = std::exp(log_peak);
          best.efficiency = eff;
        }
      }
  for (const GemmMeasurement &g : measurements) {
    double predicted =
        best.peak * gemm_efficiency(best.efficiency, g.m, g.n, g.k);
    best.worst_error =
        std::max(best.worst_error, std::abs(predicted / g.flops_per_s - 1));
  }
  return best;
}

} // namespace llmc::planner
