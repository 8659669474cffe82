// Cluster specs for the planner: what one device computes and stores, and how
// fast devices talk inside a node and across nodes. Read from strict JSON.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>

namespace llmc::planner {

// A bad cluster spec or an impossible layout; what() is one line naming the
// file (or option), the field and what was expected.
class PlannerError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class DType { FP32, TF32, BF16, FP16 };

// Dense peak FLOP/s of one device per math type.
struct PeakFlops {
  double fp32 = 0, tf32 = 0, bf16 = 0, fp16 = 0;
  double of(DType type) const;
};

// One α-β link: a message of n bytes costs latency + n / bandwidth.
struct LinkSpec {
  double bandwidth = 0; // bytes/s, one direction, per device
  double latency = 0;   // s
};

// GEMM efficiency by shape: eff = max · m/(m+m0) · n/(n+n0) · k/(k+k0).
// Defaults, for a spec that gives none: ~80% of peak for large GEMMs, half
// of that when a dim is 128. The A100 and H100 presets give curves fitted to
// published measurements (examples/clusters/README.md).
struct GemmEfficiency {
  double max = 0.8;
  double m0 = 128, n0 = 128, k0 = 128;
};

struct ClusterSpec {
  std::string name;
  int nodes = 0;
  int devices_per_node = 0;
  double device_memory = 0;    // bytes
  PeakFlops peak_flops;        // FLOP/s
  double memory_bandwidth = 0; // bytes/s
  LinkSpec intra_node;         // per device, e.g. NVLink
  LinkSpec inter_node;         // per device (its NIC), e.g. InfiniBand
  GemmEfficiency gemm_efficiency;
  // The curve of bf16 GEMMs where it was measured apart (llmc calibrate:
  // a CPU's bf16 kernels need larger shapes than its sgemm to approach
  // their peak); else gemm_efficiency serves every type.
  std::optional<GemmEfficiency> gemm_efficiency_bf16;
  // Bytes/s that kernels other than GEMMs reach, by plan kernel name, where
  // measured (llmc calibrate); the others move at memory_bandwidth.
  std::map<std::string, double> kernel_bandwidth;
  // FLOP/s that compute-bound kernels other than sgemm reach (attention), by
  // kernel name, where measured; the others use the GEMM roofline.
  std::map<std::string, double> kernel_flops;

  int devices() const { return nodes * devices_per_node; }
};

// Parses `text`; `file_name` only names the source in errors. Every field but
// gemm_efficiency is required; unknown fields are errors.
ClusterSpec parse_cluster_spec(const std::string &text,
                               const std::string &file_name);

ClusterSpec load_cluster_spec(const std::string &path);

// The spec as JSON that parse_cluster_spec reads back (llmc calibrate).
std::string format_cluster_spec(const ClusterSpec &spec);

} // namespace llmc::planner
