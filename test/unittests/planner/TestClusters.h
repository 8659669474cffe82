// Hand-made clusters for the planner tests, with round numbers so that the
// expected values can be computed by hand.
#pragma once

#include "compiler/planner/cluster_spec.h"

namespace llmc::planner::testing {

// 2 nodes × 8 devices; NVLink-like 100 GB/s, 1 µs; NIC 10 GB/s, 10 µs.
inline ClusterSpec two_node_cluster() {
  ClusterSpec spec;
  spec.name = "two-node";
  spec.nodes = 2;
  spec.devices_per_node = 8;
  spec.device_memory = 80e9;
  spec.peak_flops = {100e12, 100e12, 100e12, 100e12};
  spec.memory_bandwidth = 2e12;
  spec.intra_node = {100e9, 1e-6};
  spec.inter_node = {10e9, 1e-5};
  return spec;
}

// two_node_cluster with every GEMM at peak: efficiency 1 whatever the shape
// and unlimited memory bandwidth, so compute time is FLOPs / peak.
inline ClusterSpec ideal_cluster() {
  ClusterSpec spec = two_node_cluster();
  spec.gemm_efficiency = {1.0, 1e-30, 1e-30, 1e-30};
  spec.memory_bandwidth = 1e30;
  return spec;
}

} // namespace llmc::planner::testing
