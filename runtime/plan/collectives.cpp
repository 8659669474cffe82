// Which collectives a plan kernel issues (see collectives.h).
#include "runtime/plan/collectives.h"

#include "runtime/comm/communicator.h"
#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/plan_file.h"

#include <algorithm>

namespace llmc::plan {
namespace {

std::string param_string(const planfile::Kernel &k, const char *name) {
  auto it = k.params().find(name);
  return it == k.params().end() ? std::string() : it->second.s();
}

int64_t elements(const planfile::Plan &plan, uint32_t tensor) {
  return num_elements(plan.tensors(int(tensor)));
}

} // namespace

const char *collective_kind_name(CollectiveKind kind) {
  switch (kind) {
  case CollectiveKind::AllReduce:
    return "all_reduce";
  case CollectiveKind::AllGather:
    return "all_gather";
  case CollectiveKind::ReduceScatter:
    return "reduce_scatter";
  }
  return "?";
}

bool is_communication_kernel(const std::string &name) {
  const kernels::KernelSpec *spec = kernels::find(name);
  return spec && spec->kind != kernels::KernelKind::Compute;
}

std::vector<CollectiveCall> kernel_collectives(const planfile::Plan &plan,
                                               const planfile::Kernel &k) {
  using kernels::KernelId;
  const kernels::KernelSpec *spec = kernels::find(k.name());
  std::string axis = param_string(k, "axis");
  std::vector<CollectiveCall> calls;
  if (!spec)
    return calls;
  switch (spec->id) {
  case KernelId::all_reduce_mean_start:
    for (uint32_t t : k.outs())
      calls.push_back({axis, CollectiveKind::AllReduce, elements(plan, t)});
    break;
  case KernelId::all_reduce_sum:
    calls.push_back(
        {axis, CollectiveKind::AllReduce, elements(plan, k.outs(0))});
    break;
  case KernelId::all_gather:
  case KernelId::all_gather_start:
  case KernelId::all_gather_inplace: {
    const planfile::Tensor &out = plan.tensors(int(k.outs(0)));
    calls.push_back({axis, CollectiveKind::AllGather, elements(plan, k.outs(0)),
                     out.dtype() == planfile::BF16 ? 2u : 4u});
    break;
  }
  case KernelId::reduce_scatter:
  case KernelId::reduce_scatter_start:
    calls.push_back(
        {axis, CollectiveKind::ReduceScatter, elements(plan, k.ins(0))});
    break;
  case KernelId::grad_norm: // the sums of squares over the split axes
    for (const char *param : {"axis", "zero_axis"})
      if (std::string a = param_string(k, param); !a.empty())
        calls.push_back({a, CollectiveKind::AllReduce, 1});
    break;
  default:
    break;
  }
  return calls;
}

uint64_t ring_bytes_sent(const CollectiveCall &call, int ranks) {
  uint64_t n = uint64_t(call.elements);
  uint64_t part = n / uint64_t(std::max(ranks, 1));
  switch (call.kind) {
  case CollectiveKind::AllReduce:
    return comm::ring_bytes::all_reduce(n, ranks, call.element_bytes);
  case CollectiveKind::AllGather:
    return comm::ring_bytes::all_gather(part, ranks, call.element_bytes);
  case CollectiveKind::ReduceScatter:
    return comm::ring_bytes::reduce_scatter(part, ranks, call.element_bytes);
  }
  return 0;
}

int axis_size(const planfile::ModelInfo &model, const std::string &axis) {
  int64_t n = axis == "dp"          ? model.dp()
              : axis == "tp"        ? model.tp()
              : axis == "pp"        ? model.pp()
              : axis == "embedding" ? std::min<int64_t>(model.pp(), 2)
                                    : 1;
  return int(std::max<int64_t>(n, 1));
}

} // namespace llmc::plan
