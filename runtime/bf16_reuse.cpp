#include "runtime/bf16_reuse.h"

#include "runtime/kernels/kernel_table.h"
#include "runtime/plan/plan_file.h"

#include <cstdint>

namespace llmc {
namespace {

bool is_bf16_matmul(const planfile::Kernel &k) {
  return kernels::is(k.name(), kernels::KernelId::matmul) &&
         plan::has_bf16_math(k);
}

// A tensor's bytes: where its buffer lies (stashed buffers in a space of
// their own, the stash slot) and how many bytes from there.
struct Bytes {
  bool stashed;
  uint64_t begin, end;
  bool overlaps(const Bytes &o) const {
    return stashed == o.stashed && begin < o.end && o.begin < end;
  }
  bool operator==(const Bytes &o) const {
    return stashed == o.stashed && begin == o.begin && end == o.end;
  }
};

Bytes operand_bytes(const planfile::Plan &plan, int tensor) {
  const planfile::Tensor &t = plan.tensors(tensor);
  const planfile::Buffer &b = plan.buffers(t.buffer());
  uint64_t n = 1;
  for (int64_t d : t.shape())
    n *= uint64_t(d);
  return {b.stashed(), b.offset(), b.offset() + 4 * n};
}

// Everything a kernel may write: each output's whole buffer.
bool writes(const planfile::Plan &plan, const planfile::Kernel &k,
            const Bytes &range) {
  for (int out : k.outs()) {
    const planfile::Buffer &b = plan.buffers(plan.tensors(out).buffer());
    if (range.overlaps({b.stashed(), b.offset(), b.offset() + b.size_bytes()}))
      return true;
  }
  return false;
}

} // namespace

Bf16Reuse find_bf16_reuse(const planfile::Plan &plan, int window) {
  const int n = plan.kernels_size();
  Bf16Reuse reuse;
  reuse.from.assign(size_t(n), {});
  reuse.last_use.assign(size_t(n), {-1, -1});
  bool found = false;
  for (int k = 0; k < n; ++k) {
    if (!is_bf16_matmul(plan.kernels(k)))
      continue;
    for (int s = 0; s < 2; ++s) {
      // A bf16 buffer (round_bf16's) is its own rounding.
      if (plan.tensors(plan.kernels(k).ins(s)).dtype() == planfile::BF16)
        continue;
      const Bytes range = operand_bytes(plan, plan.kernels(k).ins(s));
      for (int j = k - 1; j >= 0 && j >= k - window; --j) {
        const planfile::Kernel &earlier = plan.kernels(j);
        if (writes(plan, earlier, range))
          break; // written after any rounding before it
        if (!is_bf16_matmul(earlier))
          continue;
        int t = 0;
        while (t < 2 &&
               (plan.tensors(earlier.ins(t)).dtype() == planfile::BF16 ||
                !(operand_bytes(plan, earlier.ins(t)) == range)))
          ++t;
        if (t == 2)
          continue;
        const OperandRef chained = reuse.from[size_t(j)][size_t(t)];
        const OperandRef source = chained.valid() ? chained : OperandRef{j, t};
        reuse.from[size_t(k)][size_t(s)] = source;
        reuse.last_use[size_t(source.kernel)][size_t(source.slot)] = k;
        found = true;
        break;
      }
    }
  }
  return found ? reuse : Bf16Reuse{};
}

} // namespace llmc
