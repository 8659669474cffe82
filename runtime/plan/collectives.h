// Which collectives a plan kernel issues, on which mesh axis and how large:
// one table that `llmc explain`, the cost model and the plan verifier share.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <string>
#include <vector>

namespace llmc::plan {

enum class CollectiveKind { AllReduce, AllGather, ReduceScatter };

struct CollectiveCall {
  std::string axis;
  CollectiveKind kind;
  // The whole buffer: the all-reduced tensor, the all-gather's output, the
  // reduce-scatter's input (each rank's part is elements / axis size).
  int64_t elements;
  // Bytes an element: 2 for a bf16 all_gather (ZeRO-3 under bf16-mixed).
  uint64_t element_bytes = 4;
};

// "all_reduce", "all_gather", "reduce_scatter".
const char *collective_kind_name(CollectiveKind kind);

// True for kernels that only communicate (the table's collectives and the
// waits of non-blocking ones); the cost model counts no compute for them.
bool is_communication_kernel(const std::string &name);

// The collectives kernel `k` of `plan` issues, in order (the wait of a
// non-blocking one issues none: its start does).
std::vector<CollectiveCall> kernel_collectives(const planfile::Plan &plan,
                                               const planfile::Kernel &k);

// Bytes one rank sends in the call on `ranks` ranks, by the ring formulas
// the runtime's communicators count with (runtime/comm/communicator.h).
uint64_t ring_bytes_sent(const CollectiveCall &call, int ranks);

// Ranks of a mesh axis in `model`: dp, tp, pp, and "embedding" (the first
// and last pipeline stage).
int axis_size(const planfile::ModelInfo &model, const std::string &axis);

// Where world rank `rank` sits in a pp x dp x tp mesh: ranks are numbered
// stage-major, then dp, with tp ranks neighbours. The runtime's groups
// (runtime/mesh_group.cpp) and the verifier both use this.
struct MeshCoords {
  int64_t stage, dp, tp;
};
inline MeshCoords mesh_coords(int64_t rank, int64_t dp, int64_t tp) {
  return {rank / (tp * dp), rank / tp % dp, rank % tp};
}

} // namespace llmc::plan
