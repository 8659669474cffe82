// The CPU implementation of every plan kernel, by name. Kernel names, the
// order of their ins and outs and their parameters are declared in
// runtime/kernels/kernel_table.def, and every call is checked against it
// when a plan is loaded, so these functions read their operands unchecked.
#pragma once

#include "runtime/plan/plan.pb.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc {

class Executor;
struct OptimizerStep;

// One call of a plan kernel: its operands as arena pointers and shapes.
class KernelCall {
public:
  KernelCall(Executor &exec, const planfile::Kernel &kernel,
             const OptimizerStep &opt, int index = -1)
      : exec_(exec), kernel_(kernel), opt_(opt), index_(index) {}

  float *in(int i) const;
  float *out(int i) const;
  const int32_t *ids(int i) const; // an i32 input
  // An i32 input for the host to read (Executor::host_ids).
  const int32_t *host_ids(int i) const;
  const int8_t *i8(int i) const;     // an i8 input
  const uint16_t *bf16(int i) const; // a bf16 input, its bits
  bool in_is_bf16(int i) const;
  std::vector<int64_t> in_shape(int i) const;
  std::vector<int64_t> out_shape(int i) const;
  int64_t n_in(int i) const;
  int64_t n_out(int i) const;
  int num_ins() const { return kernel_.ins_size(); }
  int num_outs() const { return kernel_.outs_size(); }
  // A parameter the plan must carry; throws naming the kernel otherwise.
  const planfile::Param &param(const char *name) const;
  bool has_param(const char *name) const;
  // Whether the kernel's `math` is "bf16" (a bf16-mixed plan's GEMMs and
  // attention; validated when the plan is loaded).
  bool has_bf16_math() const;
  const OptimizerStep &opt() const { return opt_; }
  Executor &executor() const { return exec_; }
  // The kernel's index in the plan (-1 when called outside a plan's run).
  int index() const { return index_; }

private:
  Executor &exec_;
  const planfile::Kernel &kernel_;
  const OptimizerStep &opt_;
  int index_;
};

using KernelFn = void (*)(const KernelCall &);

// The CPU function of a kernel name, or nullptr when there is none.
KernelFn find_cpu_kernel(const std::string &name);

} // namespace llmc
