// Compute time of one device: GEMMs on a roofline with a shape-dependent
// efficiency, elementwise ops bound by memory bandwidth.
#pragma once

#include "compiler/planner/cluster_spec.h"

#include <vector>

namespace llmc::planner {

// Bytes of one element of a math type (tf32 is stored as fp32).
double dtype_bytes(DType type);

// Fraction of peak a GEMM of (m × k) · (k × n) reaches:
//   eff = max · m/(m+m0) · n/(n+n0) · k/(k+k0).
double gemm_efficiency(const GemmEfficiency &eff, double m, double n, double k);
// The curve GEMMs of math type `type` follow on `cluster` (bf16's own where
// it has one).
const GemmEfficiency &efficiency_of(const ClusterSpec &cluster, DType type);

// `batch` independent (m × k) · (k × n) GEMMs (batch = 1 for a plain GEMM):
//   flops = 2·m·n·k·batch, bytes = (m·k + k·n + m·n)·elem·batch,
//   time  = max(flops / (peak · eff), bytes / memory_bandwidth).
double gemm_time(const ClusterSpec &cluster, DType type, double m, double n,
                 double k, double batch = 1);

// A GEMM of (m × k) · (k × n) that ran at `flops_per_s`.
struct GemmMeasurement {
  double m, n, k, flops_per_s;
};

// The peak and efficiency curve that best explain `measurements` (least
// squares of the log rates; eff.max = 1 so the peak is the asymptote):
// m0, n0 and k0 by a log-spaced grid search, the peak in closed form.
struct GemmFit {
  double peak = 0;
  GemmEfficiency efficiency;
  double worst_error = 0; // largest |predicted / measured - 1|
};
GemmFit fit_gemm_efficiency(const std::vector<GemmMeasurement> &measurements);

// An elementwise op moving `bytes` (reads + writes) through memory.
double elementwise_time(const ClusterSpec &cluster, double bytes);

} // namespace llmc::planner
