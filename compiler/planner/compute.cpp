// Roofline compute times; see compute.h.

#include "compiler/planner/compute.h"

#include <algorithm>

namespace llmc::planner {

double dtype_bytes(DType type) {
  return type == DType::BF16 || type == DType::FP16 ? 2 : 4;
}

double gemm_efficiency(const GemmEfficiency &eff, double m, double n,
                       double k) {
  return eff.max * m / (m + eff.m0) * n / (n + eff.n0) * k / (k + eff.k0);
}

double gemm_time(const ClusterSpec &cluster, DType type, double m, double n,
                 double k, double batch) {
  double flops = 2 * m * n * k * batch;
  double bytes = (m * k + k * n + m * n) * dtype_bytes(type) * batch;
  double peak = cluster.peak_flops.of(type) *
                gemm_efficiency(cluster.gemm_efficiency, m, n, k);
  return std::max(flops / peak, bytes / cluster.memory_bandwidth);
}

double elementwise_time(const ClusterSpec &cluster, double bytes) {
  return bytes / cluster.memory_bandwidth;
}

} // namespace llmc::planner
